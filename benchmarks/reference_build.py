"""Benchmark: build tiny-ko-bert from scratch (cold) and report size, time and quality.

Usage: python benchmarks/reference_build.py [--runs 2]
Writes benchmarks/results/reference_build.json. With --runs 2 it also checks that two builds on
this machine give identical weights (the determinism claim in the README).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from safetensors.torch import load_file

from helpers.reference import ReferenceConfig, build_reference_model

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results, weights = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"run{run}"
            start = time.perf_counter()
            report = build_reference_model(out, ReferenceConfig(), log=lambda *a: None)
            wall = time.perf_counter() - start
            size_mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            results.append({"wall_seconds": round(wall, 1), "size_mb": round(size_mb, 1),
                            "parameters": report["parameters"],
                            "heldout_masked_accuracy": report["heldout_masked_accuracy"],
                            "final_loss": report["final_loss"],
                            "fill_mask_examples": report["fill_mask_examples"]})
            weights.append(load_file(out / "model.safetensors"))
            print(json.dumps(results[-1], ensure_ascii=False))
    summary = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "config": ReferenceConfig().__dict__, "runs": results}
    if len(weights) > 1:
        summary["identical_weights"] = all(
            all((w[k] == weights[0][k]).all().item() for k in weights[0]) for w in weights[1:])
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "reference_build.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, ensure_ascii=False))


if __name__ == "__main__":
    main()
