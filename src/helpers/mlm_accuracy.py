"""Held-out masked-token accuracy of a masked language model: the measure of tiny-ko-bert's model card.

:func:`masked_accuracy` masks ~15 % of the word pieces of each sentence (a fixed seed) and counts how
often the model's top-1 / top-5 guesses are right, beside a frequency baseline. Used by
``benchmarks/tiny_ko_bert.py`` (the model card), the pretraining curve
(:func:`helpers.pretrain.heldout_accuracy`) and lesson 01 (as ``helpers.reference.masked_accuracy``).
"""
from __future__ import annotations

import numpy as np


def masked_accuracy(model, tokenizer, sentences: list[str], seed: int = 0, probability: float = 0.15,
                    frequent: list[int] | None = None) -> dict:
    """Top-1 / top-5 accuracy of predicting masked word pieces in ``sentences``.

    Each sentence gets ~15 % of its word pieces replaced by [MASK] (at least one), chosen with a
    fixed seed. With ``frequent`` (token ids, most frequent first) the same masked positions are
    also scored for the frequency baseline: always guess ``frequent[0]`` (top-1) or
    ``frequent[:5]`` (top-5). Batches of 64 in the input order (:func:`helpers.runtime.batched_forward`,
    on the model's device; the masks are drawn on the CPU, so they do not depend on the device).
    Used for the model card (``benchmarks/tiny_ko_bert.py``), the pretraining curve and lesson 01.
    """
    import torch

    from .runtime import batched_forward

    rng = np.random.default_rng(seed)
    special = set(tokenizer.all_special_ids)

    def mask(batch):  # on the CPU, batch after batch in the input order: the same masks on every device
        ids = batch["input_ids"].clone()
        labels = torch.full_like(ids, -100)
        for i in range(ids.shape[0]):
            positions = [j for j, t in enumerate(ids[i].tolist()) if t not in special]
            if not positions:
                continue
            n = max(1, round(probability * len(positions)))
            for j in rng.choice(positions, size=n, replace=False):
                labels[i, j] = ids[i, j]
                ids[i, j] = tokenizer.mask_token_id
        batch["input_ids"], batch["labels"] = ids, labels
        return batch

    def counts(out, batch):  # per sentence: masked, top-1 hits, top-5 hits, baseline top-1, baseline top-5
        labels = batch["labels"]
        where = labels != -100
        rows = where.nonzero()[:, 0]
        best = out.logits[where].topk(5, dim=-1).indices
        gold = labels[where].unsqueeze(-1)
        hits = [torch.ones_like(gold[:, 0]), (best[:, :1] == gold).any(-1), (best == gold).any(-1)]
        if frequent:
            top = torch.tensor(frequent[:5], device=gold.device)
            hits += [gold[:, 0] == frequent[0], torch.isin(gold[:, 0], top)]
        per_row = torch.zeros(labels.shape[0], len(hits), dtype=torch.long, device=labels.device)
        return per_row.index_add_(0, rows, torch.stack(hits, 1).long())

    per_sentence = batched_forward(model, tokenizer, list(sentences), counts, batch_size=64, sort_by_length=False,
                                   prepare=mask)
    sums = per_sentence.astype(np.int64).sum(0) if len(per_sentence) else np.zeros(5, dtype=np.int64)
    total, top1, top5 = (int(v) for v in sums[:3])
    base1, base5 = (int(v) for v in sums[3:5]) if frequent else (0, 0)
    out = {"top1": round(top1 / max(total, 1), 4), "top5": round(top5 / max(total, 1), 4), "masked_tokens": total}
    if frequent:
        out.update(baseline_top1=round(base1 / max(total, 1), 4), baseline_top5=round(base5 / max(total, 1), 4))
    return out
