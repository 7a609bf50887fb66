"""``python -m helpers.classify``: train the NSMC sentiment model, or score it on a labelled file (lesson 05).

    python -m helpers.classify train [--quick] [--out DIR] [--model BASE] [--train-size N] [--epochs E]
    python -m helpers.classify eval FILE.tsv [--model DIR]

``train`` saves to the default location (printed; ``<cache>/sentiment/nsmc-<base>-<key>``, the cache being
``$KO_BERT_CACHE`` or ``~/.cache/ko-bert-lessons``) unless ``--out`` is given. ``eval`` prints one JSON line
``{"n": ..., "accuracy": ..., "model": ...}``. A bad file or a missing model prints ``error: ...`` with a fix
and exits with status 2 (no traceback).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from ..lesson import quiet_libraries
from .model import SentimentConfig, SentimentModelError, evaluate_file, train_sentiment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.classify",
                                     description="NSMC sentiment: fine-tune the [CLS] classifier, or score it on a file.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="fine-tune the base BERT on NSMC (training movies) and save it")
    train.add_argument("--out", help="folder to save to (default: the cache location eval uses)")
    train.add_argument("--model", dest="base_model", help="base BERT: hub id, folder or tiny-ko-bert (default $BERT_MODEL)")
    train.add_argument("--quick", action="store_true", help="2,000 reviews, 1 epoch (minutes)")
    train.add_argument("--train-size", type=int, help="balanced training reviews (default 150000)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--threads", type=int, help="torch threads (default 1)")
    ev = sub.add_parser("eval", help="accuracy of the sentiment model on a TSV with columns document, label (0/1)")
    ev.add_argument("file")
    ev.add_argument("--model", dest="model_dir", help="a folder saved by `train` (default: the default location)")
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    quiet_libraries(ci=False)  # no load reports (progress bars stay unless CI is set)
    try:
        if args.command == "train":
            base = SentimentConfig.quick() if args.quick else SentimentConfig()
            overrides = {k: v for k, v in {"base_model": args.base_model, "train_size": args.train_size,
                                            "epochs": args.epochs, "lr": args.lr, "threads": args.threads}.items()
                         if v is not None}
            path = train_sentiment(replace(base, **overrides), args.out,
                                   log=lambda msg: print(msg, file=sys.stderr))
            print(json.dumps({"saved": str(path)}, ensure_ascii=False))
        else:
            print(json.dumps(evaluate_file(args.file, args.model_dir), ensure_ascii=False))
    except (SentimentModelError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
