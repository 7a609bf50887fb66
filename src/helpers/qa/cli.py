"""``python -m helpers.qa``: answer a question about a paragraph, score a SQuAD/KorQuAD file, or train (lesson 08).

    python -m helpers.qa ask --context TEXT --question TEXT [--model DIR | --method lexical]
    python -m helpers.qa eval FILE.json [--model DIR | --method lexical]
    python -m helpers.qa train [--quick] [--out DIR] [--model BASE] [--train-questions N] [--epochs E] [--lr LR]

``ask`` prints one JSON line ``{"answer", "start", "end", "score", "model"}`` (``start``/``end``: characters of
the context). ``eval`` prints one JSON line ``{"n", "exact_match", "f1", "model"}`` (KorQuAD's EM and
character F1, x100) for every question of a SQuAD v1.1 / KorQuAD 1.0 file. ``train`` fine-tunes on the
training articles of KorQuAD 1.0 dev, scores the test articles and saves to the default location (printed;
``<cache>/qa/korquad-<base>-<key>``) that ``ask`` and ``eval`` use, unless ``--out`` is given.
``--method lexical`` uses the model-free baseline (:mod:`helpers.qa.baseline`) instead of a trained model.
Bad input (missing file, not JSON, wrong shape, an answer_start that misses its text, an empty question,
no trained model) prints ``error: ...`` with a fix and exits with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys

LEXICAL = "lexical baseline"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.qa",
                                     description="KorQuAD machine reading comprehension: ask, eval, train.")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question about one paragraph")
    ask.add_argument("--context", required=True, help="the paragraph that holds the answer")
    ask.add_argument("--question", required=True)
    ev = sub.add_parser("eval", help="EM and F1 (KorQuAD's metric, x100) on a SQuAD/KorQuAD-format JSON file")
    ev.add_argument("file")
    for p in (ask, ev):
        p.add_argument("--model", dest="model_dir", help="a folder saved by `train` (default: the default location)")
        p.add_argument("--method", choices=("model", "lexical"), default="model",
                       help="model (default) or lexical: the model-free baseline")
        p.add_argument("--threads", type=int, help="torch threads (default: unchanged)")
    train = sub.add_parser("train", help="fine-tune the base BERT on the KorQuAD training articles and save it")
    train.add_argument("--out", help="folder to save to (default: the cache location ask/eval use)")
    train.add_argument("--model", dest="base_model", help="base BERT: hub id, folder or tiny-ko-bert (default $BERT_MODEL)")
    train.add_argument("--quick", action="store_true", help="300 questions, 1 epoch (about a minute)")
    train.add_argument("--train-questions", type=int, help="training questions (default 1500; 0 = all)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--threads", type=int, help="torch threads while training (default 1)")
    return parser


def _ask(args) -> dict:
    from .data import check_question

    question, context = check_question(args.question, args.context)
    if args.method == "lexical":
        from .baseline import lexical_answer

        found = lexical_answer(question, context)
        return {"answer": found["answer"], "start": found["start"], "end": found["end"], "score": None, "model": LEXICAL}
    from .store import default_dir, load_qa
    from .train import answer

    _quiet()
    tokenizer, model, meta = load_qa(args.model_dir)
    cfg = meta.get("config", {})
    found = answer(model, tokenizer, [question], [context], max_length=int(cfg.get("max_length", 128)),
                   stride=int(cfg.get("stride", 32)), max_answer_len=int(cfg.get("max_answer_len", 30)),
                   threads=args.threads)[0]
    return {"answer": found["answer"], "start": found["start"], "end": found["end"],
            "score": round(found["score"], 4), "model": str(args.model_dir or default_dir())}


def _eval(args) -> dict:
    from .data import read_squad
    from .metric import score_frame

    df = read_squad(args.file)
    if args.method == "lexical":
        from .baseline import predict_lexical

        return {**score_frame(df, predict_lexical(df)), "model": LEXICAL}
    from .store import default_dir, load_qa
    from .train import QAConfig, predict_frame

    _quiet()
    tokenizer, model, meta = load_qa(args.model_dir)
    cfg = meta.get("config", {})
    config = QAConfig(max_length=int(cfg.get("max_length", 128)), stride=int(cfg.get("stride", 32)),
                      max_answer_len=int(cfg.get("max_answer_len", 30)))
    preds = predict_frame(model, tokenizer, df, config, threads=args.threads)
    return {**score_frame(df, preds), "model": str(args.model_dir or default_dir())}


def _train(args) -> dict:
    from dataclasses import replace

    from .store import train_and_save
    from .train import QAConfig

    _quiet()
    base = QAConfig.quick() if args.quick else QAConfig()
    overrides = {k: v for k, v in {"base_model": args.base_model, "epochs": args.epochs, "lr": args.lr,
                                    "threads": args.threads}.items() if v is not None}
    if args.train_questions is not None:
        overrides["train_questions"] = args.train_questions or None
    path = train_and_save(replace(base, **overrides), args.out, log=lambda msg: print(msg, file=sys.stderr))
    return {"saved": str(path)}


def _quiet() -> None:
    """No load reports (progress bars stay unless CI is set); only before a model is loaded, so that bad
    input is refused without importing transformers."""
    from ..lesson import quiet_libraries

    quiet_libraries(ci=False)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from ..models import ModelNotAvailableError
    from .data import QAError

    try:
        result = {"ask": _ask, "eval": _eval, "train": _train}[args.command](args)
    except (QAError, ModelNotAvailableError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0
