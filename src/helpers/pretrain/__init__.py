"""Pretrain ``tiny-ko-bert`` on Korean text: corpus, WordPiece, MLM + pair objective, resumable.

The build runs in a work directory and goes through stages, each saved before the next starts,
so an interrupted build continues where it stopped (``python -m helpers.pretrain --work DIR``):

1. ``corpus``: NSMC raw reviews (minus held-out movies), Chatbot_data questions and answers
   (minus the held-out questions of :func:`helpers.splits.split_heldout`), KorSTS train,
   Question_pair train and ParaKQC sentences; de-duplicated. Held-out reviews and questions are
   written to ``heldout.jsonl`` and never train anything.
2. ``tokenizer``: a cased WordPiece trained on that corpus (Hangul kept whole).
3. ``units``: every training text encoded once into sentence pairs (A, B): consecutive packed
   review chunks of one movie, a chatbot question and its answer, KorSTS / Question_pair pairs,
   two paraphrases of a ParaKQC set. Stored as ``.npy`` arrays (no pickle).
4. ``train``: ``BertForPreTraining`` with transformers' ``DataCollatorForLanguageModeling``
   (15 % of tokens, 80/10/10), the vocabulary projection computed only at masked positions, and a
   pair loss on the pooler (B is the true partner or a random one, 50/50), trained through
   ``accelerate`` (device from :mod:`helpers.runtime`, ``precision`` fp32 / bf16 / auto, several GPUs
   under ``accelerate launch``). Checkpoints (weights, AdamW state, step) every ``checkpoint_every``
   steps; every batch, the collator's mask and every dropout draw are seeded by the step number, so a
   resumed run continues bit for bit.
5. ``export``: the final model, tokenizer and ``metrics.json`` in ``WORK/final``.

Named recipes (:data:`RECIPES`): ``reference`` (the shipped model, ``make model``), ``tiny`` (the unit
tests, seconds) and larger ones for a GPU (``make model RECIPE=gpu-6x512``, through ``accelerate launch``).
"""
from __future__ import annotations

from ..splits import HELD_OUT_MOVIE_PERCENT, movie_is_heldout  # the held-out rule (lesson 05 reads it here)
from .build import build, export, idle_minutes, main
from .config import RECIPES, PretrainConfig
from .corpus import build_corpus, build_tokenizer, corpus_texts, heldout_texts
from .train import heldout_accuracy, new_model, pretraining_loss, train
from .units import Units, build_units

__all__ = ["HELD_OUT_MOVIE_PERCENT", "PretrainConfig", "RECIPES", "Units", "build", "build_corpus", "build_tokenizer",
           "build_units", "corpus_texts", "export", "heldout_accuracy", "heldout_texts", "main",
           "movie_is_heldout", "new_model", "pretraining_loss", "train"]
