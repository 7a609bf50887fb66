"""One optimisation step, shared by every hand-written training loop of the suite.

Used by lesson 01's mini pretraining (:func:`helpers.mlm.mini_pretrain`), lessons 05 and 06's
fine-tuning loop (:func:`helpers.classify.fine_tune`) and the reference model's pretraining
(:mod:`helpers.pretrain`). The lessons show the loss; this is the plumbing after it. With an
``accelerate.Accelerator`` (fine-tuning) the backward pass and the clipping are Accelerate's (loss scaling
for fp16, gradients synchronised across GPUs). Lesson 07 uses transformers' ``Trainer`` instead, which
does the same steps inside.
"""
from __future__ import annotations


def optimizer_step(model, loss, optimizer, scheduler=None, max_grad_norm: float | None = 1.0,
                   accelerator=None) -> float:
    """Back-propagate ``loss``, clip the gradient norm, step ``optimizer`` (and ``scheduler``), clear gradients.

    ``max_grad_norm=None`` skips clipping. ``accelerator``: an ``accelerate.Accelerator`` that prepared
    ``model``, ``optimizer`` and ``scheduler`` (its ``backward`` and ``clip_grad_norm_`` are used).
    Returns the loss as a float (detached), for logging.
    Raises ``ValueError`` for a loss that is not a single number, which is what ``backward`` needs.
    """
    import torch

    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("optimizer_step needs the loss as a one-element tensor (e.g. model(**batch).loss); "
                         f"got {type(loss).__name__}{tuple(loss.shape) if isinstance(loss, torch.Tensor) else ''}. "
                         "Fix: reduce it first, e.g. loss.mean().")
    if accelerator is None:
        loss.backward()
    else:
        accelerator.backward(loss)
    if max_grad_norm is not None:
        clip = torch.nn.utils.clip_grad_norm_ if accelerator is None else accelerator.clip_grad_norm_
        clip(model.parameters(), max_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())
