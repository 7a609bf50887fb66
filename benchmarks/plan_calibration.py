"""Calibrate the time estimates of lesson plans (:mod:`helpers.runtime.plans`) on real fine-tuning runs (issue 19).

Run from the repository root, with the machine to itself (``build/timed``; about 5 minutes of runs in all):

    python benchmarks/plan_calibration.py --cases tiny      # tiny-ko-bert, 10 cases, about 1.5 minutes
    python benchmarks/plan_calibration.py --cases base      # a BERT-base-shaped random checkpoint, about 3 minutes
    python benchmarks/plan_calibration.py --report          # the current constants' estimates vs the measurements

Each case runs one of the suite's own functions the way a lesson calls it (the lesson's batch size,
length and threads: training on 1 thread, as ``fine_tune``, ``train_ner`` and ``QAConfig`` default to) on
a slice of the lesson's data, and times it end to end (loading the model and the data excluded):

- ``sentiment``: :func:`helpers.classify.fine_tune` (the Accelerate loop of lessons 05-06), batch 32, up to
  64 tokens, with its validation pass;
- ``korquad``: :func:`helpers.qa.train_qa` (transformers' ``Trainer``, lesson 08), batch 32 x 128 tokens;
- ``ner``: :func:`helpers.ner.train_ner` (``Trainer``, lesson 07), batch 16, up to 128 tokens;
- ``*-eval``: scoring after training: :func:`helpers.qa.predict_logits` (1 thread, as lesson 08) and
  :func:`helpers.ner.predict_chars` (the session's 2 threads, as lesson 07);
- ``tiny-*-long``: the tiny cases about 5x longer (what a run costs once vs per token).

Two checkpoints: ``tiny`` = the shipped tiny-ko-bert (2 layers, hidden 128) and ``base`` = a
BERT-base-shaped random checkpoint (12 layers, hidden 768, intermediate 3072; tiny-ko-bert's tokenizer)
built with ``transformers.BertConfig`` + ``save_pretrained`` in ``--base-dir`` (random weights time the
same as trained ones). Each case records its shape and the tokens it really processed (batches padded to
their longest text: ``train_tokens``, ``eval_tokens``), so ``--report`` compares
:func:`helpers.runtime.estimate_seconds` of the equivalent plans with the measured time, and
``tests/test_runtime.py`` checks the ratio.

Writes (merges into) ``benchmarks/results/plan_calibration.json``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
OUT = ROOT / "benchmarks" / "results" / "plan_calibration.json"
SEED = 42
# The base checkpoint's own seed differs from the lessons' (42): lesson 05 builds its random-init control
# with torch.manual_seed(42), which would reproduce a checkpoint drawn with the same seed weight for weight.
CHECKPOINT_SEED = 1234
# (case, checkpoint, task, examples, batch, max_length, examples scored inside or after the run)
CASES = {
    "tiny-sentiment": ("tiny", "sentiment", 640, 32, 64, 64),
    "tiny-korquad": ("tiny", "korquad", 320, 32, 128, 0),
    "tiny-korquad-eval": ("tiny", "korquad-eval", 0, 64, 128, 100),
    "tiny-ner": ("tiny", "ner", 480, 16, 128, 0),
    "tiny-ner-eval": ("tiny", "ner-eval", 0, 64, 128, 400),
    # the same five about 5x longer: the pair separates what a run costs once from what each token costs
    "tiny-sentiment-long": ("tiny", "sentiment", 3200, 32, 64, 64),
    "tiny-korquad-long": ("tiny", "korquad", 1500, 32, 128, 0),
    "tiny-korquad-eval-long": ("tiny", "korquad-eval", 0, 64, 128, 500),
    "tiny-ner-long": ("tiny", "ner", 2400, 16, 128, 0),
    "tiny-ner-eval-long": ("tiny", "ner-eval", 0, 64, 128, 1000),
    "base-sentiment": ("base", "sentiment", 64, 32, 64, 32),
    "base-korquad": ("base", "korquad", 14, 32, 128, 0),
    "base-korquad-eval": ("base", "korquad-eval", 0, 64, 128, 6),
    "base-ner": ("base", "ner", 32, 16, 128, 0),
    "base-ner-eval": ("base", "ner-eval", 0, 64, 128, 48),
}


def log(msg) -> None:
    print(msg, file=sys.stderr, flush=True)


def base_checkpoint(directory: Path) -> Path:
    """A BERT-base-shaped random checkpoint with tiny-ko-bert's tokenizer (built once, then reused)."""
    if (directory / "config.json").is_file() and (directory / "model.safetensors").is_file():
        return directory
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining

    from helpers.models import model_source

    tokenizer = AutoTokenizer.from_pretrained(model_source("tiny-ko-bert"))
    torch.manual_seed(CHECKPOINT_SEED)
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id)  # 12 x 768, 3072, 512 positions
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    BertForPreTraining(config).save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(directory)
    return directory


