"""The fine-tuned NSMC sentiment model: train, save (verified cache folder), load, and score a labelled file.

``python -m helpers.classify train`` (:func:`train_sentiment`) fine-tunes the base BERT (``$BERT_MODEL``,
default tiny-ko-bert) with the [CLS] head on the NSMC training movies (:func:`helpers.classify.sentiment.nsmc_split`)
and saves it, with ``meta.json`` (recipe, split counts, validation accuracy) and a manifest of checksums, to
:func:`default_dir`: ``<cache>/sentiment/nsmc-<base model>-<key>``, where the key identifies the base
model's files, so a changed base model never meets a stale fine-tuned one. ``python -m helpers.classify eval
FILE.tsv`` (:func:`evaluate_file`) scores that model (or ``--model DIR``) on a file with columns ``document``
and ``label`` (0 negative, 1 positive). Used by lesson 05 and ``benchmarks/sentiment_bench.py``.
"""
from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from .. import cache
from .. import ranking
from ..models import display_name, load_model, match_segment_ids, model_source, resolve_model_name
from ..textfiles import read_rows
from .metrics import scores
from .sentiment import nsmc_split
from .train import SEED, fine_tune, predict_logits

META = "meta.json"


class SentimentModelError(OSError):
    """No usable fine-tuned sentiment model, or a bad input file; the message says how to fix it."""


@dataclass(frozen=True)
class SentimentConfig:
    """The fine-tuning recipe of :func:`train_sentiment` (saved in ``meta.json``)."""

    base_model: str | None = None  # None: $BERT_MODEL, else tiny-ko-bert
    train_size: int | None = 150_000  # balanced training reviews (None: all a balanced set allows)
    val_size: int = 2_000
    epochs: int = 2
    lr: float = 1e-4
    batch_size: int = 32
    max_len: int = 64
    seed: int = SEED
    threads: int = 1

    @classmethod
    def quick(cls, **overrides) -> "SentimentConfig":
        """A minutes-long run on the same code path (``--quick``: tests and a first look)."""
        return replace(cls(train_size=2_000, val_size=400, epochs=1), **overrides)


def _base_identity(base_model: str | None) -> dict:
    name = resolve_model_name(base_model)
    source = model_source(name)
    digest = cache.listing_digest(source) if Path(source).is_dir() else None
    if digest is None and Path(source).is_dir():  # a local checkpoint without a listing: hash its weights
        weights = sorted(Path(source).glob("*.safetensors"))
        digest = cache.sha256_file(weights[0]) if weights else None
    return {"base_model": display_name(name), "base_digest": digest}


def default_dir(base_model: str | None = None) -> Path:
    """Where ``train`` saves and ``eval`` looks by default: ``<cache>/sentiment/nsmc-<base>-<key>``."""
    ident = _base_identity(base_model)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", ident["base_model"])[:40]
    return cache.cache_root("sentiment") / f"nsmc-{slug}-{cache.key_of(ident)}"


def _owned_or_empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and (not any(path.iterdir()) or (path / cache.MANIFEST).is_file()))


def train_sentiment(config: SentimentConfig = SentimentConfig(), out: str | os.PathLike | None = None, *,
                    split=None, log=print) -> Path:
    """Fine-tune ``config.base_model`` on NSMC (training movies) and save it to ``out`` (default :func:`default_dir`).

    ``split`` (a :class:`~helpers.classify.sentiment.SentimentSplit`) may be passed to reuse a loaded split;
    it must hold at least ``config.train_size`` training reviews. The folder is written atomically
    (nothing is left behind on failure) and replaces an earlier model at the same place.
    """
    target = Path(out) if out is not None else default_dir(config.base_model)
    if not _owned_or_empty(target):
        raise SentimentModelError(f"{target} exists and is not a saved sentiment model (no {cache.MANIFEST}). "
                                  "Fix: choose an empty or new folder for --out.")
    if split is None:
        split = nsmc_split(train_size=config.train_size, val_size=config.val_size, seed=config.seed)
    train = split.train if config.train_size is None else split.train.iloc[: config.train_size]
    if config.train_size is not None and len(train) < config.train_size:
        raise ValueError(f"The split holds {len(split.train):,} training reviews, fewer than train_size="
                         f"{config.train_size:,}. Fix: build the split with at least that many.")
    import torch

    torch.manual_seed(config.seed)
    tokenizer, model = load_model(config.base_model, head="classification", num_labels=2)
    model.config.id2label, model.config.label2id = {0: "negative", 1: "positive"}, {"negative": 0, "positive": 1}
    log(f"[sentiment] fine-tuning {_base_identity(config.base_model)['base_model']} on {len(train):,} reviews, "
        f"{config.epochs} epoch(s)")
    result = fine_tune(model, tokenizer, train["document"], train["label"], split.val["document"], split.val["label"],
                       epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, max_len=config.max_len,
                       seed=config.seed, threads=config.threads, log=lambda row: log(f"[sentiment] {row}"))
    meta = {"task": "nsmc-sentiment", "labels": {"0": "negative", "1": "positive"}, "config": asdict(config),
            **_base_identity(config.base_model), "train_reviews": len(train), "split": split.stats,
            "val_accuracy": float(result.history["val_accuracy"].iloc[-1]), "steps": result.steps}

    cache.publish_model(target, model, tokenizer, meta, META)
    log(f"[sentiment] saved to {target}")
    return target


