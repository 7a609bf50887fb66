"""Sentences that compare results, printed from the results (lessons 02 and 04-09).

A lesson's verdict ("which method won, by how much") must stay true when ``BERT_MODEL`` is
another checkpoint, so it is never typed into the prose: the lesson prints it with these helpers.
Korean particles after a name depend on its last sound (이/가), so the sentences are built around
the name ("이번 실행의 1위: TF-IDF 0.750") rather than after it.

- :func:`ranking_sentence`: the best of several methods and its margin over the runner-up;
- :func:`versus`: one method against another (higher, lower or the same, and by how much);
- :func:`is_constant` / :func:`control_sentence`: a control that predicts one class for every
  input learned nothing, and is reported as such, never as evidence.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _same(a: float, b: float, digits: int) -> bool:
    return round(float(a), digits) == round(float(b), digits)


def ranking_sentence(scores: Mapping[str, float], metric: str, *, higher_is_better: bool = True,
                     digits: int = 3) -> str:
    """One Korean sentence naming the best method and its margin over the runner-up.

    >>> ranking_sentence({"TF-IDF": 0.75, "cross-encoder": 0.586, "bi-encoder": 0.699}, "정확도")
    '이번 실행의 정확도 1위: TF-IDF 0.750 (2위 bi-encoder 0.699보다 0.051 높음; 꼴찌 cross-encoder 0.586).'
    """
    items = [(name, float(v)) for name, v in scores.items() if v is not None and np.isfinite(v)]
    if not items:
        raise ValueError("ranking_sentence needs at least one finite score.")
    sign = -1 if higher_is_better else 1
    items.sort(key=lambda kv: (sign * round(kv[1], digits), list(scores).index(kv[0])))
    (best, b), rest = items[0], items[1:]
    if not rest:
        return f"이번 실행의 {metric}: {best} {_fmt(b, digits)}."
    second, s = rest[0]
    tied = [n for n, v in items if _same(v, b, digits)]
    if len(tied) > 1:
        head = f"이번 실행의 {metric} 1위는 동률: {', '.join(tied)} {_fmt(b, digits)}"
    else:
        word = "높음" if higher_is_better else "낮음"
        head = (f"이번 실행의 {metric} 1위: {best} {_fmt(b, digits)} "
                f"(2위 {second} {_fmt(s, digits)}보다 {_fmt(abs(b - s), digits)} {word}")
    last, v = items[-1]
    tail = f"; 꼴찌 {last} {_fmt(v, digits)}" if len(items) > 2 and len(tied) < len(items) else ""
    return head + tail + (")" if len(tied) == 1 else "") + "."


def versus(name: str, value: float, other: str, other_value: float, metric: str, *, digits: int = 3,
           higher_is_better: bool = True) -> str:
    """``name`` against ``other`` on ``metric``: better, worse or the same (at ``digits`` decimals).

    >>> versus("BERT", 0.857, "TF-IDF", 0.868, "정확도")
    '정확도: BERT 0.857, TF-IDF 0.868 → BERT 쪽이 0.011 낮습니다 (이번 실행에서 더 나은 쪽: TF-IDF).'
    """
    a, b = float(value), float(other_value)
    head = f"{metric}: {name} {_fmt(a, digits)}, {other} {_fmt(b, digits)} → "
    if _same(a, b, digits):
        return head + "둘이 같습니다."
    higher = a > b
    better = higher == higher_is_better
    direction = "높습니다" if higher else "낮습니다"
    winner = name if better else other
    return head + (f"{name} 쪽이 {_fmt(abs(a - b), digits)} {direction} "
                   f"(이번 실행에서 더 나은 쪽: {winner}).")


def is_constant(predictions) -> bool:
    """True if a classifier gave the same label to every input (it learned nothing usable)."""
    preds = np.asarray(predictions).ravel()
    return preds.size > 0 and bool((preds == preds[0]).all())


def control_sentence(name: str, predictions, labels=None) -> str:
    """Say whether a control learned anything: a constant predictor is named as one.

    ``labels`` (optional) names the class it always predicts.
    """
    preds = np.asarray(predictions).ravel()
    if is_constant(preds):
        label = preds[0] if labels is None else labels[preds[0]]
        return (f"{name}: 모든 입력에 같은 답({label})을 냈습니다. 아무것도 배우지 못한 상수 예측기이므로 "
                f"비교 근거로 쓰지 않습니다.")
    counts = np.unique(preds, return_counts=True)[1]
    return f"{name}: 여러 답을 냅니다 (가장 흔한 답의 비율 {counts.max() / preds.size:.1%})."
