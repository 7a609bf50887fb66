"""Rankings and argmaxes that give the same answer on every machine (lessons 01, 02, 04-07).

Scores that are equal in exact arithmetic can differ in their last bits from one CPU to another:
another CPU picks other BLAS kernels, and a sum taken in another order rounds differently. Lesson
04 met this: "키 작은 남자 좋아하는 여자 있나요?" and "키 작은 여자 좋아하는 남자 있나요?" hold the
same word pieces, so a bag-of-embeddings encoder gives them the same vector up to rounding, and a
strict ``>`` between their scores picked a different answer on another machine.

The rule here: two scores closer than :data:`TIE_TOL` are a tie (float32 promises about 7 digits,
and a score is the end of a long float32 computation), and a tie is broken by a fixed key, the
lower key first (for the chatbot: the corpus row, the order :meth:`ChatbotIndex.search` shows).
Comparisons are made in float64. A flip now needs two scores whose gap lies within rounding noise
of ``TIE_TOL`` itself, instead of two scores within rounding noise of each other.
"""
from __future__ import annotations

import functools

import numpy as np

TIE_TOL = 1e-5  # scores closer than this are a tie (about 100 float32 ulps at 1.0)


def rank_of(scores, target: int, keys=None, tol: float = TIE_TOL) -> int:
    """1-based rank of ``scores[target]``: 1 + the items scoring more than ``tol`` above it + the
    tied items (within ``tol``) with a lower key (``keys`` default to the positions)."""
    s = np.asarray(scores, dtype=np.float64)
    keys = np.arange(len(s)) if keys is None else np.asarray(keys)
    t = s[target]
    above = s > t + tol
    tied = (np.abs(s - t) <= tol) & (keys < keys[target])
    return 1 + int(np.count_nonzero(above | tied))


def ranks_of(scores, targets, keys=None, tol: float = TIE_TOL) -> np.ndarray:
    """:func:`rank_of` for each row of a score matrix ``[n, items]`` and its ``targets[i]``;
    ``keys`` is one key per item or one row of keys per score row."""
    s = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    keys = np.broadcast_to(np.arange(s.shape[1]) if keys is None else np.asarray(keys), s.shape)
    rows = np.arange(len(s))
    t = s[rows, targets][:, None]
    tk = keys[rows, targets][:, None]
    with np.errstate(invalid="ignore"):  # -inf - -inf for hidden items: NaN, never counted
        tied = (np.abs(s - t) <= tol) & (keys < tk)
    return 1 + np.count_nonzero((s > t + tol) | tied, axis=1)


def order(scores, keys=None, tol: float = TIE_TOL) -> list[int]:
    """Positions of ``scores`` best first; scores within ``tol`` are ordered by ``keys`` (lower first)."""
    s = np.asarray(scores, dtype=np.float64)
    keys = np.arange(len(s)) if keys is None else np.asarray(keys)

    def compare(i, j):
        if abs(s[i] - s[j]) <= tol:
            return -1 if keys[i] < keys[j] else (1 if keys[i] > keys[j] else 0)
        return -1 if s[i] > s[j] else 1

    start = sorted(range(len(s)), key=lambda i: (-s[i], keys[i]))  # near the final order already
    return sorted(start, key=functools.cmp_to_key(compare))


def top_k(scores, k: int, keys=None, tol: float = TIE_TOL) -> list[int]:
    """The ``k`` best positions of a long score vector, in :func:`order` (only near-best items are sorted)."""
    s = np.asarray(scores, dtype=np.float64)
    k = min(k, len(s))
    if k == 0:
        return []
    kth = np.partition(-s, k - 1)[k - 1]  # -(k-th best score)
    cand = np.flatnonzero(s >= -kth - tol)  # every item that could be in the top k after ties
    sub = order(s[cand], None if keys is None else np.asarray(keys)[cand], tol)
    return [int(cand[i]) for i in sub[:k]]


def argmax(logits, tol: float = TIE_TOL, axis: int = -1) -> np.ndarray:
    """Index of the largest value along ``axis``; values within ``tol`` of the largest count as
    tied and the lowest index wins (``np.argmax`` picks by the last bits on a near-tie)."""
    x = np.asarray(logits, dtype=np.float64)
    best = np.max(x, axis=axis, keepdims=True)
    return np.argmax(x >= best - tol, axis=axis)
