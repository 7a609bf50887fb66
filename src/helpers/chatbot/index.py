"""The chatbot index: stored questions/answers, their vectors, scoring and top-k search (lesson 04)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .inputs import clean_query


@dataclass
class Hit:
    """One retrieved row: its answer, the stored question it matched, and the score."""

    answer: str
    question: str
    score: float
    row: int


class ChatbotIndex:
    """Stored questions/answers plus their vectors for one ``(model, method)``.

    Build with :func:`build_index` (or :func:`load_or_build_index` for the cached one);
    query with :meth:`search` / :meth:`answer`.
    """

    def __init__(self, questions, answers, method, model_name, dense=None, sparse=None,
                 tfidf=None, encoder=None, weights: dict | None = None, kiwi=None):
        self.questions = list(questions)
        self.answers = list(answers)
        self.method = method
        self.model_name = model_name
        self.dense = dense          # [n, d] float32, normalised (dense methods, hybrid)
        self.sparse = sparse        # [n, vocab] csr, normalised (tfidf, hybrid)
        self.tfidf = tfidf          # TfidfEncoder
        self.encoder = encoder      # callable: list of texts -> normalised vectors (dense part)
        self.weights = dict(weights or {})  # component -> weight (combined methods)
        self.kiwi = kiwi            # KiwiMatcher (kiwi methods)
        self.build_seconds = None
        self.from_cache = False

    def __len__(self) -> int:
        return len(self.questions)

    # -- encoding and scoring
    def encode_queries(self, queries: list[str]):
        """Return ``(dense [q, d] or None, sparse [q, vocab] or None)`` for the queries."""
        dense = sparse = None
        if self.dense is not None:
            dense = self.encoder(queries)
        if self.sparse is not None:
            sparse = self.tfidf.transform(queries)
        return dense, sparse

    def component_scores(self, queries: list[str]) -> dict[str, np.ndarray]:
        """Each score component (``dense``, ``kiwi``, ``tfidf``) as ``[len(queries), len(index)]``."""
        dense, sparse = self.encode_queries(queries)
        parts = {}
        if dense is not None:
            parts["dense"] = dense @ self.dense.T
        if self.kiwi is not None:
            parts["kiwi"] = self.kiwi.scores(queries)
        if sparse is not None:
            parts["tfidf"] = (sparse @ self.sparse.T).toarray().astype(np.float32)
        return parts

    def scores(self, queries: list[str]) -> np.ndarray:
        """Scores ``[len(queries), len(index)]``: a cosine, or the weighted sum of the components."""
        parts = self.component_scores(queries)
        if len(parts) == 1:
            return next(iter(parts.values()))
        return sum(np.float32(self.weights[name]) * part for name, part in parts.items())

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Top-``k`` rows for ``query``, one per distinct answer, best first.

        An index with one dense part (``cls``, ``mean``, ``sbert`` ...) searches with
        sentence-transformers' ``util.semantic_search`` (dot product of normalised vectors = cosine);
        the others rank the (weighted) scores of every row.
        """
        text, _ = clean_query(query)
        pool = min(len(self), max(4 * k, 32))  # rows to look at: enough for k distinct answers
        if self.dense is not None and self.sparse is None and self.kiwi is None:
            import torch
            from sentence_transformers import util

            found = util.semantic_search(torch.from_numpy(self.encoder([text])), torch.from_numpy(self.dense),
                                         top_k=pool, score_function=util.dot_score)[0]
            return self._distinct([(h["corpus_id"], h["score"]) for h in found], k)
        row_scores = self.scores([text])[0]
        cand = np.argpartition(-row_scores, pool - 1)[:pool]
        cand = cand[np.lexsort((cand, -row_scores[cand]))]
        return self._distinct([(i, row_scores[i]) for i in cand], k)

    def _distinct(self, ranked, k: int) -> list[Hit]:
        """The first ``k`` of ``ranked`` ``(row, score)`` pairs with distinct answers."""
        hits, seen = [], set()
        for i, score in ranked:
            if self.answers[i] in seen:
                continue
            seen.add(self.answers[i])
            hits.append(Hit(self.answers[i], self.questions[i], float(score), int(i)))
            if len(hits) == k:
                break
        return hits

    def answer(self, query: str) -> Hit:
        """The best hit for ``query`` (see :meth:`search`)."""
        return self.search(query, k=1)[0]

