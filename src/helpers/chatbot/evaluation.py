"""Evaluating the chatbot (lesson 04): ranks, top-1 / top-5 / MRR, leave-one-out, latency.

The evaluation files and paraphrase sets are read by :mod:`helpers.data.paraphrases`; the answers the
leave-one-out test keeps are chosen by :func:`helpers.splits.split_answers`.
"""
from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from .. import ranking
from .index import ChatbotIndex


def answer_ranks(index: ChatbotIndex, queries: list[str], expected: list[str], exclude=None,
                 batch_size: int = 256) -> np.ndarray:
    """1-based rank of the expected answer among the *distinct* answers retrieved per query.

    ``exclude`` (optional) gives, per query, row indices to hide (leave-one-out: the held-out
    question itself). A query whose expected answer never appears gets rank ``len(index) + 1``.
    """
    ranks = []
    for start in range(0, len(queries), batch_size):
        stop = start + batch_size
        ranks.append(ranks_from_scores(index.scores(list(queries[start:stop])), index.answers,
                                       expected[start:stop], None if exclude is None else exclude[start:stop]))
    return np.concatenate(ranks) if ranks else np.empty(0, dtype=np.int64)


def ranks_from_scores(scores: np.ndarray, answers: list[str], expected: list[str], exclude=None) -> np.ndarray:
    """:func:`answer_ranks` for a ready score matrix ``[queries, rows]`` (also used to tune weights).

    An answer scores as its best row. The rank is 1 + the distinct answers scoring more than
    :data:`helpers.ranking.TIE_TOL` above the expected one + the tied answers (within that
    tolerance) that come first in the corpus, which is the order :meth:`ChatbotIndex.search`
    shows them in. So a near-tie is decided by corpus order on every machine, not by the last bits
    of the scores. Rows listed in ``exclude[i]`` are hidden for query ``i``.
    """
    scores = np.array(scores, dtype=np.float64)  # a copy: excluded rows are overwritten
    if exclude is not None:
        for i, rows in enumerate(exclude):
            scores[i, list(rows)] = -np.inf
    names, answer_of_row = np.unique(np.asarray(answers, dtype=object), return_inverse=True)
    order = np.argsort(answer_of_row, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(answer_of_row[order]) != 0])
    per_answer = np.maximum.reduceat(scores[:, order], starts, axis=1)  # [queries, distinct answers]
    first_row = order[starts]  # each answer's first row in the corpus: its place among ties
    position = {name: j for j, name in enumerate(names)}
    ranks = np.full(len(scores), len(answers) + 1, dtype=np.int64)
    found = [(i, position[a]) for i, a in enumerate(expected) if a in position]
    if found:
        rows, cols = map(np.asarray, zip(*found))
        ok = np.isfinite(per_answer[rows, cols])
        ranks[rows[ok]] = ranking.ranks_of(per_answer[rows[ok]], cols[ok], first_row)
    return ranks


def metrics(ranks: np.ndarray) -> dict:
    """``n``, ``top1``, ``top5`` and ``mrr`` from 1-based ranks."""
    ranks = np.asarray(ranks)
    return {"n": int(len(ranks)), "top1": round(float(np.mean(ranks <= 1)), 4),
            "top5": round(float(np.mean(ranks <= 5)), 4), "mrr": round(float(np.mean(1.0 / ranks)), 4)}


def leave_one_out_set(questions, answers, eval_answers: set[str] | None = None):
    """Queries for the leave-one-out test: every question whose answer is shared by another question.

    Returns ``(queries, expected, exclude)`` where ``exclude[i]`` lists the rows holding the
    same question text (hidden during its search). ``eval_answers`` restricts it to those answers
    (the fine-tune's held-out side of the split by answer).
    """
    by_answer, by_question = defaultdict(set), defaultdict(list)
    for i, (q, a) in enumerate(zip(questions, answers)):
        by_answer[a].add(q)
        by_question[q].append(i)
    queries, expected, exclude = [], [], []
    for q in sorted(by_question):
        for a in sorted({answers[i] for i in by_question[q]}):
            if len(by_answer[a]) < 2 or (eval_answers is not None and a not in eval_answers):
                continue
            queries.append(q)
            expected.append(a)
            exclude.append(by_question[q])
    return queries, expected, exclude


def evaluate(index: ChatbotIndex, eval_sets: dict) -> dict[str, float]:
    """Top-1 / top-5 / MRR of ``index`` on named evaluation sets, as flat ``<set>_<metric>`` columns.

    ``eval_sets`` maps a name to ``(queries, expected)`` or ``(queries, expected, exclude)``
    (see :func:`answer_ranks`). Lesson 04 builds its method table from one row per index.
    """
    row = {}
    for name, (queries, expected, *exclude) in eval_sets.items():
        found = metrics(answer_ranks(index, queries, expected, exclude=exclude[0] if exclude else None))
        row.update({f"{name}_{k}": v for k, v in found.items() if k != "n"})
    return row


def latency_ms(index: ChatbotIndex, queries: list[str], repeats: int = 1) -> dict:
    """Per-query time (encode + search over all rows), in ms: wall-clock p50 / p90 and CPU-time p50 / p90.

    The CPU time of the process is what the query costs on a free core; on a shared machine the
    wall-clock figures include waiting for the CPU.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        for q in queries:
            t, c = time.perf_counter(), time.process_time()
            index.search(q, k=5)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return {"ms_per_query_p50": round(float(np.percentile(wall, 50)), 3),
            "ms_per_query_p90": round(float(np.percentile(wall, 90)), 3),
            "cpu_ms_per_query_p50": round(float(np.percentile(cpu, 50)), 3),
            "cpu_ms_per_query_p90": round(float(np.percentile(cpu, 90)), 3)}

