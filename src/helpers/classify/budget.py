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
- :func:`curve_plan`: lesson 05's whole plan (learning-curve sizes, epochs, learning-rate grid, validation and
  test sizes) from the checkpoint's config and the device, printed in one line;
- :func:`head_summary`: what ``BertForSequenceClassification`` adds on top of ``BertModel`` (lesson 05).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import pandas as pd

from ..runtime import (REFERENCE_COMPUTE, Plan, device_kind, estimate_seconds, fast_mode, is_cpu, non_embedding_params,
                       plan_for)
from ..runtime.plans import SMALL_MODEL_FACTOR, format_seconds
from .train import SEED

# above this many parameters (a base-size BERT has ~110 M) a fine-tuning run uses at most
# LARGE_MODEL_MAX_LR, the usual range for BERT-base (training_plan)
LARGE_MODEL_PARAMETERS = 20_000_000
LARGE_MODEL_MAX_LR = 5e-5
# the base plan behind scale_sizes: lessons 05-06's batch and length (the size ratios do not depend on them)
SCALE_BATCH, SCALE_MAX_LENGTH = 32, 64
# above LARGE_MODEL_PARAMETERS, lessons 05-06 choose between BERT's usual fine-tuning rates
BASE_LR_GRID = (2e-5, 3e-5, 5e-5)
# curve_plan on a CPU for a model that costs more than tiny-ko-bert: the lesson's training and scoring, estimated
CPU_CURVE_SECONDS = 540.0
CPU_CURVE_MIN_TRAIN, CPU_CURVE_VAL, CPU_CURVE_TEST = 64, 200, 500
# curve_plan on a GPU: the main run grows to fill plan_for's GPU budget, up to this many reviews
GPU_CURVE_MAX_TRAIN = 50_000


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


def epochs_for(size: int, epochs: int, min_examples: int, max_epochs: int = 10) -> int:
    """At least ``epochs`` passes and at least ``min_examples`` examples seen (small sets get more epochs)."""
    return int(min(max_epochs, max(epochs, math.ceil(min_examples / max(1, size)))))


@dataclass(frozen=True)
class CurvePlan:
    """Lesson 05's plan (:func:`curve_plan`): print ``plan.line()``.

    ``sizes``: the learning curve's training-set sizes (the last is the main run, the one before it the
    learning-rate search's); each size trains :func:`epochs_for` ``(size, epochs, min_examples)`` epochs;
    ``lr_grid``: the rates each model chooses from on validation; ``val_size`` / ``test_size``: reviews
    scored; ``note``: what differs from the lesson's own plan and why (empty when nothing does).
    """

    sizes: tuple[int, ...]
    epochs: int
    min_examples: int
    lr_grid: tuple[float, ...]
    val_size: int
    test_size: int
    est_seconds: float
    device: str = ""
    note: str = ""

    def line(self) -> str:
        """``plan (sentiment, cpu): training sizes 500, 2,000, 4,000, 2 epoch(s) ...; about 4 min``."""
        sizes = ", ".join(f"{n:,}" for n in self.sizes)
        grid = ", ".join(f"{v:g}" for v in self.lr_grid)
        seen = f" (at least {self.min_examples:,} examples seen)" if self.min_examples > min(self.sizes) else ""
        text = (f"plan (sentiment, {self.device}): training sizes {sizes}, {self.epochs} epoch(s){seen}, learning "
                f"rate(s) {grid}; {self.val_size:,} validation and {self.test_size:,} test reviews; about "
                f"{format_seconds(self.est_seconds)}")
        return f"{text}. {self.note}" if self.note else text


def curve_seconds(plan: CurvePlan, params: int, kind: str | None = None, precision: str | None = None,
                  batch_size: int = 32, max_len: int = 64) -> float:
    """Estimated time of lesson 05 under ``plan`` (:func:`helpers.runtime.estimate_seconds` for every run):
    the search (each rate x 2 models at ``sizes[-2]``, validation scored each epoch and once more), the two
    main runs (validation each epoch, then the test set), the search's chosen models on the test set, and
    the smaller sizes of the curve. With one training size the search's chosen runs are the main runs
    (the lesson scores them instead of training again), so the main runs cost only their test set.
    ``kind`` / ``precision``: :func:`~helpers.runtime.estimate_seconds`'s defaults (the CPU in fp32) unless given."""
    hardware = {k: v for k, v in (("kind", kind), ("precision", precision)) if v}
    sizes = list(plan.sizes)
    main, select = sizes[-1], sizes[-2] if len(sizes) > 1 else sizes[-1]

    def run(size: int, scored: int) -> float:
        e = epochs_for(size, plan.epochs, plan.min_examples)
        return estimate_seconds(Plan(size, e, batch_size, max_len, eval_size=plan.val_size * e + scored), params,
                                **hardware)

    total = 2 * len(plan.lr_grid) * run(select, plan.val_size)
    total += 2 * sum(run(n, plan.test_size) for n in sizes[:-2])
    total += 2 * estimate_seconds(Plan(0, 1, batch_size, max_len, eval_size=plan.test_size), params, **hardware)
    if select != main:
        total += 2 * run(main, plan.test_size)
    return total


