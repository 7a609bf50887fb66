"""Plans by hardware: how much a lesson trains and scores, from the device and the model's compute per token.

A lesson states its *base plan*: what it does on a laptop CPU with tiny-ko-bert (each lesson about
5 minutes or less). :func:`plan_for` keeps it for tiny-ko-bert-sized models on every device (the
lessons' stored outputs are made with it), grows the training set on a GPU for larger models, and
shrinks it on a CPU for larger models so that the run stays near the base plan's time, saying what
it cut in ``Plan.note``.

Time estimates count FLOPs: about 6 x (non-embedding parameters) per token for a training step
(forward and backward) and 2 x for inference, with every example counted at ``Plan.mean_tokens``
tokens (its batch padded to the longest text; default ``max_length``, what fixed-size windows cost);
divided by a sustained throughput (:func:`throughput`) that depends on the device kind, the precision and,
on the CPU, the model's size: the CPU figures are measured on the suite's own training runs
(``benchmarks/plan_calibration.py``); the GPU figures are estimates (no GPU was available).

FAST mode, for tests (like ratsnlp's "test mode"): with ``KO_BERT_FAST=1`` (also ``true``/``yes``)
in the environment, :func:`plan_for` shrinks every plan hard after the hardware decision: the
training set to 1/8 of the plan (never above the base plan's 1/8, at least :data:`FAST_MIN_TRAIN`
examples or all of them if fewer), 1 epoch, at most :data:`FAST_MAX_EVAL` scored examples; batch size
and ``max_length`` are kept. A lesson run on a random test checkpoint then trains in seconds; its
scores mean nothing, and ``Plan.note`` says so. The smoke test (``tests/test_any_checkpoint.py``)
sets it for two of its three checkpoints.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

# Measured on this project's machine (2 shared cores with avx512_bf16, torch 2.13 CPU) by
# benchmarks/plan_calibration.py (results/plan_calibration.json): the suite's own fine-tuning runs
# (classify.fine_tune, qa.train_qa, ner.train_ner, on 1 training thread as they default to), counting
# 6 x non-embedding parameters per padded token. tiny-ko-bert (2 layers, hidden 128, ~0.4 M parameters)
# sustained 37-41 GFLOP/s and a BERT-base-shaped checkpoint (12 x 768, ~85 M) 63-64 GFLOP/s, whatever
# the task: small matrices use the CPU less well. Between the two the rate follows log(parameters);
# below and above it stays at the end values. A run 5x longer had the same rate (the fixed cost of a run
# is under 0.5 s), so there is no per-step term on the CPU. Rounded down 3 %: the cores are shared.
CPU_SMALL_MODEL = (413_314, 38e9)  # (non-embedding parameters, training FLOP/s): tiny-ko-bert's shape
CPU_LARGE_MODEL = (85_000_000, 62e9)  # a BERT-base shape
# bf16 autocast on this CPU: 1.24x on BERT-base-shaped layers (benchmarks/cpu_throughput.py) and 1.19x on
# a 2-layer hidden-128 MLM step (issue 19's micro-benchmark): 1.2x
CPU_BF16_SPEEDUP = 1.2
# scoring (inference mode, 2 x parameters per token) sustained 1.2x the training rate per FLOP on 1 thread
# (tiny-ko-bert 45 GFLOP/s, base shape 80); lesson 07 scores on 2 threads, ~1.6x faster still (not modelled)
CPU_EVAL_SPEEDUP = 1.2
CPU_TRAIN_FLOPS = {"fp32": CPU_LARGE_MODEL[1], "bf16": CPU_BF16_SPEEDUP * CPU_LARGE_MODEL[1]}  # base-size models
# Estimates, not measurements (no GPU is available to this project): a Colab T4 peaks at 65 TFLOPS
# in fp16 tensor-core math and 8.1 TFLOPS in fp32 (NVIDIA's T4 datasheet); BERT fine-tuning sustains
# roughly 25-35 % of peak, so 30 % is used. An Apple M1's GPU peaks at about 2.6 TFLOPS fp32.
GPU_UTILISATION = 0.30
T4_PEAK_FLOPS = {"fp16": 65e12, "bf16": 65e12, "fp32": 8.1e12}
MPS_PEAK_FLOPS = 2.6e12
THROUGHPUT = {  # FLOP/s of a base-size model's training step (the CPU: see throughput() for smaller models)
    ("cpu", "fp32"): CPU_TRAIN_FLOPS["fp32"], ("cpu", "bf16"): CPU_TRAIN_FLOPS["bf16"],
    ("cpu", "fp16"): CPU_TRAIN_FLOPS["fp32"],
    **{("cuda", p): GPU_UTILISATION * f for p, f in T4_PEAK_FLOPS.items()},
    **{("mps", p): GPU_UTILISATION * MPS_PEAK_FLOPS for p in ("fp32", "bf16", "fp16")},
}
# kernel launches, the optimizer and Python per training step on a GPU (an estimate; on the CPU it was
# not measurable beside the arithmetic, see above)
STEP_OVERHEAD_SECONDS = {"cpu": 0.0, "cuda": 0.02, "mps": 0.03}

# non-embedding parameters of tiny-ko-bert with a 2-label head (helpers.classify.core.REFERENCE_COMPUTE):
# the model every base plan is written for
REFERENCE_COMPUTE = 413_314
SMALL_MODEL_FACTOR = 2.0  # up to 2x that compute per token, a model keeps the base plan
MIN_TRAIN = 200  # never train on fewer examples (the floor of helpers.classify.scale_sizes)
MIN_EVAL = 200
GPU_BUDGET_SECONDS = 180.0  # a GPU run may take at least this long (one run of a lesson)
GPU_GROWTH = 25  # at most this many times the base plan's training examples (unless max_train_size says)
FAST_ENV = "KO_BERT_FAST"  # FAST mode (see the module docstring): tests shrink every plan
FAST_DIVISOR = 8  # FAST mode: 1/8 of the training examples
FAST_MIN_TRAIN = 64  # FAST mode: at least two batches of 32 (or every example if there are fewer)
FAST_MAX_EVAL = 200  # FAST mode: at most this many examples scored


@dataclass(frozen=True)
class Plan:
    """One training run of a lesson: how many examples, epochs, batch, tokens, and the estimated time.

    ``eval_size``: examples scored once after training (inference). ``note``: one English sentence
    when the plan differs from the lesson's base plan, saying what changed and why. ``mean_tokens``: the
    tokens an example costs when its batch is padded to the longest text (:func:`mean_padded_length`;
    0: ``max_length``, as for fixed-size windows); it only changes the estimate.
    """

    train_size: int
    epochs: int
    batch_size: int
    max_length: int
    eval_size: int = 0
    est_seconds: float = 0.0
    note: str = ""
    task: str = ""
    device: str = "cpu"
    mean_tokens: float = 0.0

    def line(self, runs: int = 1) -> str:
        """``plan (sentiment, cpu): 4,000 examples x 2 epoch(s), batch 32, 64 tokens, 3,000 scored; about 1 min``
        (``runs`` > 1: ``...; about 2 min for 2 runs``, a lesson that trains a control model the same way)."""
        what = f"plan ({self.task}, {self.device})" if self.task else f"plan ({self.device})"
        total = format_seconds(self.est_seconds * runs) + (f" for {runs} runs" if runs > 1 else "")
        text = (f"{what}: {self.train_size:,} examples x {self.epochs} epoch(s), batch {self.batch_size}, "
                f"{self.max_length} tokens, {self.eval_size:,} scored; about {total}")
        return f"{text}. {self.note}" if self.note else text


def format_seconds(seconds: float) -> str:
    """``40 s``, ``3 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def non_embedding_params(model_config_or_params) -> int:
    """Parameters outside the embedding tables (compute per token): from a model, a BERT-style config
    (layers, hidden, intermediate; the pooler included) or an int taken as that count already."""
    if isinstance(model_config_or_params, (int, float)):
        return int(model_config_or_params)
    source = model_config_or_params
    if hasattr(source, "parameters"):  # a model: count (as helpers.classify.compute_per_token does)
        base = getattr(source, "base_model", source)
        emb = getattr(base, "embeddings", None)
        total = sum(p.numel() for p in source.parameters())
        return int(total - (sum(p.numel() for p in emb.parameters()) if emb is not None else 0))
    h, layers = source.hidden_size, source.num_hidden_layers
    inter = getattr(source, "intermediate_size", 4 * h)
    per_layer = 4 * (h * h + h) + 2 * h * inter + inter + h + 4 * h  # attention, feed-forward, 2 LayerNorms
    return int(layers * per_layer + h * h + h)  # + the pooler


