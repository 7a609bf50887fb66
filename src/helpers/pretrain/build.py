"""Driver of the build (:func:`build`, the command line) and stage 5, :func:`export`."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from ..lesson import quiet_libraries
from .config import RECIPES, PretrainConfig
from .corpus import _write_json, build_corpus, build_tokenizer
from .train import train
from .units import build_units

MACHINE_FIELDS = ("threads",)  # how to run, not what to build: a resume may change them


def build(work: str | os.PathLike, config: PretrainConfig | None = None, *, log=print,
          stop_after: int | None = None) -> Path | None:
    """Run every stage not yet done in ``work``; return ``work/final`` when the build is complete."""
    from transformers import AutoTokenizer

    quiet_libraries(ci=False)
    config = config or PretrainConfig()
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    saved = work / "config.json"
    if saved.exists():
        recipe = {k: v for k, v in dataclasses.asdict(config).items() if k not in MACHINE_FIELDS}
        if {k: v for k, v in json.loads(saved.read_text()).items() if k not in MACHINE_FIELDS} != recipe:
            raise RuntimeError(f"{work} holds a build with another recipe ({saved}). Fix: use a new --work "
                               "folder, or delete this one to start over.")
    else:
        _write_json(saved, dataclasses.asdict(config))
    if not (work / "heldout.jsonl").exists():
        build_corpus(config, work, log)
    if not (work / "tokenizer" / "tokenizer_config.json").exists():
        build_tokenizer(config, work, log)
    tokenizer = AutoTokenizer.from_pretrained(work / "tokenizer")
    if not (work / "units.json").exists():
        build_units(config, work, tokenizer, log)
    history = train(config, work, tokenizer, log, stop_after=stop_after)
    if history is None or not history or history[-1]["step"] < config.steps:
        return None
    return export(config, work, tokenizer, history, log)


def export(config: PretrainConfig, work: Path, tokenizer, history: list, log=print) -> Path:
    """Write the finished model (fine-tuning dropout 0.1), tokenizer and metrics to ``work/final``."""
    from transformers import BertForPreTraining

    model = BertForPreTraining.from_pretrained(work / "checkpoint")
    model.config.hidden_dropout_prob = 0.1
    model.config.attention_probs_dropout_prob = 0.1
    model.config.architectures = ["BertForPreTraining"]
    final = work / "final"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    counts = np.load(work / "token_counts.npy")
    _write_json(final / "metrics.json", {
        "config": dataclasses.asdict(config), "history": history,
        "corpus": json.loads((work / "corpus_stats.json").read_text()),
        "units": json.loads((work / "units.json").read_text()),
        "most_frequent_tokens": tokenizer.convert_ids_to_tokens(np.argsort(-counts, kind="stable")[:5].tolist()),
        "parameters": int(sum(p.numel() for p in model.parameters())),
    })
    log(f"[pretrain] exported to {final}")
    return final


def idle_minutes(history: list[dict]) -> float:
    """Minutes a build's curve (``metrics.json``'s ``history``) takes without pauses (the model card).

    ``seconds`` in the history is wall time, kept across resumes, so it also counts the time the build
    was paused while another job had the machine. The median seconds per step between two evaluations
    (evaluations included) leaves those intervals out; times the last step, in minutes.
    """
    points = [(0, 0.0)] + [(h["step"], float(h["seconds"])) for h in history]
    rates = sorted((t1 - t0) / (s1 - s0) for (s0, t0), (s1, t1) in zip(points, points[1:]) if s1 > s0)
    if not rates:
        raise ValueError("idle_minutes needs a history with at least one evaluation.")
    mid = len(rates) // 2
    median = rates[mid] if len(rates) % 2 else (rates[mid - 1] + rates[mid]) / 2
    return median * points[-1][0] / 60


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.pretrain", description="Pretrain tiny-ko-bert (resumable).")
    parser.add_argument("--work", required=True, help="work folder (resumes whatever is there)")
    parser.add_argument("--recipe", default="reference", choices=sorted(RECIPES),
                        help="named recipe (default: reference, the shipped tiny-ko-bert; gpu-*: for a GPU)")
    parser.add_argument("--tiny", action="store_true", help="seconds-long recipe (same code path; = --recipe tiny)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a recipe field, e.g. --set steps=3000 --set hidden_size=192")
    parser.add_argument("--stop-after", type=int, help="stop (with a checkpoint) after this step")
    args = parser.parse_args(argv)
    config = PretrainConfig.recipe("tiny" if args.tiny else args.recipe)
    fields = {f.name: f.type for f in dataclasses.fields(PretrainConfig)}
    changes = {}
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in fields:
            parser.error(f"unknown recipe field {key!r}; fields: {', '.join(sorted(fields))}")
        changes[key] = json.loads(value)
    config = dataclasses.replace(config, **changes)
    build(args.work, config, stop_after=args.stop_after)
    return 0
