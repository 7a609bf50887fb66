"""``python -m helpers.sbert build --out models/tiny-ko-sbert [--base DIR]``: rebuild the Sentence-BERT."""
from __future__ import annotations

import argparse
import dataclasses
import sys

from ..cache import ArtifactError
from ..data import DataError
from ..models import ModelNotAvailableError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.sbert",
        description="Build tiny-ko-sbert: a base BERT + mean pooling trained with sentence-transformers "
                    "(MultipleNegativesRankingLoss on paraphrase pairs, CoSENTLoss on KorSTS train).")
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="train and save a SentenceTransformer folder (seeded, deterministic)")
    p_build.add_argument("--out", required=True, help="output folder, e.g. models/tiny-ko-sbert")
    p_build.add_argument("--base", default=None,
                         help="base BERT: tiny-ko-bert (default, or $BERT_MODEL), a saved checkpoint folder or a hub id")
    p_build.add_argument("--threads", type=int, default=None, help="torch threads (default 1; the result depends on it)")
    p_build.add_argument("--max-steps", type=int, default=None, help="stop early (for a quick check)")
    args = parser.parse_args(argv)

    from .train import SbertConfig, build_sentence_model  # sentence-transformers: loaded only to build

    config = SbertConfig()
    if args.threads:
        config = dataclasses.replace(config, threads=args.threads)
    if args.max_steps:
        config = dataclasses.replace(config, max_steps=args.max_steps)
    try:
        build_sentence_model(args.out, args.base, config, log=lambda m: print(m, file=sys.stderr, flush=True))
    except (ModelNotAvailableError, ArtifactError, DataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
