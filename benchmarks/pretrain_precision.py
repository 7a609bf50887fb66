"""fp32 or bf16 on this CPU, measured on the real pretraining and fine-tuning steps (issues 19 and 22).

Run from the repository root, with a pretraining work folder whose corpus, tokenizer and units are
built (``python -m helpers.pretrain --work build/v2/base --stop-after 0``, about 3 minutes):

    python benchmarks/pretrain_precision.py time --work build/v2/base      # ms/step; give it the machine (~4 min)
    python benchmarks/pretrain_precision.py quality --work build/v2/base   # loss curves fp32 vs bf16 (~15 min)
    python benchmarks/pretrain_precision.py finetune                        # lesson 05's fine-tuning, both ways (~3 min)

- ``time``: steps of :func:`helpers.pretrain.train.run_step` (the build's own step: real batches of 64
  pairs of at most 64 pieces, masked-position MLM loss + pair loss, AdamW through ``accelerate``)
  for three model shapes, fp32 and ``precision="bf16"`` (accelerate's CPU autocast), 2 threads;
  the median of the timed steps after a warm-up.
- ``quality``: the same first N steps of the 4-layer x 256 shape in fp32 and bf16 (same batches, same
  masks), the MLM loss (mean of each 50 steps) and the held-out masked-token accuracy at the end.
- ``finetune``: lesson 05's fine-tuning (:func:`helpers.classify.fine_tune`, tiny-ko-bert, 2,000
  balanced NSMC training reviews, 1 epoch, 1 thread) with ``KO_BERT_PRECISION`` fp32 and bf16: time and
  validation accuracy.

Writes ``benchmarks/results/pretrain_precision.json`` (each part updates its own key).
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "pretrain_precision.json"
SHAPES = {  # name: (layers, hidden, heads, intermediate)
    "2L-128 (tiny-ko-bert)": (2, 128, 2, 512),
    "4L-256": (4, 256, 4, 1024),
    "6L-384": (6, 384, 6, 1536),
}


def _config(shape, precision, **extra):
    from helpers.pretrain import PretrainConfig

    layers, hidden, heads, inter = SHAPES[shape]
    return dataclasses.replace(PretrainConfig(), num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                               intermediate_size=inter, precision=precision, **extra)


def _run(config, work: Path, tmp: Path):
    """A fresh run (nothing to resume) on the CPU, reading the batches of ``work``."""
    import shutil

    import torch
    from transformers import AutoTokenizer

    pt = importlib.import_module("helpers.pretrain.train")  # the package exports a function train

    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("units.json", "heldout.jsonl", "corpus.jsonl"):
        if (work / name).exists() and not (tmp / name).exists():
            os.symlink((work / name).resolve(), tmp / name)
    for path in work.glob("*.npy"):
        if not (tmp / path.name).exists():
            os.symlink(path.resolve(), tmp / path.name)
    shutil.rmtree(tmp / "checkpoint", ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(work / "tokenizer")
    return pt.prepare_run(config, tmp, tokenizer, torch.device("cpu"), log=lambda *a: None), tokenizer


def time_steps(work: Path, warmup: int = 5, steps: int = 30) -> dict:
    from helpers import runtime
    pt = importlib.import_module("helpers.pretrain.train")  # the package exports a function train

    rows = []
    for shape in SHAPES:
        row = {"shape": shape}
        for precision in ("fp32", "bf16"):
            config = _config(shape, precision)
            with runtime.execution(threads=2, deterministic=True):
                run, _ = _run(config, work, ROOT / "build" / "bench-precision")
                run.objective.train()
                times = []
                for step in range(warmup + steps):
                    t = time.perf_counter()
                    pt.run_step(run, config, step)
                    times.append(time.perf_counter() - t)
            row[f"{precision}_ms"] = round(1000 * statistics.median(times[warmup:]), 1)
            row["parameters"] = int(sum(p.numel() for p in run.model.parameters()))
        row["speedup"] = round(row["fp32_ms"] / row["bf16_ms"], 2)
        print(row, flush=True)
        rows.append(row)
    return {"threads": 2, "batch": "64 pairs x at most 64 pieces", "timed_steps": steps, "warmup_steps": warmup,
            "rows": rows}


def quality(work: Path, steps: int = 600, shape: str = "4L-256") -> dict:
    import numpy as np

    from helpers import runtime
    pt = importlib.import_module("helpers.pretrain.train")  # the package exports a function train
    from helpers.pretrain.corpus import _read_jsonl

    heldout = [r["text"] for r in _read_jsonl(work / "heldout.jsonl")][:1000]
    out = {"shape": shape, "steps": steps, "heldout_sentences": len(heldout)}
    for precision in ("fp32", "bf16"):
        config = _config(shape, precision, steps=steps, warmup_steps=min(500, steps // 4))
        with runtime.execution(threads=2, deterministic=True):
            run, tokenizer = _run(config, work, ROOT / "build" / "bench-precision")
            run.objective.train()
            losses = [float(pt.run_step(run, config, step)[1].detach()) for step in range(steps)]
            run.model.eval()
            acc = pt.heldout_accuracy(run.model, tokenizer, heldout, config.seed)
        out[precision] = {"mlm_loss_per_50_steps": [round(float(np.mean(losses[i:i + 50])), 3)
                                                    for i in range(0, steps, 50)], **acc}
        print(precision, out[precision], flush=True)
    return out


def finetune() -> dict:
    from helpers import classify, load_model
    from helpers.classify import sentiment

    split = sentiment.nsmc_split(train_size=2000, val_size=500, test_size=500, seed=42)
    out = {}
    for precision in ("warm-up", "fp32", "bf16"):  # a first short run pays the one-time costs (oneDNN primitives)
        os.environ["KO_BERT_PRECISION"] = "fp32" if precision == "warm-up" else precision
        import torch

        torch.manual_seed(42)
        tokenizer, model = load_model("tiny-ko-bert", head="classification", num_labels=2)
        n = 256 if precision == "warm-up" else len(split.train)
        t = time.perf_counter()
        result = classify.fine_tune(model, tokenizer, split.train.document[:n], split.train.label[:n], split.val.document,
                                    split.val.label, epochs=1, lr=1e-4, batch_size=32, max_len=64, evals_per_epoch=1)
        if precision == "warm-up":
            continue
        out[precision] = {"seconds": round(time.perf_counter() - t, 1),
                          "val_accuracy": round(float(result.history.val_accuracy.iloc[-1]), 4),
                          "val_loss": round(float(result.history.val_loss.iloc[-1]), 6),
                          "train_loss": round(float(result.history.train_loss.iloc[-1]), 6), "steps": result.steps}
        print(precision, out[precision], flush=True)
    os.environ.pop("KO_BERT_PRECISION", None)
    out["speedup"] = round(out["fp32"]["seconds"] / out["bf16"]["seconds"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["time", "quality", "finetune"])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "v2" / "base")
    parser.add_argument("--steps", type=int, default=600, help="quality: steps per precision")
    args = parser.parse_args()
    from helpers.lesson import quiet_libraries

    quiet_libraries(ci=True)
    result = json.loads(OUT.read_text()) if OUT.exists() else {}
    if args.part == "time":
        result["time"] = time_steps(args.work)
    elif args.part == "quality":
        result["quality"] = quality(args.work, steps=args.steps)
    else:
        result["finetune"] = finetune()
    result["machine"] = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()}
    OUT.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
