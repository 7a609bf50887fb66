"""One device-aware batched forward pass for every inference loop of the suite (:func:`batched_forward`).

It replaces the loops that each lesson module wrote on its own (sentence poolings of lessons 02
and 04, classifier logits of lessons 05-06, NER tags of lesson 07, masked-token accuracy of
lesson 01 and the model card): tokenize in length-sorted batches, move the tensors to the
model's device, run under ``torch.inference_mode()`` (and autocast for bf16/fp16), bring each
batch's result back as float32 NumPy, and return everything in the input order.
"""
from __future__ import annotations

import numpy as np

from .device import _threads, autocast, choose_device, choose_precision

# tokenizer outputs that are not model inputs (asked for through tokenizer_kwargs)
NOT_MODEL_INPUTS = ("offset_mapping", "special_tokens_mask", "overflow_to_sample_mapping", "length", "labels")
# threads="auto": up to this many texts (a query) run on one torch thread (measured faster on 2 cores)
SMALL_INPUT = 4


def model_device(model):
    """The device of ``model``'s parameters (the CPU for a model without any)."""
    import torch

    device = getattr(model, "device", None)
    if isinstance(device, torch.device):
        return device
    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):
        return torch.device("cpu")


def place_model(model, device=None):
    """Move ``model`` to ``device`` (default :func:`~helpers.runtime.choose_device`) and return it."""
    return model.to(choose_device(device) if not hasattr(device, "type") else device)


def to_device(batch, device):
    """``batch`` with every tensor moved to ``device`` (dicts, ``BatchEncoding``, lists and tuples; other
    values unchanged). A ``BatchEncoding`` keeps its type (and its character offsets)."""
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=getattr(device, "type", str(device)) == "cuda")
    if hasattr(batch, "encodings") and hasattr(batch, "to"):  # transformers.BatchEncoding
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _is_pair(item) -> bool:
    return isinstance(item, (tuple, list)) and len(item) == 2


def _tokenize(tokenizer, items, max_length, extra):
    kwargs = {"padding": True, "truncation": True, "max_length": max_length, "return_tensors": "pt", **extra}
    if items and _is_pair(items[0]):
        return tokenizer([a for a, _ in items], [b for _, b in items], **kwargs)
    return tokenizer(list(items), **kwargs)


def batched_forward(model, tokenizer, texts_or_pairs, fn, *, batch_size: int = 64, max_length: int | None = None,
                    sort_by_length: bool = True, threads=None, precision: str | None = None, prepare=None,
                    per_token: bool = False, tokenizer_kwargs: dict | None = None):
    """Run ``model`` over ``texts_or_pairs`` in batches and return ``fn``'s results in the input order.

    ``texts_or_pairs``: strings, or ``(first, second)`` pairs (``[CLS] a [SEP] b [SEP]``). Each batch is
    tokenized with padding and truncation to ``max_length`` (``None``: the tokenizer's limit) and
    whatever keys the tokenizer returns (``token_type_ids`` or not) go to the model, on the model's
    device; ``prepare(batch) -> batch`` may change a batch first, on the CPU (e.g. mask tokens).
    ``fn(outputs, batch)`` returns a tensor whose first dimension is the batch (``batch`` holds every
    key, on the device; keys in :data:`NOT_MODEL_INPUTS` such as ``labels`` are not passed to the
    model). Results come back as float32 NumPy: one array ``[n, ...]``, or with ``per_token=True`` a
    list of ``n`` arrays, each cut to its text's real tokens (for outputs ``[batch, tokens, ...]``).

    ``sort_by_length`` batches texts of similar length together (less padding); results are put back
    in the input order. ``threads``: torch threads for the call (``None``: unchanged; ``"auto"``: one
    thread for up to :data:`SMALL_INPUT` texts on the CPU, where thread hand-offs cost more than they
    save). ``precision``: default :func:`~helpers.runtime.choose_precision` for the model's device.
    The model runs in eval mode (its training mode is restored afterwards).
    """
    import torch

    items = list(texts_or_pairs)
    if isinstance(texts_or_pairs, str):
        raise TypeError("Pass a list of texts, not a single string (wrap it: [text]).")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    if not items:
        return [] if per_token else np.zeros((0,), dtype=np.float32)
    device = model_device(model)
    precision = choose_precision(device, precision)
    if threads == "auto":
        threads = 1 if device.type == "cpu" and len(items) <= SMALL_INPUT else None

    def size(item):
        return len(item[0]) + len(item[1]) if _is_pair(item) else len(item)

    order = sorted(range(len(items)), key=lambda i: size(items[i])) if sort_by_length else list(range(len(items)))
    chunks: list = []
    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        with _threads(threads), torch.inference_mode(), autocast(device, precision):
            for start in range(0, len(items), batch_size):
                batch = _tokenize(tokenizer, [items[i] for i in order[start:start + batch_size]], max_length,
                                  tokenizer_kwargs or {})
                if prepare is not None:
                    batch = prepare(batch)
                batch = to_device(dict(batch), device)
                outputs = model(**{k: v for k, v in batch.items() if k not in NOT_MODEL_INPUTS})
                result = fn(outputs, batch).detach().float().cpu().numpy()
                if per_token:
                    lengths = batch["attention_mask"].sum(-1).tolist() if "attention_mask" in batch \
                        else [result.shape[1]] * len(result)
                    chunks.extend(row[:int(n)] for row, n in zip(result, lengths))
                else:
                    chunks.append(result)
    finally:
        if was_training:
            model.train()
    if per_token:
        out = [None] * len(items)
        for position, row in zip(order, chunks):
            out[position] = row
        return out
    try:
        stacked = np.concatenate(chunks)
    except ValueError as exc:
        raise ValueError(f"fn returned arrays of different shapes across batches ({[c.shape for c in chunks[:3]]}...): "
                         "per-token outputs need per_token=True.") from exc
    result = np.empty_like(stacked)
    result[np.asarray(order)] = stacked
    return result
