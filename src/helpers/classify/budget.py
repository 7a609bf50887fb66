"""How much a model costs and how much lessons 05-06 train it: parameter counts and plans by hardware.

Every size decision is :func:`helpers.runtime.plan_for`'s (device, precision and the model's compute
per token; ``KO_BERT_FAST=1`` shrinks it for tests):

- :func:`lesson_plan`: the plan of a lesson's training run, with ``.line()`` to print it (lessons 05-06;
  lessons 07 and 08 use :func:`helpers.ner.plan_run` and :func:`helpers.qa.plan_run`, which count sentences
  and windows the same way);
- :func:`training_plan`: the same for ``python -m helpers.classify``-style runs, with the learning rate
  lowered for base-size models;
- :func:`compute_per_token` and :func:`scale_sizes`: training-set sizes shrunk for models that cost more
  per token than tiny-ko-bert on this hardware (lessons 05-06 keep their time budget on any checkpoint);
- :func:`head_summary`: what ``BertForSequenceClassification`` adds on top of ``BertModel`` (lesson 05).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from ..runtime import REFERENCE_COMPUTE, Plan, fast_mode, non_embedding_params, plan_for
from ..runtime.plans import format_seconds
from .train import SEED

# above this many parameters (a base-size BERT has ~110 M) a fine-tuning run uses at most
# LARGE_MODEL_MAX_LR, the usual range for BERT-base (training_plan)
LARGE_MODEL_PARAMETERS = 20_000_000
LARGE_MODEL_MAX_LR = 5e-5
# the base plan behind scale_sizes: lessons 05-06's batch and length (the size ratios do not depend on them)
SCALE_BATCH, SCALE_MAX_LENGTH = 32, 64


def lesson_plan(task: str, model, base: Plan | None = None, *, device=None, max_train_size: int | None = None,
                **fields) -> Plan:
    """The plan of one training run of a lesson for ``model`` on this machine; print ``plan.line()``.

    ``base``: the lesson's plan on a laptop CPU with tiny-ko-bert (a :class:`~helpers.runtime.Plan`), or
    its fields as keywords (``train_size``, ``epochs``, ``batch_size``, ``max_length``, ``eval_size``,
    ``est_seconds``: the measured time, else estimated; ``mean_tokens``: the padded length of a typical
    batch, :func:`helpers.runtime.mean_padded_length`, when texts are shorter than ``max_length``). ``max_train_size``: the examples available (a
    GPU may train on more than the base plan). A tiny-ko-bert-sized model keeps the base plan; a larger
    one gets more data on a GPU and less on a CPU, and ``plan.note`` says what was cut and why.
    """
    base = dataclasses.replace(base, **fields) if base is not None else Plan(**fields)
    return plan_for(task, model, device, base, max_train_size=max_train_size)


def compute_per_token(model) -> int:
    """Parameters outside the embedding tables: a proxy for the compute per token of a forward pass."""
    return non_embedding_params(model)


def scale_sizes(model, sizes, minimum: int = 200, reference: int = REFERENCE_COMPUTE, device=None) -> list[int]:
    """Training-set sizes for ``model`` on this hardware, never more than asked for (lessons 05-06).

    Each size is the training set of :func:`helpers.runtime.plan_for` (one epoch, batch 32, 64 tokens):
    kept for a tiny-ko-bert-sized model (up to twice ``reference``'s compute per token) and on a GPU,
    shrunk on a CPU for a model that costs more per token (a base-size BERT has ~200x), at least
    ``minimum`` (except in FAST mode, ``KO_BERT_FAST=1``). Duplicates are dropped.
    """
    params = compute_per_token(model) * REFERENCE_COMPUTE // max(1, reference)
    out = []
    for n in sizes:
        plan = plan_for("scale_sizes", params, device, Plan(int(n), 1, SCALE_BATCH, SCALE_MAX_LENGTH),
                        max_train_size=int(n))
        m = min(int(n), plan.train_size)
        m = m if fast_mode() else max(minimum, m)
        if m not in out:
            out.append(m)
    return out


@dataclass(frozen=True)
class TrainingPlan:
    """How much a fine-tuning run trains a given model (:func:`training_plan`); ``note`` says why, in one line."""

    epochs: int
    examples: int
    lr: float
    parameters: int
    reduced: bool
    note: str
    plan: Plan | None = None


def training_plan(model, n_train: int, *, epochs: int, lr: float, batch_size: int = 32, max_len: int = 64,
                  device=None) -> TrainingPlan:
    """The fine-tuning budget for ``model`` on this hardware (:func:`helpers.runtime.plan_for`).

    A tiny-ko-bert-sized model: ``epochs`` over all ``n_train`` examples at ``lr``. A larger one on a
    CPU: fewer examples (and 1 epoch if needed) to stay near the small model's time; on a GPU: all
    ``n_train``. Above :data:`LARGE_MODEL_PARAMETERS` parameters the learning rate is at most
    :data:`LARGE_MODEL_MAX_LR` (the usual range for BERT-base), whatever the hardware.
    """
    parameters = int(sum(p.numel() for p in model.parameters()))
    plan = plan_for("fine-tuning", model, device, Plan(int(n_train), int(epochs), batch_size, max_len),
                    max_train_size=int(n_train))
    examples = min(int(n_train), plan.train_size)
    rate = min(lr, LARGE_MODEL_MAX_LR) if parameters > LARGE_MODEL_PARAMETERS else lr
    reduced = examples < n_train or plan.epochs < epochs
    note = (f"{parameters:,} parameters: {plan.epochs} epoch(s) over {examples:,} of {int(n_train):,} examples, "
            f"lr {rate:g}, about {format_seconds(plan.est_seconds)}" + (f". {plan.note}" if plan.note else ""))
    return TrainingPlan(plan.epochs, examples, rate, parameters, reduced, note, plan)


def stratified_subset(frame: pd.DataFrame, n: int, seed: int = SEED, label: str = "label") -> pd.DataFrame:
    """``n`` rows of ``frame`` with the label proportions kept (all of it when ``n >= len(frame)``)."""
    if n >= len(frame):
        return frame
    from sklearn.model_selection import train_test_split

    subset, _ = train_test_split(frame, train_size=n, stratify=frame[label], random_state=seed)
    return subset.sort_index().reset_index(drop=True)


def head_summary(model) -> pd.DataFrame:
    """Parameter counts: the encoder (embeddings + layers), the pooler, and the classification head.

    Shows how little ``BertForSequenceClassification`` adds on top of ``BertModel``: dropout and one
    ``Linear(hidden, num_labels)`` on the pooled [CLS] vector. The encoder is ``model.base_model``, so
    a RoBERTa-family model works too (no pooler: its head holds the dense + tanh layer itself).
    """
    base = getattr(model, "base_model", None)
    if base is None or base is model or not hasattr(model, "classifier"):
        raise TypeError(f"{type(model).__name__} is not a *ForSequenceClassification model "
                        "(needs an encoder and .classifier). Fix: load it with head='classification'.")

    def count(module) -> int:
        return int(sum(p.numel() for p in module.parameters())) if module is not None else 0

    pooler = getattr(base, "pooler", None)
    parts = {
        "encoder (embeddings + layers)": count(base) - count(pooler),
        "pooler (dense + tanh on [CLS])": count(pooler),
        "classifier (new, random init)": count(model.classifier),
    }
    frame = pd.DataFrame({"part": list(parts), "parameters": list(parts.values())})
    frame["share"] = (frame["parameters"] / frame["parameters"].sum()).round(4)
    return frame