def flops_per_token(params: int, training: bool = True) -> float:
    """About 6 x parameters per token for training (forward + backward), 2 x for inference."""
    return (6.0 if training else 2.0) * params


def throughput(params: int, kind: str = "cpu", precision: str = "fp32", training: bool = True) -> float:
    """Sustained FLOP/s of a model of ``params`` non-embedding parameters on a device ``kind``.

    The CPU: measured (see :data:`CPU_SMALL_MODEL`): from tiny-ko-bert's rate to a base-size model's,
    on log(parameters), x :data:`CPU_BF16_SPEEDUP` in bf16, x :data:`CPU_EVAL_SPEEDUP` for scoring.
    A GPU: :data:`THROUGHPUT` (an estimate from the datasheet's peak).
    """
    if kind != "cpu":
        return THROUGHPUT[(kind, precision)]
    (n_small, small), (n_large, large) = CPU_SMALL_MODEL, CPU_LARGE_MODEL
    where = (math.log(max(params, 1)) - math.log(n_small)) / (math.log(n_large) - math.log(n_small))
    rate = small + min(1.0, max(0.0, where)) * (large - small)
    return rate * (CPU_BF16_SPEEDUP if precision == "bf16" else 1.0) * (1.0 if training else CPU_EVAL_SPEEDUP)


