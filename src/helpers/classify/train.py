"""The plain fine-tuning loop of a ``*ForSequenceClassification`` model, and its logits (lessons 05 and 06).

:func:`fine_tune` is a short PyTorch loop that lesson 05 shows whole (AdamW, warm-up then linear decay,
seeded shuffles, deterministic kernels), run through Accelerate on the device and in the precision that
:mod:`helpers.runtime` chooses; :func:`predict_logits` scores texts or ``(a, b)`` pairs (lesson 06:
``[CLS] a [SEP] b [SEP]``). :data:`SEED` is the classify package's default seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..training import optimizer_step

SEED = 42


@dataclass
class TrainResult:
    """What :func:`fine_tune` returns: per-epoch losses and the training history."""

    history: pd.DataFrame  # columns: epoch, step, train_loss, val_loss, val_accuracy
    steps: int
    batch_size: int
    epochs: int
    examples: int
    extra: dict = field(default_factory=dict)


def encode(tokenizer, texts, max_len: int):
    """Tokenize a batch: ``texts`` are strings, or ``(first, second)`` pairs (lesson 06: ``[CLS] a [SEP] b [SEP]``)."""
    texts = list(texts)
    if texts and isinstance(texts[0], (tuple, list)):
        first, second = [t[0] for t in texts], [t[1] for t in texts]
        return tokenizer(first, second, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    return tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")


def _batches(tokenizer, texts, labels, idx, max_len):
    import torch

    enc = encode(tokenizer, [texts[i] for i in idx], max_len)
    return enc, torch.tensor([int(labels[i]) for i in idx])


def predict_logits(model, tokenizer, texts, batch_size: int = 128, max_len: int = 64,
                   threads: int | None = 1) -> np.ndarray:
    """Logits ``[n, num_labels]`` for ``texts`` (strings or ``(a, b)`` pairs; eval mode, no gradient; on the
    model's device; batches in the input order; ``threads`` as in :func:`fine_tune`)."""
    from ..runtime import batched_forward

    texts = list(texts)
    if not texts:
        return np.zeros((0, model.config.num_labels), dtype=np.float32)
    return batched_forward(model, tokenizer, texts, lambda out, batch: out.logits, batch_size=batch_size,
                           max_length=max_len, sort_by_length=False, threads=threads)


def _mean_loss(model, tokenizer, texts, labels, batch_size, max_len) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    logits = torch.from_numpy(predict_logits(model, tokenizer, texts, batch_size, max_len, threads=None))
    y = torch.tensor([int(v) for v in labels])
    return float(F.cross_entropy(logits, y)), float((logits.argmax(-1) == y).float().mean())


def optimizer_and_schedule(model, *, lr: float, weight_decay: float, warmup_ratio: float, total_steps: int):
    """AdamW over all parameters and transformers' linear warm-up (``warmup_ratio`` of ``total_steps``,
    at least one step) then linear decay to 0: the optimiser of :func:`fine_tune`."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, int(warmup_ratio * total_steps))
    return opt, get_linear_schedule_with_warmup(opt, num_warmup_steps=warm, num_training_steps=total_steps)


def fine_tune(model, tokenizer, train_texts, train_labels, val_texts, val_labels, *, epochs: int = 3,
              batch_size: int = 32, lr: float = 1e-4, weight_decay: float = 0.01, warmup_ratio: float = 0.1,
              max_len: int = 64, evals_per_epoch: int = 4, seed: int = SEED, threads: int | None = 1,
              log=None) -> TrainResult:
    """Fine-tune a ``*ForSequenceClassification`` model with a plain PyTorch loop (in place).

    AdamW, linear warm-up then linear decay, gradient clipping at 1.0, shuffling with a seeded
    ``torch.Generator``, and deterministic algorithms during training (:func:`helpers.runtime.execution`;
    the previous settings are restored afterwards), so a rerun on the same machine gives the same
    numbers. The training loss (mean over the last interval) and the validation loss/accuracy are
    recorded ``evals_per_epoch`` times per epoch. The model is left in eval mode, on the device it
    trained on.

    Device and precision are :mod:`helpers.runtime`'s (a GPU if there is one, bf16/fp16 there; the CPU in
    fp32); ``accelerate.Accelerator`` places the model, runs the mixed precision and, under
    ``accelerate launch`` on several GPUs, splits each batch across them.

    ``threads`` (default 1, restored afterwards; ``None`` keeps the current setting): batches of ~32
    short sentences are too small for a second thread to pay off, and one thread is not slowed
    down several-fold when other programs share the CPU (OpenMP threads wait for each other).
    The thread count changes the last bits of the floats, so keep it fixed for reproducible runs.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    from .. import runtime

    train_texts, val_texts = list(train_texts), list(val_texts)
    train_labels, val_labels = list(train_labels), list(val_labels)
    if len(train_texts) != len(train_labels) or len(val_texts) != len(val_labels):
        raise ValueError("texts and labels must have the same length (train and validation).")
    if not train_texts:
        raise ValueError("fine_tune needs at least one training example.")
    bad = sorted({int(v) for v in train_labels + val_labels} - set(range(model.config.num_labels)))
    if bad:
        raise ValueError(f"labels {bad} are outside 0..{model.config.num_labels - 1}. Fix: load the model with "
                         f"num_labels={max(bad) + 1} (or remap the labels).")
    n = len(train_texts)
    per_epoch = -(-n // batch_size)
    total = per_epoch * epochs
    k = max(1, min(evals_per_epoch, per_epoch))
    eval_at = {round(per_epoch * i / k) for i in range(1, k + 1)}  # batches (1-based) ending an interval
    device = runtime.choose_device()
    precision = runtime.choose_precision(device)
    # seed: dropout masks (transformers.set_seed); threads and deterministic kernels restored afterwards
    with runtime.execution(threads=threads, seed=seed, device=device):
        AcceleratorState._reset_state(reset_partial_state=True)  # one Accelerator per run, as Trainer does
        accelerator = Accelerator(step_scheduler_with_optimizer=False, **runtime.accelerator_kwargs(device, precision))
        gen = torch.Generator().manual_seed(seed)
        opt, sched = optimizer_and_schedule(model, lr=lr, weight_decay=weight_decay, warmup_ratio=warmup_ratio,
                                            total_steps=total)
        net, opt, sched = accelerator.prepare(model, opt, sched)  # model itself on one device (DDP on several)
        rows, running, step = [], [], 0
        try:
            for epoch in range(epochs):
                order = torch.randperm(n, generator=gen).tolist()
                for b in range(per_epoch):
                    net.train()
                    idx = order[b * batch_size:(b + 1) * batch_size]
                    idx = idx[accelerator.process_index::accelerator.num_processes]  # all of it on one device
                    enc, y = _batches(tokenizer, train_texts, train_labels, idx, max_len)
                    batch = runtime.to_device({**enc, "labels": y}, accelerator.device)
                    loss = net(**batch).loss
                    running.append(optimizer_step(net, loss, opt, sched, max_grad_norm=1.0, accelerator=accelerator))
                    step += 1
                    if b + 1 in eval_at:
                        val_loss, val_acc = _mean_loss(model, tokenizer, val_texts, val_labels, 128, max_len)
                        rows.append({"epoch": round(step / per_epoch, 3), "step": step,
                                     "train_loss": float(np.mean(running)), "val_loss": val_loss, "val_accuracy": val_acc})
                        running = []
                        if log:
                            log(rows[-1])
        finally:
            accelerator.unwrap_model(net, keep_fp32_wrapper=False)  # model.forward without the autocast wrapper
            model.eval()
    return TrainResult(history=pd.DataFrame(rows), steps=total, batch_size=batch_size, epochs=epochs, examples=n)
