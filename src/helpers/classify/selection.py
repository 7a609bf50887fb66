"""Choosing each model's learning rate on validation, under one budget (lesson 05).

Lesson 05's control (the same architecture from random weights) is evidence only if it learned something.
Random weights need other steps than pretrained ones, so a learning rate tuned for the pretrained model can
leave the control a constant predictor. Each model therefore gets its own learning rate, chosen the same way:

- the same small grid of learning rates, the same training reviews, epochs, batch size, warm-up and seed;
  only the learning rate differs (:func:`lr_search`);
- the choice is the best **validation macro-F1** on the balanced validation reviews, which come from other
  training movies (:func:`helpers.classify.sentiment.nsmc_split`); the test set never selects anything;
- ties (within :data:`helpers.ranking.TIE_TOL`) go to the earlier rate of the grid (the smaller one in an
  ascending grid).

:func:`beats_chance` is the check that a run learned anything: not a constant predictor on validation, and a
validation accuracy above a coin flip by two standard errors (``0.5 + 2 * sqrt(0.25 / n)``) on balanced labels.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from .. import ranking, verdict
from .metrics import scores
from .train import SEED, TrainResult, fine_tune, predict_logits


def chance_band(n: int, chance: float = 0.5) -> float:
    """Accuracy a coin flip stays under on ``n`` balanced examples (chance + 2 standard errors)."""
    if n < 1:
        raise ValueError("chance_band needs at least one example.")
    return chance + 2 * math.sqrt(chance * (1 - chance) / n)


def beats_chance(val_predictions, val_accuracy: float, n: int | None = None) -> bool:
    """True if a run learned something on balanced validation labels: it gives more than one answer and
    its accuracy lies above :func:`chance_band` (``n`` defaults to the number of predictions)."""
    n = len(val_predictions) if n is None else n
    return not verdict.is_constant(val_predictions) and val_accuracy > chance_band(n)


@dataclass
class LRSearch:
    """What :func:`lr_search` returns.

    ``table``: one row per learning rate (``lr, val_macro_f1, val_accuracy, constant, learned, seconds``);
    ``lr``: the chosen one; ``model`` and ``result``: the model trained at that rate (in eval mode) and its
    :class:`~helpers.classify.TrainResult`, so the chosen run need not be trained again.
    """

    table: pd.DataFrame
    lr: float
    model: object
    result: TrainResult

    @property
    def learned_any(self) -> bool:
        """Did the run at any learning rate of the grid learn something (:func:`beats_chance`)?"""
        return bool(self.table["learned"].any())

    @property
    def learned(self) -> bool:
        """Did the run at the chosen learning rate learn something?"""
        return bool(self.table.loc[self.table["lr"] == self.lr, "learned"].iloc[0])


def lr_search(make_model, tokenizer, train: pd.DataFrame, val: pd.DataFrame, lrs, *, epochs: int,
              batch_size: int = 32, max_len: int = 64, warmup_ratio: float = 0.1, seed: int = SEED,
              text: str = "document", label: str = "label", threads: int | None = 1) -> LRSearch:
    """Fine-tune a fresh ``make_model()`` at each learning rate of ``lrs`` with :func:`fine_tune` (everything
    else equal) and keep the one with the best validation macro-F1 (lesson 05; see the module docstring).

    ``make_model()`` must return a new, untrained model each call (same seed, same starting weights).
    Only the chosen model is kept; the others are dropped as soon as they are scored.
    """
    lrs = [float(v) for v in lrs]
    if not lrs or len(set(lrs)) != len(lrs):
        raise ValueError(f"lr_search needs distinct learning rates; got {lrs}.")
    labels = sorted({int(v) for v in train[label]} | {int(v) for v in val[label]})
    rows, best = [], None
    for lr in lrs:
        start = time.perf_counter()
        model = make_model()
        result = fine_tune(model, tokenizer, train[text], train[label], val[text], val[label], epochs=epochs,
                           batch_size=batch_size, lr=lr, warmup_ratio=warmup_ratio, max_len=max_len, seed=seed,
                           threads=threads, evals_per_epoch=1)
        pred = ranking.argmax(predict_logits(model, tokenizer, val[text], max_len=max_len, threads=threads))
        s = scores(val[label], pred, labels=labels)
        rows.append({"lr": lr, "val_macro_f1": s["macro_f1"], "val_accuracy": s["accuracy"],
                     "constant": verdict.is_constant(pred), "learned": beats_chance(pred, s["accuracy"]),
                     "seconds": round(time.perf_counter() - start, 1)})
        if best is None or s["macro_f1"] > best[0] + ranking.TIE_TOL:
            best = (s["macro_f1"], lr, model, result)
        del model
    _, chosen, model, result = best
    return LRSearch(table=pd.DataFrame(rows), lr=chosen, model=model, result=result)