def mean_padded_length(lengths, batch_size: int, seed: int = 0, shuffle: bool = True) -> float:
    """Tokens per example when examples (of ``lengths`` tokens) are drawn in random batches of ``batch_size``
    (``shuffle=False``: in the given order) and each batch is padded to its longest: a data set's
    ``Plan.mean_tokens`` (a seeded draw)."""
    import numpy as np

    lengths = np.asarray(list(lengths))
    if lengths.size == 0:
        return 0.0
    order = np.random.default_rng(seed).permutation(lengths.size) if shuffle else np.arange(lengths.size)
    batches = [lengths[order[i:i + batch_size]] for i in range(0, lengths.size, max(1, batch_size))]
    return float(sum(len(b) * b.max() for b in batches) / lengths.size)


def estimate_seconds(plan: Plan, params: int, kind: str = "cpu", precision: str = "fp32") -> float:
    """Estimated wall time of ``plan`` for a model of ``params`` non-embedding parameters (see the module
    docstring; checked against measured runs in ``tests/test_runtime.py``)."""
    tokens = plan.mean_tokens or plan.max_length
    steps = math.ceil(plan.train_size / max(1, plan.batch_size)) * plan.epochs
    train = plan.train_size * plan.epochs * tokens * flops_per_token(params) / throughput(params, kind, precision)
    score = plan.eval_size * tokens * flops_per_token(params, False) / throughput(params, kind, precision, False)
    return train + score + steps * STEP_OVERHEAD_SECONDS.get(kind, 0.0)


def _round(n: float) -> int:
    """Even (balanced label halves), and to hundreds above 1,000 (readable)."""
    n = int(n)
    return n // 100 * 100 if n >= 1000 else max(2, n // 2 * 2)


def _fit_train(plan: Plan, params: int, kind: str, precision: str, budget: float) -> int:
    """The most training examples of ``plan`` (its epochs and eval) whose estimate fits ``budget``."""
    fixed = estimate_seconds(dataclasses.replace(plan, train_size=0), params, kind, precision)
    one = estimate_seconds(dataclasses.replace(plan, train_size=plan.batch_size, eval_size=0), params, kind,
                           precision) / plan.batch_size
    return max(0, int((budget - fixed) / one)) if one > 0 else 10 ** 9


def fast_mode() -> bool:
    """True when ``$KO_BERT_FAST`` asks for FAST mode (``1``, ``true``, ``yes``, ``on``; see the module docstring)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _fast(plan: Plan, base_plan: Plan, params: int, kind: str, precision: str) -> Plan:
    """``plan`` shrunk for FAST mode (see the module docstring)."""
    n = _round(min(plan.train_size, base_plan.train_size) / FAST_DIVISOR)
    n = min(plan.train_size, max(FAST_MIN_TRAIN, n))
    fast = dataclasses.replace(plan, train_size=n, epochs=1, eval_size=min(plan.eval_size, FAST_MAX_EVAL))
    note = (f"FAST mode ({FAST_ENV}=1, for tests): {n:,} of {plan.train_size:,} training examples, 1 of "
            f"{plan.epochs} epoch(s), {fast.eval_size:,} of {plan.eval_size:,} scored; the scores mean nothing.")
    return dataclasses.replace(fast, est_seconds=estimate_seconds(fast, params, kind, precision),
                               note=f"{plan.note} {note}" if plan.note else note)


def device_kind(device=None) -> str:
    """``cpu``, ``cuda`` or ``mps`` for ``device``: a kind, ``cuda:N`` or a ``torch.device`` (no hardware needed,
    so a plan can be made for another machine); ``None`` or ``auto``: :func:`~helpers.runtime.choose_device`'s."""
    from .device import choose_device

    if device is None or isinstance(device, str) and device in ("", "auto"):
        return choose_device().type
    kind = str(getattr(device, "type", device)).split(":")[0]
    if kind not in STEP_OVERHEAD_SECONDS:
        raise ValueError(f"Unknown device kind {kind!r}; use cpu, cuda or mps.")
    return kind


