"""KorQuAD 1.0 (lesson 08): the lesson's results table, at the lesson's budget, on every test-article question (issue 23).

The split is :func:`helpers.qa.split_by_article` (20 % of the 140 articles by a hash of the title). Three
methods, as in the lesson: the lexical baseline (:mod:`helpers.qa.baseline`), the base model
(``$BERT_MODEL``, default tiny-ko-bert) fine-tuned with ``transformers.Trainer``, and the same
architecture from random weights, both with the lesson's recipe (:class:`helpers.qa.QAConfig`'s defaults,
which the lesson's parameters cell repeats; ``tests/test_qa.py`` checks they agree). Each is scored with
KorQuAD's EM and character F1 on the lesson's seeded test sample (the figures the lesson shows, if the
machine and thread count are the same) and on all questions of the test articles.

    python benchmarks/qa_bench.py            # about as long as the lesson (a few minutes on 2 cores)

Writes ``benchmarks/results/qa.json``. Model-dependent: re-run after the base model changes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RESULTS = ROOT / "benchmarks" / "results"
TEST_SAMPLE = 600  # the lesson's TEST_QUESTIONS


def log(msg) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(RESULTS / "qa.json"))
    args = parser.parse_args(argv)

    import torch

    from helpers import qa
    from helpers.data import load_korquad
    from helpers.lesson import quiet_libraries, seed_everything
    from helpers.models import display_name, load_model, resolve_model_name
    from helpers.qa.report import PUBLISHED

    quiet_libraries(ci=True)
    config = qa.QAConfig()
    seed_everything(config.seed)
    name = resolve_model_name(None)
    df = load_korquad()
    train_df, test_df = qa.split_by_article(df, config.test_percent, config.seed)
    pool = qa.seeded_order(train_df, config.seed)
    sample = qa.seeded_order(test_df, config.seed).head(TEST_SAMPLE)
    log(f"[qa] {display_name(name)}: {len(train_df):,} training questions ({train_df.title.nunique()} articles), "
        f"{len(test_df):,} test questions ({test_df.title.nunique()} articles)")

    torch.manual_seed(config.seed)
    tokenizer, model = load_model(name, head="question-answering")
    config = qa.QAConfig(base_model=name, max_length=qa.features.window_length(model, config.max_length))
    runs = {"lexical baseline": {"predict": lambda frame: qa.predict_lexical(frame), "train_seconds": 0.0}}
    models = {"pretrained": model, "random init": qa.random_init_like(model, seed=config.seed)}
    counts = {}
    for label, m in models.items():
        start = time.perf_counter()
        history, counts = qa.train_qa(m, tokenizer, pool, config)
        seconds = time.perf_counter() - start
        log(f"[qa] {label}: {counts['steps']} steps in {seconds:.0f} s, final loss {history.loss.iloc[-1]:.3f}")
        runs[label] = {"predict": lambda frame, m=m: qa.predict_frame(m, tokenizer, frame, config, threads=config.threads),
                       "train_seconds": round(seconds, 1), "final_loss": round(float(history.loss.iloc[-1]), 4)}
    results = {}
    for label, run in runs.items():
        start = time.perf_counter()
        on_sample = qa.score_frame(sample, run["predict"](sample))
        on_all = qa.score_frame(test_df, run["predict"](test_df))
        results[label] = {"lesson_sample": on_sample, "all_test_questions": on_all,
                          "train_seconds": run["train_seconds"], "eval_seconds": round(time.perf_counter() - start, 1),
                          **({"final_loss": run["final_loss"]} if "final_loss" in run else {})}
        log(f"[qa] {label}: sample EM {on_sample['exact_match']:.1f} F1 {on_sample['f1']:.1f}; all test questions "
            f"EM {on_all['exact_match']:.1f} F1 {on_all['f1']:.1f}")
    out = {"task": "KorQuAD 1.0 dev, split by article", "model": display_name(name),
           "config": {**asdict(config), "base_model": display_name(name)}, "training": counts,
           "split": qa.split_summary(train_df, test_df).to_dict(), "test_sample": len(sample),
           "torch_threads_training": config.threads, "results": results,
           "published": PUBLISHED.to_dict(orient="records"),
           "note": "published figures were trained on the 60,407-question KorQuAD 1.0 training set and scored on "
                   "all 5,774 dev questions; ours train on part of the dev set (training articles) only"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"[qa] wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
