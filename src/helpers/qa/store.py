"""The fine-tuned KorQuAD model on disk: train on the training articles, score the test articles, save, load.

``python -m helpers.qa train`` (:func:`train_and_save`) fine-tunes the base BERT (``$BERT_MODEL``, default
tiny-ko-bert) on the training articles of KorQuAD 1.0 dev (:func:`helpers.qa.split_by_article`), scores it
on the test articles and saves it, with ``meta.json`` (recipe, split sizes, test EM/F1) and a manifest of
checksums (:mod:`helpers.cache`), to :func:`default_dir`: ``<cache>/qa/korquad-<base model>-<key>``, where
the key identifies the base model's files. ``ask`` and ``eval`` load it with :func:`load_qa`, which refuses
a folder that fails its checksums. Weights are safetensors (``save_pretrained``); nothing is pickled.
Used by lesson 08 (the command), ``python -m helpers.qa`` and ``benchmarks/qa_bench.py``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path

from .. import cache
from .data import QAError, load_korquad_examples, seeded_order, split_by_article, split_summary
from .train import QAConfig, predict_frame, train_qa

META = "meta.json"


def _identity(base_model: str | None) -> dict:
    from ..models import display_name, model_identity, resolve_model_name

    name = resolve_model_name(base_model)
    return {"base_model": display_name(name), **{k: v for k, v in model_identity(name).items() if k != "name"}}


def default_dir(base_model: str | None = None) -> Path:
    """Where ``train`` saves and ``ask``/``eval`` look by default: ``<cache>/qa/korquad-<base>-<key>``."""
    ident = _identity(base_model)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", ident["base_model"])[:40]
    return cache.cache_root("qa") / f"korquad-{slug}-{cache.key_of(ident)}"


def save_qa(model, tokenizer, meta: dict, target: str | os.PathLike) -> Path:
    """Save a QA model, its tokenizer and ``meta`` to ``target`` atomically, with a manifest of checksums."""
    target = Path(target)
    if target.exists() and not (target.is_dir() and (not any(target.iterdir()) or (target / cache.MANIFEST).is_file())):
        raise QAError(f"{target} exists and is not a saved QA model (no {cache.MANIFEST}). "
                      "Fix: choose an empty or new folder for --out.")

    return cache.publish_model(target, model, tokenizer, meta, META)


def load_qa(model_dir: str | os.PathLike | None = None, base_model: str | None = None):
    """``(tokenizer, model, meta)`` of a saved QA model, checked against its manifest first."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    path = Path(model_dir) if model_dir is not None else default_dir(base_model)
    train_cmd = "python -m helpers.qa train" + (f" --out {path}" if model_dir is not None else "")
    fix = (f"Fix: run `{train_cmd}` (add --quick for a minute-long model), pass --model DIR, "
           "or use --method lexical (no model).")
    if not (path / cache.MANIFEST).is_file() or not (path / META).is_file():
        raise QAError(f"No fine-tuned QA model at {path}. {fix}")
    try:
        key = json.loads((path / cache.MANIFEST).read_text(encoding="utf-8"))["key"]
    except (ValueError, KeyError) as exc:
        raise QAError(f"{path / cache.MANIFEST} is unreadable. {fix}") from exc
    if not cache.is_verified(path, key, required=META):
        raise QAError(f"The QA model in {path} fails its checksums (damaged or edited). {fix}")
    from ..models import match_segment_ids
    from ..runtime import place_model

    meta = json.loads((path / META).read_text(encoding="utf-8"))
    model = place_model(AutoModelForQuestionAnswering.from_pretrained(path)).eval()  # the runtime's device
    tokenizer = match_segment_ids(AutoTokenizer.from_pretrained(path), model.config)
    return tokenizer, model, meta


def train_and_save(config: QAConfig = QAConfig(), out: str | os.PathLike | None = None, *, log=print) -> Path:
    """Fine-tune ``config.base_model`` on the training articles, score the test articles, save to ``out``
    (default :func:`default_dir`); ``meta.json`` holds the recipe, the split and the test scores."""
    import torch

    from ..models import load_model
    from .metric import score_frame

    target = Path(out) if out is not None else default_dir(config.base_model)
    df = load_korquad_examples()
    train, test = split_by_article(df, config.test_percent, config.seed)
    train = seeded_order(train, config.seed)
    torch.manual_seed(config.seed)  # the new qa_outputs layer starts random
    tokenizer, model = load_model(config.base_model, head="question-answering")
    ident = _identity(config.base_model)
    log(f"[qa] fine-tuning {ident['base_model']} on {min(len(train), config.train_questions or len(train)):,} "
        f"questions of the training articles, {config.epochs} epoch(s)")
    history, counts = train_qa(model, tokenizer, train, config)
    scores = score_frame(test, predict_frame(model, tokenizer, test, config, threads=config.threads))
    log(f"[qa] test articles: EM {scores['exact_match']:.1f}, F1 {scores['f1']:.1f} ({scores['n']:,} questions)")
    meta = {"task": "korquad-1.0", "config": asdict(config), **ident, "split": split_summary(train, test).to_dict(),
            "training": counts, "final_loss": float(history["loss"].iloc[-1]) if len(history) else None,
            "test": scores}
    path = save_qa(model, tokenizer, meta, target)
    log(f"[qa] saved to {path}")
    return path
