"""Learning curves of tiny-ko-sbert candidate recipes on one table, with the floors to beat (issue 22).

Run from the repository root (each candidate trains for minutes to tens of minutes on one thread):

    KO_BERT_DATA=... CHATBOT_DATA=... HF_HUB_OFFLINE=1 python benchmarks/sbert_curve.py --candidates baseline rounds8
    python benchmarks/sbert_curve.py --candidates rounds16 --base models/some-bert   # another base BERT
    python benchmarks/sbert_curve.py --report                                         # the markdown table

Every candidate of :data:`CANDIDATES` is tiny-ko-sbert v1's recipe (:data:`V1_RECIPE` over
:class:`helpers.sbert.train.SbertConfig`) with a few fields changed; a candidate that drops a training
source is a probe, reported and never chosen (a source cannot be chosen on one source's own dev set). It is built by :func:`helpers.sbert.train.build_sentence_model` into
``build/sbert-curve/<name>`` with KorSTS dev evaluated every ``--eval-steps`` steps (the curve) and,
where the candidate says so, the weights of its best dev step kept (``keep_best``). The built folder
is reused when its ``training.json`` already holds the same recipe and base (``--rebuild`` forces a
new build). Then the saved model is measured on the same sets as ``benchmarks/sbert_bench.py``
(whose functions are imported, not copied):

- KorSTS dev: the **selection** set. It is the only column that may choose a recipe, and with
  ``keep_best`` the step of a candidate (so a kept step's dev figure is optimistic: it won a selection);
- KorSTS test, Question_pair test (ROC AUC ×100 of the cosine, as a bi-encoder), ParaKQC paraphrase
  retrieval (each of its 10,000 sentences finds a paraphrase of its own set among all the others;
  top-1 / MRR; held out only for candidates that do not train on ParaKQC, marked † otherwise)
  and the chatbot's sets (both paraphrase sets and leave-one-out, top-1 of the ``sbert`` method):
  **reported, never used to choose** anything, so that they stay honest estimates.

The floors, measured once per base and stored with the candidates: mean pooling of the base BERT,
whitened mean pooling (whitening fitted on 3,000 KorSTS train sentences) and character TF-IDF
(on KorSTS fitted on those same sentences, as in lesson 02's table; on the other sets the chatbot's
``TfidfEncoder`` fitted on the evaluated set's own texts, which is what the chatbot's ``tfidf`` does).

Writes ``benchmarks/results/sbert_curve.json``, merged per candidate (candidates can be run in separate
invocations): recipe, base, steps, best step, the dev curve, wall and CPU seconds of training and of
measuring, torch threads, and every figure. ``--max-steps`` (a toy check) adds ``-max<N>`` to the
candidate's name, so it never overwrites a full run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from sbert_bench import chatbot_metrics, chatbot_scores, chatbot_sets, dense_index, encoder_of, question_pair_auc

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "sbert_curve.json"
BUILD = ROOT / "build" / "sbert-curve"
DEFAULT_BASE = "tiny-ko-bert"
EVAL_STEPS = 100
NO_KORSTS = ("parakqc", "question_pair", "chatbot")

# The recipe every candidate changes: tiny-ko-sbert v1's (the SbertConfig defaults until issue 22 chose
# rounds16-lr4e-4). Candidates stay what they were measured as whatever the shipped defaults become.
V1_RECIPE = {"rounds": 2, "learning_rate": 2e-4, "keep_best": False}

# name -> (overrides of V1_RECIPE, what the candidate asks). Candidates to try, not a list to finish.
# A candidate whose overrides change ``sources`` is a probe (what does a source bring?): it is reported,
# never chosen, because a source cannot be chosen on the dev set of one of the sources.
CANDIDATES = {
    "baseline": ({}, "tiny-ko-sbert v1's recipe (2 rounds, lr 2e-4), curve only: watching does not change the "
                     "run, so it ends with the weights v1's build gives on this base"),
    "rounds8": ({"rounds": 8, "keep_best": True}, "4x the shipped steps, best dev step kept"),
    "rounds16": ({"rounds": 16, "keep_best": True}, "8x the shipped steps, best dev step kept"),
    "rounds8-lr1e-4": ({"rounds": 8, "learning_rate": 1e-4, "keep_best": True},
                       "rounds8 at half its learning rate (rounds8 uses v1's 2e-4)"),
    "rounds8-lr4e-4": ({"rounds": 8, "learning_rate": 4e-4, "keep_best": True},
                       "rounds8 at twice its learning rate"),
    "rounds16-lr4e-4": ({"rounds": 16, "learning_rate": 4e-4, "keep_best": True},
                        "rounds16 at twice its learning rate (the two best mixed candidates combined)"),
    "no-korsts": ({"rounds": 8, "sources": NO_KORSTS, "keep_best": True},
                  "rounds8 without KorSTS train: do the paraphrase pairs alone carry to KorSTS?"),
    "korsts-only": ({"rounds": 8, "sources": ("korsts",), "keep_best": True},
                    "KorSTS train only (CoSENT, 8 epochs): fitting KorSTS vs carrying to other domains"),
    "no-parakqc": ({"rounds": 8, "sources": ("question_pair", "chatbot", "korsts"), "keep_best": True},
                   "rounds8 without ParaKQC, so that ParaKQC retrieval is an unseen set"),
}


# --------------------------------------------------------------------------- measuring
def korsts_pairs(split: str):
    from helpers.data import load_korsts

    df = load_korsts(split)
    return list(df["sentence1"]), list(df["sentence2"]), list(df["score"])


def korsts_reference() -> list[str]:
    """The KorSTS train sentences the baselines are fitted on (as in ``sbert_bench.measure`` and lesson 02)."""
    from helpers import similarity
    from helpers.data import load_korsts

    return list(dict.fromkeys(load_korsts("train")["sentence1"]))[:similarity.KORSTS_REFERENCE]


def parakqc_retrieval(model, chunk: int = 500) -> dict:
    """ParaKQC as retrieval: each sentence is a query against all 10,000 (rows with its own text hidden);
    the "answer" is its paraphrase set. Top-1 / top-5 / MRR by the chatbot's rank rule (a set scores as
    its best sentence; near-ties by corpus order). ``model``: a SentenceTransformer or ``texts -> vectors``
    (dense, or a sparse matrix with L2-normalised rows)."""
    from scipy import sparse

    from helpers import chatbot
    from helpers.data import load_parakqc

    df = load_parakqc()
    texts, groups = list(df["sentence"]), [str(s) for s in df["set_id"]]
    rows_of = defaultdict(list)
    for i, text in enumerate(texts):
        rows_of[text].append(i)
    vectors = encoder_of(model)(texts)
    corpus_t = vectors.T.tocsr() if sparse.issparse(vectors) else np.asarray(vectors, dtype=np.float32).T
    ranks = []
    for start in range(0, len(texts), chunk):
        stop = min(start + chunk, len(texts))
        scores = vectors[start:stop] @ corpus_t
        scores = scores.toarray() if sparse.issparse(scores) else scores
        ranks.append(chatbot.ranks_from_scores(scores, groups, groups[start:stop],
                                               [rows_of[texts[i]] for i in range(start, stop)]))
    return chatbot.metrics(np.concatenate(ranks))


def tfidf_encoder(fit_texts, dense: bool = True):
    """Character TF-IDF (the chatbot's ``TfidfEncoder``) fitted on ``fit_texts``, as ``texts -> rows``."""
    from helpers.chatbot import TfidfEncoder

    encoder = TfidfEncoder()
    encoder.fit_transform(list(fit_texts))
    return lambda texts: encoder.transform(list(texts)).toarray() if dense else encoder.transform(list(texts))


def whitened_encoder(bert, tokenizer, reference):
    """Whitened mean pooling of a plain BERT (fitted on ``reference``) as ``texts -> L2-normalised vectors``."""
    from helpers.similarity import Whitening, sentence_vectors

    white = Whitening().fit(sentence_vectors(bert, tokenizer, list(reference), "mean"))

    def encode(texts):
        vectors = white.transform(sentence_vectors(bert, tokenizer, list(texts), "mean"))
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors.astype(np.float32)

    return encode


def measure_floors(base: str, log=print) -> dict:
    """Mean pooling, whitened mean pooling and character TF-IDF on every set of the table."""
    import torch

    import helpers
    from helpers import chatbot, similarity
    from helpers.data import load_parakqc, load_question_pair
    from helpers.sbert import load_sentence_model

    start, cpu = time.perf_counter(), time.process_time()
    tokenizer, bert = helpers.load_model(base)
    reference = korsts_reference()
    sts = {split: similarity.sts_baselines(bert, tokenizer, *korsts_pairs(split), reference) for split in ("dev", "test")}
    questions, answers, sets = chatbot_sets()
    qp = load_question_pair("test")
    encoders = {"mean": load_sentence_model(base), "whitened mean": whitened_encoder(bert, tokenizer, reference)}
    floors = {}
    for name, encoder in encoders.items():
        floors[name] = {"korsts": {split: sts[split][name] for split in sts}, "question_pair_test": question_pair_auc(encoder),
                        "parakqc": parakqc_retrieval(encoder),
                        "chatbot": chatbot_scores(dense_index(encoder, questions, answers, name), sets)}
        log(f"[curve] floor {name}: {json.dumps(floors[name], ensure_ascii=False)}")
    floors["char TF-IDF"] = {
        "korsts": {split: sts[split]["char TF-IDF"] for split in sts},
        "question_pair_test": question_pair_auc(tfidf_encoder(list(qp["question1"]) + list(qp["question2"]))),
        "parakqc": parakqc_retrieval(tfidf_encoder(load_parakqc()["sentence"], dense=False)),
        "chatbot": chatbot_scores(chatbot.build_index("tfidf", None, questions, answers), sets)}
    log(f"[curve] floor char TF-IDF: {json.dumps(floors['char TF-IDF'], ensure_ascii=False)}")
    floors["measure_seconds"] = round(time.perf_counter() - start, 1)
    floors["measure_cpu_seconds"] = round(time.process_time() - cpu, 1)
    floors["torch_threads"] = torch.get_num_threads()
    return floors


def measure_candidate(model_dir: Path, training: dict) -> dict:
    """The table's figures for one built candidate, plus its training record."""
    import torch

    from helpers import similarity
    from helpers.sbert import load_sentence_model

    start, cpu = time.perf_counter(), time.process_time()
    sbert = load_sentence_model(str(model_dir))
    sources = training["recipe"]["sources"]
    row = {"base_model": training["base_model"], "recipe": training["recipe"], "steps": training["steps"],
           "best_step": training.get("best_step"), "stopped_early": training.get("stopped_early", False),
           "dev_curve": training.get("dev_curve", []), "train_seconds": training["train_seconds"],
           "train_cpu_seconds": training["train_cpu_seconds"], "eval_seconds": training.get("eval_seconds"),
           "torch_threads": training["torch_threads"],
           "korsts": {split: similarity.sts_correlations(sbert, *korsts_pairs(split)) for split in ("dev", "test")},
           "question_pair_test": question_pair_auc(sbert), "parakqc": parakqc_retrieval(sbert),
           "trained_on_parakqc": "parakqc" in sources, "chatbot": chatbot_metrics(sbert, tfidf=False)["sbert"]}
    row["measure_seconds"] = round(time.perf_counter() - start, 1)
    row["measure_cpu_seconds"] = round(time.process_time() - cpu, 1)
    row["measure_torch_threads"] = torch.get_num_threads()
    return row


# --------------------------------------------------------------------------- building
def candidate_config(name: str, eval_steps: int, threads: int, max_steps: int | None):
    from helpers.sbert.train import SbertConfig

    overrides = {**V1_RECIPE, **CANDIDATES[name][0]}
    return SbertConfig(**{**overrides, "eval_steps": eval_steps, "threads": threads, "max_steps": max_steps})


def is_probe(row: dict) -> bool:
    """A candidate trained on fewer than all the shipped sources: reported, never chosen."""
    from helpers.sbert.train import SOURCES

    return tuple(row["recipe"]["sources"]) != tuple(SOURCES)


def candidate_key(name: str, base: str, max_steps: int | None) -> str:
    """The candidate's name in the results and its folder: ``<name>[@<base folder>][-max<N>]``."""
    from helpers.models import display_name

    key = name if base == DEFAULT_BASE else f"{name}@{display_name(base).removeprefix('local:').replace('/', '_')}"
    return key + (f"-max{max_steps}" if max_steps else "")


def build_or_reuse(folder: Path, base: str, config, rebuild: bool, log=print) -> dict:
    """Build the candidate into ``folder`` unless a build of the same recipe and base is already there."""
    from helpers.models import display_name
    from helpers.sbert.train import build_sentence_model

    recipe = json.loads(json.dumps(dataclasses.asdict(config)))
    info = folder / "training.json"
    if info.is_file() and not rebuild:
        old = json.loads(info.read_text(encoding="utf-8"))
        if old.get("recipe") == recipe and old.get("base_model") == display_name(base):
            log(f"[curve] reusing {folder} (same recipe and base; --rebuild to train again)")
            return old
    build_sentence_model(folder, base, config, log=log)
    return json.loads(info.read_text(encoding="utf-8"))


def load_results(path: Path) -> dict:
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"about": "benchmarks/sbert_curve.py: tiny-ko-sbert candidate recipes; KorSTS dev selects, "
                     "every other set is reported only", "floors": {}, "candidates": {}}


