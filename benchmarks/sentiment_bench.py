"""NSMC sentiment on the held-out movies: pretrained vs random init vs TF-IDF + LR vs majority (issue 13).

The split is :func:`helpers.classify.sentiment.nsmc_split`: balanced training reviews from the movies
tiny-ko-bert pretrained on, and every review of the movies it never saw as the test set. The pretrained
model is fine-tuned by the same code as ``python -m helpers.classify train`` (and saved where
``python -m helpers.classify eval`` finds it); the random-init control has the same architecture,
tokenizer, recipe and budget. A learning curve over smaller nested training sets follows.

    python benchmarks/sentiment_bench.py --quick      # minutes: 2,000 reviews, a 3,000-review test sample
    python benchmarks/sentiment_bench.py              # full: 150k reviews, all held-out reviews (hours)
    python benchmarks/sentiment_bench.py --workers 2  # run the fine-tunes two at a time (one core each)

Writes ``benchmarks/results/sentiment.json`` (``sentiment-quick.json`` with --quick). Model-dependent:
re-run after the base model changes. Targets (issue 13, full run): pretrained beats TF-IDF + LR, and is
at least 5 accuracy points above random init; the JSON says whether they are met.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

RESULTS = ROOT / "benchmarks" / "results"


def log(msg) -> None:
    print(msg, file=sys.stderr, flush=True)


def _job(kind: str, size: int, config_dict: dict, split, test, out: str | None) -> dict:
    """One fine-tune in a worker process: ``kind`` is "pretrained" (saved via train_sentiment) or "random init"."""
    import torch
    from scipy.special import softmax

    from helpers.classify import sentiment
    from helpers.classify.model import SentimentConfig, load_sentiment, train_sentiment
    from helpers.models import load_model

    config_dict = dict(config_dict)
    min_examples, full_size = config_dict.pop("min_examples"), config_dict.pop("full_size")
    torch.set_num_threads(config_dict["threads"])
    config = SentimentConfig(**{**config_dict, "train_size": size})
    epochs = sentiment.epochs_for(size, config.epochs, min_examples)
    config = replace(config, epochs=epochs)
    start, cpu = time.perf_counter(), time.process_time()
    if kind == "pretrained" and out is not None:  # the full run: the model `eval` scores
        path = train_sentiment(config, out, split=split, log=log)
        tokenizer, model, _ = load_sentiment(path)
        logits = sentiment.predict_logits(model, tokenizer, test["document"], max_len=config.max_len, threads=config.threads)
        probs = softmax(logits, axis=-1)
        result = sentiment.scores(test["label"], probs.argmax(-1), labels=(0, 1))
        result.update(saved_model=str(path))
    else:
        torch.manual_seed(config.seed)
        tokenizer, model = load_model(config.base_model, head="classification", num_labels=2)
        if kind == "random init":
            model = sentiment.random_init_like(model, config.seed)
        r = sentiment.run_bert(model, tokenizer, split.train.iloc[:size], split.val, test, epochs=epochs, lr=config.lr,
                               batch_size=config.batch_size, max_len=config.max_len, seed=config.seed,
                               threads=config.threads)
        probs = r.pop("probs")
        result = {k: v for k, v in r.items() if k != "history"}
    result.update(kind=kind, size=size, epochs=epochs, seconds=round(time.perf_counter() - start, 1),
                  cpu_seconds=round(time.process_time() - cpu, 1))  # CPU time: the estimate on a shared machine
    log(f"[bench] {kind} @ {size:,}: accuracy {result['accuracy']:.4f} ({result['seconds']:.0f} s)")
    return {"result": result, "probs": probs.tolist() if kind == "pretrained" and size == full_size else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 training reviews, 3,000 test reviews, 1 epoch")
    parser.add_argument("--model", help="base BERT (default $BERT_MODEL, else tiny-ko-bert)")
    parser.add_argument("--train-size", type=int, help="full-run training reviews (default 150000)")
    parser.add_argument("--sizes", help="learning-curve sizes, comma-separated (default 500,2000,5000,20000)")
    parser.add_argument("--epochs", type=int, help="epochs (default 2; small sets get more, see epochs_for)")
    parser.add_argument("--workers", type=int, default=1, help="fine-tunes run in parallel (one core each)")
    parser.add_argument("--out", help="results JSON (default benchmarks/results/sentiment[-quick].json)")
    args = parser.parse_args(argv)

    os.environ.setdefault("TQDM_DISABLE", "1")
    from helpers import cache
    from helpers.classify import sentiment
    from helpers.classify.model import SentimentConfig, _base_identity, default_dir
    from helpers.lesson import quiet_libraries

    quiet_libraries(True)
    t0 = time.perf_counter()
    if args.quick:
        config = SentimentConfig.quick(base_model=args.model)
        sizes, test_size, min_examples = [500, 1000], 3000, 1000
        save_to = cache.cache_root("sentiment") / "bench-quick"
    else:
        config = SentimentConfig(base_model=args.model)
        sizes, test_size, min_examples = [500, 2000, 5000, 20000], None, 4000
        save_to = default_dir(args.model)
    if args.train_size:
        config = replace(config, train_size=args.train_size)
    if args.epochs:
        config = replace(config, epochs=args.epochs)
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    sizes = [s for s in sizes if s < config.train_size]
    full = config.train_size
    log(f"[bench] loading NSMC (train {full:,}, test {'all held-out' if test_size is None else test_size})")
    split = sentiment.nsmc_split(train_size=full, val_size=config.val_size, test_size=test_size, seed=config.seed)
    test = split.test
    log(f"[bench] split: {split.stats}")

    results = {"majority class": sentiment.run_majority(split)}
    tfidf_curve = {}
    for size in sizes + [full]:
        r = sentiment.run_tfidf(split.train.iloc[:size], test)
        tfidf_probs = r.pop("probs")
        tfidf_curve[size] = r
        log(f"[bench] TF-IDF + LR @ {size:,}: accuracy {r['accuracy']:.4f} ({r['seconds']:.0f} s)")
    results["TF-IDF + LR"] = tfidf_curve[full]

    cfg = {**asdict(config), "min_examples": min_examples, "full_size": full}
    jobs = [("pretrained", full), ("random init", full)] + [(k, s) for s in sizes for k in ("pretrained", "random init")]
    outputs = []
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_job, k, s, dict(cfg), split, test, str(save_to) if (k, s) == ("pretrained", full) else None)
                       for k, s in jobs]
            outputs = [f.result() for f in futures]
    else:
        outputs = [_job(k, s, dict(cfg), split, test, str(save_to) if (k, s) == ("pretrained", full) else None)
                   for k, s in jobs]
    by = {(o["result"]["kind"], o["result"]["size"]): o for o in outputs}
    results["pretrained"] = by[("pretrained", full)]["result"]
    results["random init"] = by[("random init", full)]["result"]
    bert_probs = by[("pretrained", full)]["probs"]

    import numpy as np

    table, counts = sentiment.disagreements(test["document"], test["label"], tfidf_probs, np.asarray(bert_probs), n=8)
    curve = []
    for size in sizes + [full]:
        curve.append({"size": size, "learner": "TF-IDF + LR", "accuracy": tfidf_curve[size]["accuracy"]})
        for kind in ("pretrained", "random init"):
            r = by[(kind, size)]["result"]
            curve.append({"size": size, "learner": kind, "accuracy": r["accuracy"], "epochs": r["epochs"]})
    gap = 100 * (results["pretrained"]["accuracy"] - results["random init"]["accuracy"])
    targets = {"pretrained_beats_tfidf": results["pretrained"]["accuracy"] > results["TF-IDF + LR"]["accuracy"],
               "pretrained_minus_random_points": round(gap, 2), "at_least_5_points_over_random": gap >= 5}
    report = {
        "mode": "quick" if args.quick else "full", **_base_identity(args.model), "config": asdict(config),
        "learning_curve_sizes": sizes, "split": split.stats, "results": results, "learning_curve": curve,
        "targets": targets, "disagreements": counts, "disagreement_examples": table.to_dict("records"),
        "published_nsmc_for_context": list(sentiment.PUBLISHED_NSMC),
        "workers": args.workers, "threads_per_fine_tune": config.threads,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = Path(args.out) if args.out else RESULTS / ("sentiment-quick.json" if args.quick else "sentiment.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, out)
    log(f"[bench] wrote {out} in {report['seconds']:.0f} s; targets: {targets}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
