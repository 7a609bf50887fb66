"""Benchmark: the figures of tiny-ko-bert's model card, measured on data no pretraining step saw.

Usage:
    python benchmarks/tiny_ko_bert.py [--model DIR] [--reviews 5000] [--card | --out FILE.json]

Needs the data copies (KO_BERT_DATA, or the loader's cache/download). Writes
benchmarks/results/tiny_ko_bert.json (or --out, for a model that is not the shipped one, such as
run E of the card's run table: --model build/run-e/final --out benchmarks/results/tiny_ko_bert_run_e.json); with --card it also rewrites the generated part of
models/tiny-ko-bert/README.md (between the "metrics" markers) from that JSON.

Measured: held-out masked-token top-1/top-5 on reviews of held-out movies and on the held-out
chatbot questions, beside the frequency baseline (always guess the corpus' most frequent word
pieces) on the same masked positions; the pair head on held-out questions (true answer vs a
random one); fill-mask top-5 for the card's example sentences; load time; the training curve.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FILL_MASK = [
    "같이 [MASK] 보러 갈래?",
    "저녁에 [MASK] 시켜 먹자",
    "나는 학교[MASK] 갔다",
    "배우들 [MASK] 너무 좋았다",
    "이 영화 정말 [MASK].",
    "헤어진 [MASK] 보고 싶어",
]


def pair_accuracy(model, tokenizer, questions, answers, seed=0) -> float:
    """Pair head on (question, true answer) vs (question, another answer), 50/50."""
    import torch

    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, len(questions), 64):
        qs = questions[start:start + 64]
        true = answers[start:start + 64]
        swap = rng.random(len(qs)) < 0.5
        other = [answers[int(rng.integers(len(answers)))] for _ in qs]
        bs = [o if s else t for s, o, t in zip(swap, other, true)]
        enc = tokenizer(qs, bs, padding=True, truncation=True, max_length=64, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).seq_relationship_logits
        hits += int((logits.argmax(-1).numpy() == swap.astype(int)).sum())
    return round(hits / len(questions), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="model folder (default: the shipped models/tiny-ko-bert)")
    parser.add_argument("--reviews", type=int, default=5000, help="held-out reviews to sample")
    parser.add_argument("--card", action="store_true", help="rewrite the card's generated metrics section")
    parser.add_argument("--out", help="results JSON (default benchmarks/results/tiny_ko_bert.json); use another "
                                      "name for a model that is not the shipped one, e.g. a run of the card's table")
    args = parser.parse_args()
    if args.card and args.out:
        parser.error("--card describes the shipped model: it writes benchmarks/results/tiny_ko_bert.json, not --out")

    import torch
    from transformers import AutoTokenizer, BertForMaskedLM, BertForPreTraining, pipeline

    from helpers.data import load_chatbot_data
    from helpers.lesson import quiet_libraries
    from helpers.mlm_accuracy import masked_accuracy
    from helpers.pretrain import PretrainConfig, heldout_texts
    from helpers.reference import ensure_reference_model

    quiet_libraries(ci=True)
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    folder = Path(args.model) if args.model else ensure_reference_model()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    mlm = BertForMaskedLM.from_pretrained(folder).eval()
    load_s = time.perf_counter() - t0
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    config = PretrainConfig(**metrics["config"])
    frequent = tokenizer.convert_tokens_to_ids(metrics["most_frequent_tokens"])

    reviews, questions = heldout_texts(config)
    pick = np.random.default_rng(2026).permutation(len(reviews))[: args.reviews]
    sample = [reviews[i] for i in sorted(pick)]
    acc_reviews = masked_accuracy(mlm, tokenizer, sample, seed=0, frequent=frequent)
    acc_questions = masked_accuracy(mlm, tokenizer, questions, seed=0, frequent=frequent)
    total = acc_reviews["masked_tokens"] + acc_questions["masked_tokens"]
    combined = {k: round((acc_reviews[k] * acc_reviews["masked_tokens"] + acc_questions[k] * acc_questions["masked_tokens"])
                         / total, 4) for k in ("top1", "top5", "baseline_top1", "baseline_top5")}
    combined["masked_tokens"] = total

    fill = pipeline("fill-mask", model=mlm, tokenizer=tokenizer, top_k=5)
    examples = [{"text": t, "top5": [[r["token_str"], round(float(r["score"]), 3)] for r in fill(t)]} for t in FILL_MASK]

    chat = load_chatbot_data()
    held = chat[chat["question"].isin(set(questions))].drop_duplicates("question")
    pretraining = BertForPreTraining.from_pretrained(folder).eval()
    pair = pair_accuracy(pretraining, tokenizer, held["question"].tolist(), held["answer"].tolist())

    result = {
        "model": folder.name,
        "parameters": int(sum(p.numel() for p in mlm.parameters())),
        "safetensors_mb": round((folder / "model.safetensors").stat().st_size / 1e6, 1),
        "vocab_size": len(tokenizer),
        "load_seconds": round(load_s, 2),
        "heldout_reviews": {"sentences": len(sample), "of": len(reviews), **acc_reviews},
        "heldout_questions": {"sentences": len(questions), **acc_questions},
        "heldout_combined": combined,
        "pair_head_accuracy": {"questions": len(held), "accuracy": pair, "chance": 0.5},
        "fill_mask": examples,
        "curve": metrics["history"],
        "corpus": metrics["corpus"],
        "units": metrics["units"],
        "recipe": metrics["config"],
        "machine": {"cpu_threads": torch.get_num_threads(), "python": platform.python_version(),
                    "torch": torch.__version__},
    }
    out = Path(args.out) if args.out else HERE / "results" / "tiny_ko_bert.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("heldout_reviews", "heldout_questions", "heldout_combined",
                                             "pair_head_accuracy")}, ensure_ascii=False))
    if args.card:
        write_card_metrics(ROOT / "models" / "tiny-ko-bert" / "README.md", result)


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_card_metrics(card: Path, r: dict) -> None:
    """Replace the text between the card's metrics markers with tables rendered from ``r``."""
    from helpers.pretrain import idle_minutes

    rows = [
        "| held-out set | sentences | masked pieces | top-1 | top-5 | frequency baseline top-1 / top-5 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, key in (("NSMC reviews of held-out movies", "heldout_reviews"),
                       ("Chatbot_data held-out questions", "heldout_questions"), ("both", "heldout_combined")):
        a = r[key]
        n = a.get("sentences", r["heldout_reviews"]["sentences"] + r["heldout_questions"]["sentences"])
        rows.append(f"| {label} | {n:,} | {a['masked_tokens']:,} | **{pct(a['top1'])}** | {pct(a['top5'])} | "
                    f"{pct(a['baseline_top1'])} / {pct(a['baseline_top5'])} |")
    p = r["pair_head_accuracy"]
    rows += ["", f"Pair head (pooler) on {p['questions']} held-out questions, true answer vs a random one: "
                 f"**{pct(p['accuracy'])}** (chance 50 %).", "",
             "| input | top-5 (probability) |", "| --- | --- |"]
    for ex in r["fill_mask"]:
        rows.append(f"| {ex['text']} | " + ", ".join(f"{t} {s:.3f}" for t, s in ex["top5"]) + " |")
    rows += ["", "Training curve (held-out evaluation sample of the run: 1,600 reviews + 400 questions):", "",
             "| step | MLM loss (last 100 steps) | top-1 | top-5 | wall minutes |", "| --- | --- | --- | --- | --- |"]
    for h in r["curve"]:
        rows.append(f"| {h['step']:,} | {h['mlm_loss']:.3f} | {pct(h['top1'])} | {pct(h['top5'])} | "
                    f"{h['seconds'] / 60:.1f} |")
    rows += ["", f"Training time without pauses: about {idle_minutes(r['curve']):.0f} minutes for "
                 f"{r['curve'][-1]['step']:,} steps (the median time per step "
                 "between two evaluations, evaluations included). Wall minutes also count any time the build was "
                 "paused while another job had the machine."]
    text = card.read_text(encoding="utf-8")
    start, end = "<!-- metrics:start -->", "<!-- metrics:end -->"
    head, rest = text.split(start)
    _, tail = rest.split(end)
    card.write_text(head + start + "\n" + "\n".join(rows) + "\n" + end + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
