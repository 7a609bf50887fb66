"""One name -> ``(tokenizer, model)``: a hub id, a local checkpoint directory, or ``tiny-ko-bert``.

The name comes from the argument, else ``$BERT_MODEL``, else ``tiny-ko-bert`` (the offline
reference model shipped in ``models/tiny-ko-bert``, checked against its checksums by
:mod:`helpers.reference`). Every path ends
in the same ``AutoTokenizer.from_pretrained`` / ``AutoModel*.from_pretrained`` calls; nothing
is substituted silently: a hub id that cannot be loaded raises :class:`ModelNotAvailableError`
naming ``BERT_MODEL=tiny-ko-bert`` as the offline choice.

Used by every lesson (01–06).
"""
from __future__ import annotations

import os
from pathlib import Path

from .reference import REFERENCE_NAME

DEFAULT_MODEL = REFERENCE_NAME
LECTURE_MODEL = "bert-base-multilingual-cased"  # the model the lecture's figures come from
HUB_EXAMPLES = ("klue/bert-base", "bert-base-multilingual-cased")

HEADS = {
    "base": "AutoModel",
    "mlm": "AutoModelForMaskedLM",
    "pretraining": "AutoModelForPreTraining",
    "classification": "AutoModelForSequenceClassification",
}


class ModelNotAvailableError(OSError):
    """The named model cannot be loaded here; the message says what to use instead."""


def resolve_model_name(name: str | None = None) -> str:
    """Return ``name``, else ``$BERT_MODEL``, else ``tiny-ko-bert``."""
    chosen = name or os.environ.get("BERT_MODEL") or DEFAULT_MODEL
    chosen = chosen.strip()
    if not chosen:
        raise ModelNotAvailableError("Empty model name. Fix: set BERT_MODEL=tiny-ko-bert or a hub id.")
    return chosen


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or Path(name).expanduser().exists()


def display_name(name: str | None = None) -> str:
    """A printable model name with no machine paths (a local directory shows as ``local:<dir name>``)."""
    name = resolve_model_name(name)
    if name == REFERENCE_NAME or not _looks_local(name):
        return name
    return f"local:{Path(name).expanduser().resolve().name}"


def model_source(name: str | None = None) -> str:
    """What ``from_pretrained`` receives for ``name``: a hub id or a directory (the verified shipped tiny-ko-bert)."""
    name = resolve_model_name(name)
    if name == REFERENCE_NAME:
        from .reference import ensure_reference_model

        return str(ensure_reference_model())
    if _looks_local(name):
        path = Path(name).expanduser()
        if not (path / "config.json").is_file():
            raise ModelNotAvailableError(
                f"{name!r} is not a saved checkpoint (no config.json inside). Fix: point BERT_MODEL "
                "at a directory written by save_pretrained, or use BERT_MODEL=tiny-ko-bert."
            )
        return str(path)
    return name


def load_tokenizer(name: str | None = None):
    """Load only the tokenizer for ``name`` (see :func:`load_model`)."""
    from transformers import AutoTokenizer

    source = model_source(name)
    try:
        return AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise _not_available(source, exc) from exc


def load_model(name: str | None = None, head: str = "base", **kwargs):
    """Return ``(tokenizer, model)`` for a hub id, a local checkpoint directory or ``tiny-ko-bert``.

    ``head`` picks the class: ``"base"`` (``AutoModel``: hidden states + pooler), ``"mlm"``
    (fill-mask), ``"pretraining"`` (MLM + pair heads) or ``"classification"`` (extra kwargs,
    e.g. ``num_labels``, are passed to ``from_pretrained``). The model is returned in eval mode.
    """
    import transformers

    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {sorted(HEADS)}.")
    source = model_source(name)
    auto = getattr(transformers, HEADS[head])
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        model = auto.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_available(source, exc) from exc
    model.eval()
    return tokenizer, model


def _not_available(source: str, exc: Exception) -> ModelNotAvailableError:
    if Path(source).is_dir():
        return ModelNotAvailableError(
            f"Could not load the checkpoint in {source}: {exc}. Fix: re-save it with save_pretrained, "
            "or use BERT_MODEL=tiny-ko-bert."
        )
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    why = "HF_HUB_OFFLINE=1 is set and it is not in the local cache" if offline else \
        "it is not in the local cache and the Hugging Face hub could not be reached (or the id is wrong)"
    return ModelNotAvailableError(
        f"Cannot load the hub model {source!r}: {why}. Fix: connect to the internet once to cache it, "
        f"point BERT_MODEL at a local directory saved with save_pretrained, or run offline with "
        f"BERT_MODEL={REFERENCE_NAME} (the reference model shipped with this project)."
    )