def load_sentiment(model_dir: str | os.PathLike | None = None, base_model: str | None = None):
    """``(tokenizer, model, meta)`` of a saved sentiment model, checked against its manifest first."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..runtime import place_model

    path = Path(model_dir) if model_dir is not None else default_dir(base_model)
    train_cmd = "python -m helpers.classify train" + (f" --out {path}" if model_dir is not None else "")
    if not (path / cache.MANIFEST).is_file() or not (path / META).is_file():
        raise SentimentModelError(f"No fine-tuned sentiment model at {path}. Fix: run `{train_cmd}` "
                                  "(add --quick for a minutes-long model), or pass --model DIR.")
    try:
        key = json.loads((path / cache.MANIFEST).read_text(encoding="utf-8"))["key"]
    except (ValueError, KeyError) as exc:
        raise SentimentModelError(f"{path / cache.MANIFEST} is unreadable. Fix: run `{train_cmd}` again.") from exc
    if not cache.is_verified(path, key, required=META):
        raise SentimentModelError(f"The sentiment model in {path} fails its checksums (damaged or edited). "
                                  f"Fix: run `{train_cmd}` again.")
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    model = place_model(AutoModelForSequenceClassification.from_pretrained(path)).eval()  # the runtime's device
    tokenizer = match_segment_ids(AutoTokenizer.from_pretrained(path), model.config)
    return tokenizer, model, meta


def read_labelled(path: str | os.PathLike) -> pd.DataFrame:
    """A tab-separated file with a header holding ``document`` and ``label`` (0 or 1); other columns are ignored.

    Quoting is off (a ``"`` is an ordinary character, as in NSMC's own files). Raises
    :class:`SentimentModelError` with a fix for a missing, empty, non-UTF-8 or malformed file.
    """
    fix = "Fix: give a UTF-8 tab-separated file with a header line containing document and label (0/1)."
    rows = read_rows(path, ("document", "label"), SentimentModelError, fix)
    for number, row in rows:
        if row["label"] not in ("0", "1"):
            raise SentimentModelError(f"{Path(path).name} line {number}: label {row['label']!r} is not 0 or 1. {fix}")
    return pd.DataFrame({"document": [r["document"] for _, r in rows], "label": [int(r["label"]) for _, r in rows]})


def write_labelled(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``id``, ``document``, ``label`` as a TSV that :func:`read_labelled` accepts (NSMC's layout)."""
    path = Path(path)
    if frame["document"].str.contains("[\t\n\r]", regex=True).any():
        raise ValueError("documents must not contain tabs or line breaks")
    out = pd.DataFrame({"id": frame.get("review_id", pd.Series(range(len(frame)))).to_numpy(),
                        "document": frame["document"].to_numpy(), "label": frame["label"].astype(int).to_numpy()})
    tmp = path.with_suffix(path.suffix + ".tmp")
    out.to_csv(tmp, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    os.replace(tmp, path)
    return path


def evaluate_file(path: str | os.PathLike, model_dir: str | os.PathLike | None = None, *,
                  base_model: str | None = None, threads: int | None = None) -> dict:
    """``{"n", "accuracy", "model"}`` of the sentiment model on a labelled TSV (see :func:`read_labelled`)."""
    data = read_labelled(path)
    tokenizer, model, meta = load_sentiment(model_dir, base_model)
    max_len = int(meta.get("config", {}).get("max_len", 64))
    pred = predict_logits(model, tokenizer, data["document"], max_len=max_len, threads=threads)
    pred = ranking.argmax(pred)
    where = Path(model_dir) if model_dir is not None else default_dir(base_model)
    return {"n": int(len(data)), "accuracy": round(scores(data["label"], pred, labels=(0, 1))["accuracy"], 4),
            "model": str(where), "base_model": meta.get("base_model")}