def save_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- the report
def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def _num(x) -> str:
    return "—" if x is None else f"{x:.2f}"


def report(results: dict) -> str:
    """The markdown table (floors first, then candidates by KorSTS dev, the selection column) and the dev curves."""
    from helpers import ranking

    head = ("| candidate | sources | steps | best step | **KorSTS dev** (selects) | KorSTS test | QP AUC | "
            "ParaKQC top-1 | chatbot hard top-1 | natural top-1 | leave-one-out top-1 | train s (CPU s) |")
    lines = []
    by_base = defaultdict(list)
    for key, row in results["candidates"].items():
        by_base[row["base_model"]].append(key)
    for base in sorted(set(by_base) | set(results["floors"])):
        lines += [f"### base: {base}", "", head, "|" + " --- |" * 12]
        floors = results["floors"].get(base, {})
        for name in ("mean", "whitened mean", "char TF-IDF"):
            if name not in floors:
                continue
            f = floors[name]
            lines.append(f"| floor: {name} | — | — | — | {_num(f['korsts']['dev'])} | {_num(f['korsts']['test'])} | "
                         f"{_num(f['question_pair_test']['roc_auc'])} | {_pct(f['parakqc']['top1'])} | "
                         + " | ".join(_pct(f["chatbot"][s]["top1"]) for s in ("hard", "natural", "leave_one_out"))
                         + " | — |")
        keys = by_base.get(base, [])
        dev = [results["candidates"][k]["korsts"]["dev"]["spearman"] for k in keys]
        for i in ranking.order(dev, keys=list(range(len(keys)))):
            key, row = keys[i], results["candidates"][keys[i]]
            sources = "+".join(row["recipe"]["sources"]) if len(row["recipe"]["sources"]) < 4 else "all four"
            mark = "†" if row["trained_on_parakqc"] else ""
            lines.append(f"| {key} | {sources} | {row['steps']:,} | {row['best_step'] or '—'} | "
                         f"{_num(row['korsts']['dev']['spearman'])} | {_num(row['korsts']['test']['spearman'])} | "
                         f"{_num(row['question_pair_test']['roc_auc'])} | {_pct(row['parakqc']['top1'])}{mark} | "
                         + " | ".join(_pct(row["chatbot"][s]["top1"]) for s in ("hard", "natural", "leave_one_out"))
                         + f" | {row['train_seconds']:.0f} ({row['train_cpu_seconds']:.0f}) |")
        lines.append("")
        eligible = [i for i in ranking.order(dev, keys=list(range(len(keys))))
                     if not is_probe(results["candidates"][keys[i]])]
        if eligible:
            best = keys[eligible[0]]
            row = results["candidates"][best]
            test = row["korsts"]["test"]["spearman"]
            verdicts = [f"{'above' if test > floors[n]['korsts']['test'] else 'not above'} {n} ({_num(floors[n]['korsts']['test'])})"
                        for n in ("whitened mean", "char TF-IDF") if n in floors]
            lines.append(f"Chosen by KorSTS dev among the candidates trained on every source: **{best}** (dev {_num(row['korsts']['dev']['spearman'])}); KorSTS test "
                         f"{_num(test)}" + (f", {' and '.join(verdicts)}" if verdicts else "") + ".")
            lines.append("")
            lines.append("Dev curves (step: KorSTS dev Spearman ×100; step 0 is the base before training):")
            for key in keys:
                curve = results["candidates"][key]["dev_curve"]
                lines.append(f"- {key}: " + ", ".join(f"{p['step']}: {p['spearman']:.2f}" for p in curve))
            lines.append("")
    lines += ["KorSTS dev is the only selection column; KorSTS test, Question_pair test, ParaKQC and the chatbot's "
              "sets are reported, never used to choose. A candidate that drops a source is a probe: reported, not "
              "chosen. † trained on ParaKQC (not held out). Chatbot and ParaKQC: "
              "top-1 in %; QP AUC: ROC AUC ×100 of the cosine for \"same question\"."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="*", default=[], choices=sorted(CANDIDATES), metavar="NAME",
                        help=f"candidates to build and measure: {', '.join(CANDIDATES)}")
    parser.add_argument("--base", default=DEFAULT_BASE, help="base BERT: tiny-ko-bert (default) or a checkpoint folder")
    parser.add_argument("--eval-steps", type=int, default=EVAL_STEPS, help="KorSTS dev every N steps (default 100)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the shipped recipe)")
    parser.add_argument("--max-steps", type=int, default=None, help="a toy check: stop each build after N steps")
    parser.add_argument("--rebuild", action="store_true", help="train again even if the folder holds this recipe")
    parser.add_argument("--refresh-floors", action="store_true", help="measure the floors again for this base")
    parser.add_argument("--results", type=Path, default=OUT, help="the JSON to merge into (default benchmarks/results/)")
    parser.add_argument("--build-root", type=Path, default=BUILD, help="where candidates are built (default build/sbert-curve)")
    parser.add_argument("--report", action="store_true", help="print the markdown table of the stored results")
    args = parser.parse_args(argv)
    if not args.candidates and not args.report:
        parser.error("name --candidates to run, or --report")

    results = load_results(args.results)
    if args.candidates:
        import helpers
        from helpers.models import display_name

        helpers.setup("sbert-curve", threads=args.threads)
        log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        base_name = display_name(args.base)
        if args.refresh_floors or base_name not in results["floors"]:
            results["floors"][base_name] = measure_floors(args.base, log)
            save_results(args.results, results)
        for name in args.candidates:
            key = candidate_key(name, args.base, args.max_steps)
            config = candidate_config(name, args.eval_steps, args.threads, args.max_steps)
            log(f"[curve] {key}: {CANDIDATES[name][1]}")
            training = build_or_reuse(args.build_root / key, args.base, config, args.rebuild, log)
            row = measure_candidate(args.build_root / key, training)
            row["description"] = CANDIDATES[name][1]
            results["candidates"][key] = row
            save_results(args.results, results)  # after every candidate: an interrupted run keeps what it measured
            log(f"[curve] {key}: dev {row['korsts']['dev']['spearman']}, test {row['korsts']['test']['spearman']}, "
                f"best step {row['best_step']}, {row['steps']} steps, {row['train_seconds']:.0f} s")
        print(f"wrote {args.results}")
    if args.report:
        print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
