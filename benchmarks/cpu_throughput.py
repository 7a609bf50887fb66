"""Sustained training throughput of this CPU, for the plans of :mod:`helpers.runtime` (issue 19).

Run from the repository root (about 20 seconds):

    python benchmarks/cpu_throughput.py

Times full training steps (forward, backward, AdamW) of a randomly initialised
``BertForSequenceClassification`` on a batch of 32 x 64 tokens and reports the sustained rate in
FLOP/s, counting 6 x (non-embedding parameters) FLOPs per token (the usual estimate for a forward
and backward pass). Three shapes:

- ``base-layer``: 2 layers of BERT-base's shape (hidden 768, 12 heads, intermediate 3072): the
  per-layer cost of a base-size model, with all torch threads;
- ``base-layer-bf16``: the same under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (the bf16 speed-up,
  ``CPU_BF16_SPEEDUP`` in helpers.runtime.plans);
- ``tiny``: tiny-ko-bert's shape (2 layers, hidden 128) on one thread: small matrices reach a lower rate.

A synthetic step, not a lesson's run: the throughput constants of the plans come from the suite's own
training runs, timed by ``benchmarks/plan_calibration.py``.

Writes ``benchmarks/results/cpu_throughput.json``. The machine is shared, so figures vary by
10-20 % from run to run; the constants in helpers.runtime are rounded down.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "cpu_throughput.json"
BATCH, TOKENS, SECONDS = 32, 64, 5.0


def measure(hidden, layers, heads, intermediate, threads, bf16=False) -> dict:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    config = BertConfig(vocab_size=8000, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=intermediate, max_position_embeddings=128, num_labels=2)
    model = BertForSequenceClassification(config).train()
    emb = sum(p.numel() for p in model.bert.embeddings.parameters())
    non_embedding = sum(p.numel() for p in model.parameters()) - emb
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(5, 8000, (BATCH, TOKENS))
    labels = torch.randint(0, 2, (BATCH,))
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step():
        with ctx():
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()

    step()  # warm-up (allocations, oneDNN primitives)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        step()
        n += 1
    seconds = (time.perf_counter() - start) / n
    flops = 6 * non_embedding * BATCH * TOKENS
    return {"hidden": hidden, "layers": layers, "threads": threads, "bf16": bf16, "non_embedding": non_embedding,
            "steps": n, "seconds_per_step": round(seconds, 4), "gflops": round(flops / seconds / 1e9, 1)}


def main() -> None:
    import torch

    cores = os.cpu_count() or 1
    rows = {
        "base-layer": measure(768, 2, 12, 3072, cores),
        "base-layer-bf16": measure(768, 2, 12, 3072, cores, bf16=True),
        "tiny": measure(128, 2, 2, 512, 1),
    }
    for name, row in rows.items():
        print(f"{name:16s} {row['seconds_per_step']*1000:8.0f} ms/step  {row['gflops']:7.1f} GFLOP/s  "
              f"({row['threads']} thread(s))")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpu": platform.processor() or platform.machine(), "cores": cores, "torch": torch.__version__,
               "load_average": os.getloadavg()}
    OUT.write_text(json.dumps({"batch": BATCH, "tokens": TOKENS, "machine": machine, "results": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
