"""One name -> ``(tokenizer, model)``: a hub id, a local checkpoint directory, or ``tiny-ko-bert``.

Also the name -> folder step of the Sentence-BERT (:func:`sentence_model_source`: ``tiny-ko-sbert``,
shipped in ``models/tiny-ko-sbert`` and checked by :mod:`helpers.cache`, a saved
SentenceTransformer folder or a hub id; :func:`helpers.sbert.load_sentence_model` loads it) and
:func:`model_identity`, what cache keys record about a model.

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

from .cache import ArtifactError, listing_digest, sha256_file, verify_checksums
from .reference import REFERENCE_NAME, ensure_reference_model

DEFAULT_MODEL = REFERENCE_NAME
SENTENCE_MODEL = "tiny-ko-sbert"  # the shipped Sentence-BERT (models/tiny-ko-sbert, built by helpers.sbert)
# what a complete saved SentenceTransformer folder must hold
SENTENCE_MODEL_FILES = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")
LECTURE_MODEL = "bert-base-multilingual-cased"  # the model the lecture's figures come from
HUB_EXAMPLES = ("klue/bert-base", "bert-base-multilingual-cased")

HEADS = {
    "base": "AutoModel",
    "mlm": "AutoModelForMaskedLM",
    "pretraining": "AutoModelForPreTraining",
    "classification": "AutoModelForSequenceClassification",
    "question-answering": "AutoModelForQuestionAnswering",  # lesson 08 (start/end logits per piece)
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


def shipped_sentence_dir() -> Path:
    """Where the shipped Sentence-BERT lives: ``<repository>/models/tiny-ko-sbert``."""
    return Path(__file__).resolve().parents[2] / "models" / SENTENCE_MODEL


def sentence_model_source(name: str | None = None) -> str:
    """What ``SentenceTransformer(...)`` receives for ``name`` (default ``tiny-ko-sbert``).

    ``tiny-ko-sbert``: the shipped folder, after every file is checked against its
    ``checksums.sha256``; a local folder: it must be a saved SentenceTransformer (``modules.json``);
    anything else is treated as a hub id.
    """
    name = (name or SENTENCE_MODEL).strip()
    if name == SENTENCE_MODEL:
        directory = shipped_sentence_dir()
        fix = ("Fix: restore it with `git checkout -- models/tiny-ko-sbert` (or a fresh clone), or rebuild it with "
               "`python -m helpers.sbert build --out models/tiny-ko-sbert`.")
        if not directory.is_dir():
            raise ModelNotAvailableError(f"{SENTENCE_MODEL} is not at {directory}. {fix}")
        try:
            verify_checksums(directory, SENTENCE_MODEL_FILES, what=SENTENCE_MODEL, fix=fix)
        except ArtifactError as exc:
            raise ModelNotAvailableError(str(exc)) from exc
        return str(directory)
    if _looks_local(name):
        path = Path(name).expanduser()
        if not (path / "modules.json").is_file():
            raise ModelNotAvailableError(
                f"{name!r} is not a saved SentenceTransformer (no modules.json inside). Fix: point at a folder "
                f"written by SentenceTransformer.save (e.g. by `python -m helpers.sbert build --out DIR`), or use "
                f"{SENTENCE_MODEL!r}.")
        return str(path)
    return name


def model_identity(name: str, source: str | None = None) -> dict:
    """What a cache key records about a model: its name and, for a local folder, a digest of its files.

    The digest is that of the folder's checksum listing when it has one (the shipped models), else of
    its ``model.safetensors``; so a rebuilt or replaced model never reuses an old cache.
    """
    source = source or model_source(name)
    identity = {"name": name}
    if Path(source).is_dir():
        digest = listing_digest(source)
        identity["files"] = digest if digest else sha256_file(Path(source) / "model.safetensors")
    return identity


def segment_embeddings(config) -> int:
    """How many segment (``token_type``) embeddings a model has: 2 for BERT, 1 for RoBERTa-family
    checkpoints such as klue/roberta-base, 0 for a model without them (DistilBERT)."""
    return int(getattr(config, "type_vocab_size", 0) or 0)


def match_segment_ids(tokenizer, config):
    """Make ``tokenizer`` return ``token_type_ids`` only if the model can use them; returns it.

    klue/roberta-base ships a BERT WordPiece tokenizer, which marks the second sentence of a pair
    with segment id 1, while its model has one segment embedding (``type_vocab_size`` 1): passing
    those ids fails with an index error. Such a model tells the two sentences apart by ``[SEP]``
    alone, so the ids are left out (lessons 05-08 print which case a checkpoint is).
    """
    if segment_embeddings(config) < 2 and "token_type_ids" in tokenizer.model_input_names:
        tokenizer.model_input_names = [n for n in tokenizer.model_input_names if n != "token_type_ids"]
    return tokenizer


def uses_segment_ids(tokenizer) -> bool:
    """True if ``tokenizer`` returns ``token_type_ids`` (after :func:`match_segment_ids`)."""
    return "token_type_ids" in tokenizer.model_input_names


def load_tokenizer(name: str | None = None):
    """Load only the tokenizer for ``name``, matched to its model's segment embeddings (see :func:`load_model`)."""
    from transformers import AutoConfig, AutoTokenizer

    source = model_source(name)
    try:
        return match_segment_ids(AutoTokenizer.from_pretrained(source), AutoConfig.from_pretrained(source))
    except (OSError, ValueError) as exc:
        raise _not_available(source, exc) from exc


def load_model(name: str | None = None, head: str = "base", **kwargs):
    """Return ``(tokenizer, model)`` for a hub id, a local checkpoint directory or ``tiny-ko-bert``.

    ``head`` picks the class: ``"base"`` (``AutoModel``: hidden states + pooler), ``"mlm"``
    (fill-mask), ``"pretraining"`` (MLM + pair heads) or ``"classification"`` (extra kwargs,
    e.g. ``num_labels``, are passed to ``from_pretrained``). The model is returned in eval mode on
    :mod:`helpers.runtime`'s device (:func:`~helpers.runtime.place_model`: CUDA, then MPS, then the CPU;
    ``$KO_BERT_DEVICE`` overrides), so a lesson moves its inputs with ``.to(model.device)``; the tokenizer
    returns segment ids only if the model has embeddings for them (:func:`match_segment_ids`).
    """
    import transformers

    from .runtime import place_model

    if head not in HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {sorted(HEADS)}.")
    source = model_source(name)
    auto = getattr(transformers, HEADS[head])
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source)
        model = auto.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_available(source, exc) from exc
    model = place_model(model).eval()
    return match_segment_ids(tokenizer, model.config), model


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
