"""``tiny-ko-bert``: the offline reference Korean BERT that ships in the repository.

The model lives in ``models/tiny-ko-bert/`` (config, safetensors weights with the MLM and pair
heads, tokenizer files, a model card, ``checksums.sha256``). It was pretrained once by
:mod:`helpers.pretrain` (``make model`` rebuilds it) and is loaded, never rebuilt, by
:func:`helpers.models.load_model`: :func:`ensure_reference_model` checks every file against its
checksum first and refuses a damaged copy with a message that says how to restore it.

What the model card claims is measured elsewhere and handed on here for lesson 01: the held-out
chatbot questions (:func:`helpers.splits.split_heldout`) and the held-out masked-token accuracy
(:func:`helpers.mlm_accuracy.masked_accuracy`).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .cache import CHECKSUMS, ArtifactError, verify_checksums, write_checksums  # noqa: F401 (re-exported)
from .mlm_accuracy import masked_accuracy  # noqa: F401 (re-exported: lesson 01)
from .splits import split_heldout  # noqa: F401 (re-exported: lesson 01)

REFERENCE_NAME = "tiny-ko-bert"
# what a complete copy must hold (the card and checksums aside)
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


class ReferenceModelError(ArtifactError):
    """The shipped tiny-ko-bert is missing or damaged; the message says how to restore it."""


def shipped_dir() -> Path:
    """Where the shipped model lives: ``<repository>/models/tiny-ko-bert``."""
    return Path(__file__).resolve().parents[2] / "models" / REFERENCE_NAME


def verify_model_dir(directory: str | os.PathLike) -> None:
    """Raise :class:`ReferenceModelError` unless every file listed in ``checksums.sha256`` matches."""
    fix = ("Fix: restore it with `git checkout -- models/tiny-ko-bert` (or a fresh clone), or rebuild it "
           "with `make model` and set BERT_MODEL to the folder it prints.")
    try:
        verify_checksums(directory, REQUIRED_FILES, what=REFERENCE_NAME, fix=fix)
    except ArtifactError as err:
        raise ReferenceModelError(str(err)) from None


def publish(final: str | os.PathLike, dest: str | os.PathLike | None = None) -> Path:
    """Copy a finished build (``WORK/final`` of :mod:`helpers.pretrain`) to ``dest`` (default: the
    shipped folder) and write its checksums; the model card (README.md) in ``dest`` is kept."""
    final, dest = Path(final), Path(dest) if dest else shipped_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.is_file() and old.name != "README.md":
            old.unlink()
    for f in sorted(final.iterdir()):
        if f.is_file():
            shutil.copy2(f, dest / f.name)
    write_checksums(dest)
    verify_model_dir(dest)
    return dest


def ensure_reference_model(log=None) -> Path:
    """Return the directory of the shipped tiny-ko-bert after checking its checksums."""
    directory = shipped_dir()
    if not directory.is_dir():
        raise ReferenceModelError(
            f"tiny-ko-bert is not at {directory}. It ships in the repository's models/ folder: install the "
            "suite from a clone with `pip install -e .` (or `make lab`), or set BERT_MODEL=/path/to/tiny-ko-bert.")
    verify_model_dir(directory)
    return directory
