"""Evaluating the chatbot (lesson 04): ranks, top-1 / top-5 / MRR, the paraphrase sets, leave-one-out, latency."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..cache import text_key
from .index import ChatbotIndex
from .inputs import ChatbotError, clean_query


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

    An answer scores as its best row; the rank is 1 + the number of distinct answers scoring
    strictly higher than the expected one (rows listed in ``exclude[i]`` are hidden for query ``i``).
    """
    scores = np.array(scores, dtype=np.float32)  # a copy: excluded rows are overwritten
    if exclude is not None:
        for i, rows in enumerate(exclude):
            scores[i, list(rows)] = -np.inf
    names, answer_of_row = np.unique(np.asarray(answers, dtype=object), return_inverse=True)
    order = np.argsort(answer_of_row, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(answer_of_row[order]) != 0])
    per_answer = np.maximum.reduceat(scores[:, order], starts, axis=1)  # [queries, distinct answers]
    position = {name: j for j, name in enumerate(names)}
    ranks = np.full(len(scores), len(answers) + 1, dtype=np.int64)
    for i, answer in enumerate(expected):
        j = position.get(answer)
        if j is not None and np.isfinite(per_answer[i, j]):
            ranks[i] = 1 + int((per_answer[i] > per_answer[i, j]).sum())
    return ranks


def metrics(ranks: np.ndarray) -> dict:
    """``n``, ``top1``, ``top5`` and ``mrr`` from 1-based ranks."""
    ranks = np.asarray(ranks)
    return {"n": int(len(ranks)), "top1": round(float(np.mean(ranks <= 1)), 4),
            "top5": round(float(np.mean(ranks <= 5)), 4), "mrr": round(float(np.mean(1.0 / ranks)), 4)}


def load_eval_tsv(path) -> tuple[list[str], list[str]]:
    """Read a TSV with a header containing ``query`` and ``expected_answer`` (other columns ignored)."""
    from ..textfiles import read_rows

    rows = read_rows(path, ("query", "expected_answer"), ChatbotError,
                     "Fix: give a UTF-8 tab-separated file whose header contains query and expected_answer.")
    queries, expected = [], []
    for line, row in rows:
        if not row["query"] or not row["expected_answer"]:
            raise ChatbotError(f"{Path(path).name} line {line}: empty query or expected_answer. "
                               "Fix: fill or remove the line.")
        queries.append(clean_query(row["query"])[0])
        expected.append(row["expected_answer"])
    return queries, expected


PARAPHRASE_SETS = {
    # 70 queries written to replace every content word of a stored question (컴퓨터가 켜지질 않아 for
    # 노트북 부팅 안돼): a test of meaning beyond shared words, deliberately hard for lexical methods
    "hard": "paraphrases.tsv",
    # 90 queries written the way another user would say the same thing (words kept or changed as
    # natural), for 90 rows drawn at random (seed 2026, questions of 2+ words, sources of "hard"
    # excluded), by a writer who never saw any method's results
    "natural": "paraphrases_natural.tsv",
}


def paraphrase_path(kind: str = "hard") -> Path:
    """A held-out paraphrase set shipped with the package (``helpers/data/``); see :data:`PARAPHRASE_SETS`."""
    if kind not in PARAPHRASE_SETS:
        raise ChatbotError(f"unknown paraphrase set {kind!r}. Fix: use one of {', '.join(PARAPHRASE_SETS)}.")
    return Path(__file__).resolve().parents[1] / "data" / PARAPHRASE_SETS[kind]


def load_paraphrases(kind: str = "hard") -> tuple[list[str], list[str]]:
    """Queries and expected answers of a held-out paraphrase set, ``hard`` or ``natural`` (lesson 04)."""
    return load_eval_tsv(paraphrase_path(kind))


def split_answers(questions, answers, eval_fraction: float = 0.2, seed: int = 42) -> set[str]:
    """A stable, hash-chosen ``eval_fraction`` of the answers shared by 2+ distinct questions.

    The leave-one-out test uses only these answers, so that anything tuned or trained on
    the other answers (e.g. a contrastive fine-tune) never sees them: a split *by answer*.
    """
    from collections import defaultdict

    groups = defaultdict(set)
    for q, a in zip(questions, answers):
        groups[a].add(q)
    shared = sorted(a for a, qs in groups.items() if len(qs) >= 2)
    ranked = sorted(shared, key=lambda a: text_key(seed, a))
    return set(ranked[:round(eval_fraction * len(ranked))])


def leave_one_out_set(questions, answers, eval_answers: set[str] | None = None):
    """Queries for the leave-one-out test: every question whose answer is shared by another question.

    Returns ``(queries, expected, exclude)`` where ``exclude[i]`` lists the rows holding the
    same question text (hidden during its search). ``eval_answers`` restricts it to those answers
    (the fine-tune's held-out side of the split by answer).
    """
    from collections import defaultdict

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

