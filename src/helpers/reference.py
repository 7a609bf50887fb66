"""``tiny-ko-bert``: the offline reference Korean BERT that ships in the repository.

The model lives in ``models/tiny-ko-bert/`` (config, safetensors weights with the MLM and pair
heads, tokenizer files, a model card, ``checksums.sha256``). It was pretrained once by
:mod:`helpers.pretrain` (``make model`` rebuilds it) and is loaded, never rebuilt, by
:func:`helpers.models.load_model`: :func:`ensure_reference_model` checks every file against its
checksum first and refuses a damaged copy with a message that says how to restore it.

Also here, for the model card and lesson 01: the held-out split of the chatbot questions
(:func:`split_heldout`) and held-out masked-token accuracy (:func:`masked_accuracy`).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import cache
from .cache import CHECKSUMS, ArtifactError, verify_checksums, write_checksums  # noqa: F401 (re-exported)

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
    import shutil

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


def split_heldout(df, n_heldout: int, seed: int = 42):
    """Split chatbot rows by *question text*: the held-out questions are never seen in training.

    Chosen by a hash of the text (not by position), so the split is stable.
    Returns ``(train_df, heldout_questions)``. tiny-ko-bert holds out 400 questions (seed 42).
    """
    questions = sorted(set(df["question"]))
    ranked = sorted(questions, key=lambda q: cache.text_key(seed, q))
    heldout = sorted(ranked[:n_heldout])
    held = set(heldout)
    return df[~df["question"].isin(held)].reset_index(drop=True), heldout


def masked_accuracy(model, tokenizer, sentences: list[str], seed: int = 0, probability: float = 0.15,
                    frequent: list[int] | None = None) -> dict:
    """Top-1 / top-5 accuracy of predicting masked word pieces in ``sentences``.

    Each sentence gets ~15 % of its word pieces replaced by [MASK] (at least one), chosen with a
    fixed seed. With ``frequent`` (token ids, most frequent first) the same masked positions are
    also scored for the frequency baseline: always guess ``frequent[0]`` (top-1) or
    ``frequent[:5]`` (top-5). Used for the model card (``benchmarks/tiny_ko_bert.py``), the
    pretraining curve and lesson 01.
    """
    import torch

    rng = np.random.default_rng(seed)
    top1 = top5 = base1 = base5 = total = 0
    model.eval()
    for start in range(0, len(sentences), 64):
        batch = tokenizer(sentences[start:start + 64], padding=True, truncation=True, return_tensors="pt")
        ids = batch["input_ids"].clone()
        labels = torch.full_like(ids, -100)
        for i in range(ids.shape[0]):
            positions = [j for j, t in enumerate(ids[i].tolist()) if t not in tokenizer.all_special_ids]
            if not positions:
                continue
            n = max(1, round(probability * len(positions)))
            for j in rng.choice(positions, size=n, replace=False):
                labels[i, j] = ids[i, j]
                ids[i, j] = tokenizer.mask_token_id
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=batch["attention_mask"],
                           token_type_ids=batch.get("token_type_ids")).logits
        where = labels != -100
        best = logits[where].topk(5, dim=-1).indices
        gold = labels[where].unsqueeze(-1)
        top1 += int((best[:, :1] == gold).any(-1).sum())
        top5 += int((best == gold).any(-1).sum())
        total += int(where.sum())
        if frequent:
            base1 += int((gold == frequent[0]).sum())
            base5 += int(torch.isin(gold, torch.tensor(frequent[:5])).sum())
    out = {"top1": round(top1 / max(total, 1), 4), "top5": round(top5 / max(total, 1), 4), "masked_tokens": total}
    if frequent:
        out.update(baseline_top1=round(base1 / max(total, 1), 4), baseline_top5=round(base5 / max(total, 1), 4))
    return out