def is_cpu(device=None) -> bool:
    """True when ``device`` (see :func:`device_kind`) is the CPU: plans cut there, and grow on a GPU."""
    return device_kind(device) == "cpu"


def plan_for(task: str, model_config_or_params, device=None, base_plan: Plan | None = None, *,
             precision: str | None = None, budget_seconds: float | None = None,
             max_train_size: int | None = None) -> Plan:
    """The plan of one training run of ``task`` for this model on ``device`` (see the module docstring).

    ``base_plan``: the lesson's plan on a laptop CPU with tiny-ko-bert (its ``est_seconds`` the measured
    time; 0: estimated). ``device``: a kind or ``torch.device`` (no hardware needed; default
    :func:`~helpers.runtime.choose_device`). ``budget_seconds``: the time to fit (default: the base
    plan's, and on a GPU at least :data:`GPU_BUDGET_SECONDS`). ``max_train_size``: the examples
    available (default :data:`GPU_GROWTH` x the base plan's). In FAST mode (``$KO_BERT_FAST``) the
    result is then shrunk hard (see the module docstring).
    """
    from .device import _default_precision

    if base_plan is None:
        raise ValueError("plan_for needs the lesson's base_plan (its laptop-CPU, tiny-ko-bert plan).")
    kind = device_kind(device)
    precision = precision or _default_precision(kind)
    params = non_embedding_params(model_config_or_params)
    plan = _hardware_plan(task, params, kind, precision, base_plan, budget_seconds, max_train_size)
    return _fast(plan, base_plan, params, kind, precision) if fast_mode() else plan


def _hardware_plan(task: str, params: int, kind: str, precision: str, base_plan: Plan,
                   budget_seconds: float | None, max_train_size: int | None) -> Plan:
    """:func:`plan_for` without FAST mode."""
    base_seconds = base_plan.est_seconds or estimate_seconds(base_plan, REFERENCE_COMPUTE, "cpu", "fp32")
    base = dataclasses.replace(base_plan, task=task, device=kind, est_seconds=base_seconds, note="")
    full, ratio = estimate_seconds(base, params, kind, precision), params / REFERENCE_COMPUTE
    if params <= SMALL_MODEL_FACTOR * REFERENCE_COMPUTE:  # the lesson's own model class: its plan as written
        return base if kind == "cpu" else dataclasses.replace(base, est_seconds=min(full, base_seconds))
    budget = budget_seconds or (base_seconds if kind == "cpu" else max(base_seconds, GPU_BUDGET_SECONDS))
    fit = _fit_train(base, params, kind, precision, budget)
    if kind != "cpu" and fit > base.train_size:  # a GPU with time to spare: more data, same epochs
        n = _round(min(max_train_size or GPU_GROWTH * base.train_size, fit))
        plan = dataclasses.replace(base, train_size=n)
        note = "" if n == base.train_size else (
            f"On {kind} ({precision}) the run grows to {n:,} training examples (the lesson's CPU plan has "
            f"{base.train_size:,}), which fit about {format_seconds(budget)}.")
        return dataclasses.replace(plan, est_seconds=estimate_seconds(plan, params, kind, precision), note=note)
    if full <= 1.1 * budget:
        return dataclasses.replace(base, est_seconds=full)
    plan = dataclasses.replace(base, eval_size=min(base.eval_size, max(MIN_EVAL, int(base.eval_size * budget / full))))
    n = _fit_train(plan, params, kind, precision, budget)
    if n < min(MIN_TRAIN, base.train_size) and plan.epochs > 1:
        plan = dataclasses.replace(plan, epochs=1)
        n = _fit_train(plan, params, kind, precision, budget)
    plan = dataclasses.replace(plan, train_size=min(base.train_size, max(min(MIN_TRAIN, base.train_size), _round(n))))
    cuts = [f"{plan.train_size:,} of {base.train_size:,} training examples"]
    if plan.epochs != base.epochs:
        cuts.append(f"{plan.epochs} of {base.epochs} epochs")
    if plan.eval_size != base.eval_size:
        cuts.append(f"{plan.eval_size:,} of {base.eval_size:,} scored examples")
    est = estimate_seconds(plan, params, kind, precision)
    where = "a CPU" if kind == "cpu" else f"{kind} ({precision})"
    note = (f"This model costs {ratio:,.0f}x tiny-ko-bert's compute per token, so on {where} the run keeps "
            f"{', '.join(cuts[:-1]) + ' and ' + cuts[-1] if len(cuts) > 1 else cuts[0]} to stay near "
            f"{format_seconds(budget)} (about {format_seconds(est)}); scores will be lower than with the full plan.")
    return dataclasses.replace(plan, est_seconds=est, note=note)