def _model_shape(model) -> tuple[int, int]:
    """(non-embedding parameters, all parameters) of a model, a config or a model name (from a config: about)."""
    if isinstance(model, str):
        from transformers import AutoConfig

        from ..models import model_source

        model = AutoConfig.from_pretrained(model_source(model))
    if hasattr(model, "parameters"):
        return compute_per_token(model), int(sum(p.numel() for p in model.parameters()))
    tables = getattr(model, "vocab_size", 0) + getattr(model, "max_position_embeddings", 0) + \
        getattr(model, "type_vocab_size", 0)
    compute = non_embedding_params(model)
    return compute, compute + tables * model.hidden_size


def curve_plan(model, sizes, *, epochs: int, min_examples: int, lr_grid, val_size: int, test_size: int,
               batch_size: int = 32, max_len: int = 64, device=None) -> CurvePlan:
    """Lesson 05's plan for ``model`` (a name such as ``info.model``, a config or a model) on this hardware.

    - A tiny-ko-bert-sized model (up to twice its compute per token) keeps the lesson's plan on any device
      (in FAST mode, ``KO_BERT_FAST=1``, its sizes shrink as :func:`scale_sizes` does).
    - Above :data:`LARGE_MODEL_PARAMETERS` parameters the grid is :data:`BASE_LR_GRID` (BERT's usual rates).
    - A larger model on a GPU: the main run grows to what :func:`helpers.runtime.plan_for` fits in its GPU
      budget (up to :data:`GPU_CURVE_MAX_TRAIN` reviews; tens of thousands for klue/bert-base on a T4).
    - A larger model on a CPU: one epoch over one training size, the grid's middle rate only, fewer reviews
      scored, and the size that fits :data:`CPU_CURVE_SECONDS` in all (at least :data:`CPU_CURVE_MIN_TRAIN`):
      the lesson runs in minutes, the note says what was cut, and its scores say little.
    """
    from ..runtime.device import _default_precision

    kind = device_kind(device)
    precision = _default_precision(kind)
    compute, parameters = _model_shape(model)
    sizes, grid = tuple(int(n) for n in sizes), tuple(float(v) for v in lr_grid)
    plan = CurvePlan(sizes, int(epochs), int(min_examples), grid, int(val_size), int(test_size), 0.0, kind)
    notes = []
    if parameters > LARGE_MODEL_PARAMETERS:
        plan = dataclasses.replace(plan, lr_grid=BASE_LR_GRID)
        notes.append(f"{parameters / 1e6:,.0f} M parameters: BERT's usual learning rates")
    if compute <= SMALL_MODEL_FACTOR * REFERENCE_COMPUTE or fast_mode():
        plan = dataclasses.replace(plan, sizes=tuple(scale_sizes(compute, sizes, device=kind)))
    elif not is_cpu(kind):
        grown = plan_for("sentiment", compute, kind, Plan(max(sizes), epochs, batch_size, max_len, test_size),
                         max_train_size=GPU_CURVE_MAX_TRAIN)
        if grown.train_size > max(sizes):
            plan = dataclasses.replace(plan, sizes=sizes[:-1] + (grown.train_size,))
            notes.append(f"on {kind} the main run grows to {grown.train_size:,} reviews (the lesson's CPU plan has "
                         f"{max(sizes):,})")
    else:
        cut = dataclasses.replace(plan, epochs=1, min_examples=0, lr_grid=(plan.lr_grid[len(plan.lr_grid) // 2],),
                                  val_size=min(val_size, CPU_CURVE_VAL), test_size=min(test_size, CPU_CURVE_TEST))
        n = max(sizes)
        while n > CPU_CURVE_MIN_TRAIN and curve_seconds(dataclasses.replace(cut, sizes=(n,)), compute, kind, precision,
                                                         batch_size, max_len) > CPU_CURVE_SECONDS:
            n = max(CPU_CURVE_MIN_TRAIN, n * 9 // 10 // 2 * 2)
        plan = dataclasses.replace(cut, sizes=(n,))
        notes.append(f"this model costs {compute / REFERENCE_COMPUTE:,.0f}x tiny-ko-bert's compute per token, so on "
                     f"a CPU the lesson trains 1 epoch on {n:,} of {max(sizes):,} reviews at one learning rate "
                     f"({plan.lr_grid[0]:g}) and scores {plan.val_size:,} validation and {plan.test_size:,} test "
                     "reviews; its scores say little (run it on a GPU for the full plan)")
    est = curve_seconds(plan, compute, kind, precision, batch_size, max_len)
    note = "; ".join(notes)
    return dataclasses.replace(plan, est_seconds=est, note=note[:1].upper() + note[1:] + "." if note else "")


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