def _data(task: str):
    if task == "sentiment":
        from helpers.classify.sentiment import nsmc_split

        return nsmc_split(train_size=4_000, val_size=200, test_size=200, seed=SEED)
    if task.startswith("korquad"):
        from helpers import qa
        from helpers.data import load_korquad

        train, test = qa.split_by_article(load_korquad(), 20, SEED)
        return qa.seeded_order(train, SEED), qa.seeded_order(test, SEED)
    from helpers import ner
    from helpers.data import load_klue_ner

    return ner.split_sentences(load_klue_ner(), test_size=0.2, seed=SEED)


def padded_tokens(lengths, batch: int, shuffle: bool) -> int:
    """Tokens a run processes when each batch is padded to its longest text: batches in the given order, or
    (``shuffle``, as the training loops draw them) in a seeded random order (the average is what counts)."""
    from helpers.runtime import mean_padded_length

    lengths = list(lengths)
    return round(mean_padded_length(lengths, batch, seed=SEED, shuffle=shuffle) * len(lengths))


def token_counts(name: str, tokenizer, data) -> dict:
    """``train_tokens`` and ``eval_tokens`` of a case as its run pads them (no model needed): windows are padded
    to ``max_length``; reviews and sentences to the longest of their batch (training batches drawn at random)."""
    from helpers import ner, qa
    import helpers.qa.train  # noqa: F401 (training_windows)

    kind, task, n, batch, max_len, scored = CASES[name]
    lengths = lambda texts: [len(ids) for ids in tokenizer(list(texts), truncation=True, max_length=max_len)["input_ids"]]
    if task == "sentiment":  # fine_tune scores the validation texts in batches of 128, in order
        return {"train_tokens": padded_tokens(lengths(data.train.document.iloc[:n]), batch, True),
                "eval_tokens": padded_tokens(lengths(data.val.document.iloc[:scored]), 128, False)}
    if task == "korquad":
        config = qa.QAConfig(train_questions=n, epochs=1, batch_size=batch, max_length=max_len)
        _, keep = qa.train.training_windows(tokenizer, data[0].iloc[:n], config)
        return {"train_tokens": len(keep) * max_len, "eval_tokens": 0}
    if task == "korquad-eval":
        test = data[1]
        feats = qa.make_features(tokenizer, test.question.iloc[:scored], test.context.iloc[:scored], max_length=max_len,
                                 stride=32)
        return {"train_tokens": 0, "eval_tokens": qa.features.n_windows(feats) * max_len}
    train, test = data
    if task == "ner":
        return {"train_tokens": padded_tokens([len(f["input_ids"]) for f in ner.features(tokenizer, train.iloc[:n], max_len)],
                                              batch, True), "eval_tokens": 0}
    return {"train_tokens": 0,  # predict_chars: batches in order
            "eval_tokens": padded_tokens([len(f["input_ids"]) for f in ner.features(tokenizer, test.iloc[:scored], max_len)],
                                         batch, False)}


