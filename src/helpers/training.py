"""One optimisation step, shared by every hand-written training loop of the suite.

Used by lesson 01's mini pretraining (:func:`helpers.mlm.mini_pretrain`), lessons 05 and 06's
fine-tuning loop (:func:`helpers.classify.fine_tune`) and the reference model's pretraining
(:mod:`helpers.pretrain`). The lessons show the loss; this is the plumbing after it.
Lesson 07 uses transformers' ``Trainer`` instead, which does the same steps inside.
"""
from __future__ import annotations


def optimizer_step(model, loss, optimizer, scheduler=None, max_grad_norm: float | None = 1.0) -> float:
    """Back-propagate ``loss``, clip the gradient norm, step ``optimizer`` (and ``scheduler``), clear gradients.

    ``max_grad_norm=None`` skips clipping. Returns the loss as a float (detached), for logging.
    Raises ``ValueError`` for a loss that is not a single number, which is what ``backward`` needs.
    """
    import torch

    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("optimizer_step needs the loss as a one-element tensor (e.g. model(**batch).loss); "
                         f"got {type(loss).__name__}{tuple(loss.shape) if isinstance(loss, torch.Tensor) else ''}. "
                         "Fix: reduce it first, e.g. loss.mean().")
    loss.backward()
    if max_grad_norm is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())
