"""The one owner of execution: which device, which precision, how many threads, how deterministic,
one batched forward pass, and how much a lesson trains on this hardware (issue 19).

- :mod:`~helpers.runtime.device`: :func:`choose_device` (CUDA, then MPS, then the CPU;
  ``$KO_BERT_DEVICE`` overrides; an impossible choice raises :class:`RuntimeConfigError` with the
  fix), :func:`choose_precision` (``$KO_BERT_PRECISION``), :func:`autocast`, the Trainer / Accelerate
  arguments (:func:`trainer_precision_kwargs`, :func:`trainer_device_kwargs`,
  :func:`accelerate_mixed_precision`, :func:`accelerator_kwargs`; :func:`engine_device` makes ``cuda:N``
  the GPU that Accelerate uses, or says why the Trainer cannot), the context managers
  :func:`threads` and :func:`execution` (threads, ``transformers.set_seed``, deterministic
  algorithms; all restored), :func:`set_threads` (a lesson's thread count for the session),
  :func:`describe`;
- :mod:`~helpers.runtime.forward`: :func:`to_device` and :func:`batched_forward`, the inference loop of
  lesson 01 (masked-token accuracy), 02 (sentence poolings), 04 (chatbot encoders), 05-06
  (classifier logits) and 07 (NER tags);
- :mod:`~helpers.runtime.plans`: :class:`Plan` and :func:`plan_for`, the training budgets of lessons
  05 (NSMC sentiment), 06 (question pairs), 07 (KLUE-NER) and 08 (KorQuAD) by device and model size;
  ``KO_BERT_FAST=1`` (:func:`fast_mode`) shrinks every plan hard for tests.

``python -m helpers doctor`` prints what this module decides on the machine at hand.
"""
from __future__ import annotations

from .device import (
    DEVICE_ENV,
    PRECISION_ENV,
    PRECISIONS,
    RuntimeConfigError,
    accelerate_mixed_precision,
    accelerator_kwargs,
    autocast,
    choose_device,
    choose_precision,
    cpu_has_bf16,
    describe,
    engine_device,
    execution,
    set_threads,
    status_line,
    threads,
    torch_dtype,
    trainer_device_kwargs,
    trainer_precision_kwargs,
)
from .forward import SMALL_INPUT, batched_forward, model_device, place_model, to_device
from .plans import (
    CPU_TRAIN_FLOPS,
    FAST_ENV,
    REFERENCE_COMPUTE,
    THROUGHPUT,
    Plan,
    device_kind,
    estimate_seconds,
    fast_mode,
    flops_per_token,
    is_cpu,
    mean_padded_length,
    non_embedding_params,
    plan_for,
    throughput,
)

__all__ = [
    "CPU_TRAIN_FLOPS", "DEVICE_ENV", "FAST_ENV", "PRECISIONS", "PRECISION_ENV", "REFERENCE_COMPUTE", "SMALL_INPUT",
    "THROUGHPUT", "Plan", "RuntimeConfigError", "accelerate_mixed_precision", "accelerator_kwargs", "autocast",
    "batched_forward", "choose_device", "device_kind", "choose_precision", "cpu_has_bf16", "describe", "engine_device",
    "estimate_seconds", "execution", "fast_mode", "flops_per_token", "is_cpu", "mean_padded_length", "model_device",
    "non_embedding_params", "place_model", "plan_for", "set_threads", "status_line", "threads", "throughput",
    "to_device", "torch_dtype", "trainer_device_kwargs", "trainer_precision_kwargs",
]