def run_case(name: str, source: str) -> dict:
    """Time one case; return its plan fields, the shape of the model, the tokens processed and the seconds."""
    import torch

    from helpers import ner, qa, runtime
    from helpers.models import load_model, load_tokenizer, model_source

    kind, task, n, batch, max_len, scored = CASES[name]
    data = _data(task)
    torch.manual_seed(SEED)
    row = {"checkpoint": kind, "task": task, "batch_size": batch, "max_length": max_len, "epochs": 1}
    if task == "sentiment":
        from helpers.classify import fine_tune

        tokenizer, model = load_model(source, head="classification", num_labels=2)
        train, val = data.train.iloc[:n], data.val.iloc[:scored]
        start = time.perf_counter()
        result = fine_tune(model, tokenizer, train.document, train.label, val.document, val.label, epochs=1,
                           batch_size=batch, lr=1e-4, max_len=max_len, seed=SEED, evals_per_epoch=1)
        seconds = time.perf_counter() - start
        row.update(train_size=len(train), eval_size=len(val), steps=result.steps)
    elif task == "korquad":
        tokenizer, model = load_model(source, head="question-answering")
        config = qa.QAConfig(base_model=source, train_questions=n, epochs=1, batch_size=batch, max_length=max_len)
        start = time.perf_counter()
        _, counts = qa.train_qa(model, tokenizer, data[0], config)
        seconds = time.perf_counter() - start
        row.update(train_size=counts["windows"], eval_size=0, steps=counts["steps"], questions=n)
    elif task == "korquad-eval":
        tokenizer, model = load_model(source, head="question-answering")
        test = data[1]
        feats = qa.make_features(tokenizer, test.question.iloc[:scored], test.context.iloc[:scored], max_length=max_len,
                                 stride=32)
        start = time.perf_counter()
        qa.predict_logits(model, feats, batch_size=batch, threads=1)  # lesson 08 scores on its training thread
        seconds = time.perf_counter() - start
        row.update(train_size=0, eval_size=qa.features.n_windows(feats), steps=0, questions=scored)
    else:
        from transformers import AutoModelForTokenClassification

        train, test = data
        tokenizer = load_tokenizer(source)
        model = runtime.place_model(AutoModelForTokenClassification.from_pretrained(
            model_source(source), num_labels=len(ner.LABELS), id2label=dict(enumerate(ner.LABELS)),
            label2id=ner.LABEL2ID).eval())
        start = time.perf_counter()
        if task == "ner":
            ner.train_ner(model, tokenizer, train.iloc[:n], epochs=1, batch_size=batch, lr=3e-4, max_len=max_len,
                          seed=SEED)
        else:
            ner.predict_chars(model, tokenizer, test.iloc[:scored], max_len, batch_size=batch)  # the session's threads
        seconds = time.perf_counter() - start
        n, scored = (len(train.iloc[:n]), 0) if task == "ner" else (0, len(test.iloc[:scored]))
        row.update(train_size=n, eval_size=scored, steps=math.ceil(n / batch))
    config = model.config
    row.update(hidden=config.hidden_size, layers=config.num_hidden_layers,
               non_embedding=runtime.non_embedding_params(model), threads_session=torch.get_num_threads(),
               seconds=round(seconds, 2), **token_counts(name, tokenizer, data))
    return row


def estimate(row: dict) -> float:
    """:func:`helpers.runtime.estimate_seconds` of a measured case: its training and its scoring as two plans,
    each at the tokens per example its batches were padded to (``Plan.mean_tokens``)."""
    from helpers.runtime import Plan, estimate_seconds

    train = Plan(row["train_size"], row["epochs"], row["batch_size"], row["max_length"],
                 mean_tokens=row["train_tokens"] / max(1, row["train_size"] * row["epochs"]))
    score = Plan(0, row["epochs"], row["batch_size"], row["max_length"], row["eval_size"],
                 mean_tokens=row["eval_tokens"] / max(1, row["eval_size"]))
    return sum(estimate_seconds(p, row["non_embedding"], "cpu", "fp32") for p in (train, score))


def report(results: dict) -> None:
    """The current constants' estimate beside every measured case."""
    print(f"{'case':24s} {'measured':>9s} {'estimate':>9s} {'est/measured':>12s}")
    for name, row in results.items():
        est = estimate(row)
        print(f"{name:24s} {row['seconds']:8.1f}s {est:8.1f}s {est / row['seconds']:12.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="*", default=[], help="case names, or 'tiny' / 'base' for a whole group")
    parser.add_argument("--base-dir", default="/tmp/ko-bert-base-random")
    parser.add_argument("--report", action="store_true", help="print estimates vs measurements and exit")
    parser.add_argument("--tokens", action="store_true",
                        help="recompute the padded token counts of the stored cases (no timing) and exit")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    out = Path(args.out)

    stored = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {"results": {}}
    if args.report:
        report(stored["results"])
        return 0
    if args.tokens:
        from helpers.models import load_tokenizer

        tokenizer = load_tokenizer("tiny-ko-bert")  # both checkpoints use tiny-ko-bert's tokenizer
        for name, row in stored["results"].items():
            row.update(token_counts(name, tokenizer, _data(CASES[name][1])))
        out.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0
    import torch

    from helpers.lesson import quiet_libraries, seed_everything

    quiet_libraries(ci=True)
    seed_everything(SEED)  # the lessons' session: 2 threads (training functions switch to 1 themselves)
    names = [c for arg in args.cases for c in CASES if arg in (c, CASES[c][0])]
    if not names:
        parser.error(f"choose cases: tiny, base or some of {', '.join(CASES)}")
    base = base_checkpoint(Path(args.base_dir)) if any(CASES[c][0] == "base" for c in names) else None
    for name in names:
        source = "tiny-ko-bert" if CASES[name][0] == "tiny" else str(base)
        row = run_case(name, source)
        log(f"{name:20s} {row['seconds']:7.1f} s  ({row['steps']} steps, {row['train_size']} trained, "
            f"{row['eval_size']} scored)")
        stored["results"][name] = row
    stored["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                         "torch": torch.__version__, "load_average_at_end": [round(v, 2) for v in os.getloadavg()]}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
