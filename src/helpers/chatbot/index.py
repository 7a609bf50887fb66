"""The chatbot index: stored questions/answers, their vectors, scoring and top-k search (lesson 04)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ranking
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
        self._dense64 = None      # float64 copy of dense for scoring
        self._sparse64_t = None   # float64 copy of sparse, transposed, for scoring
        self._first_row = None    # see _answer_first_row

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
        """Each score component (``dense``, ``kiwi``, ``tfidf``) as float64 ``[len(queries), len(index)]``.

        Products are taken in float64, so that their rounding does not depend on the CPU's BLAS
        kernels (see :mod:`helpers.ranking`).
        """
        dense, sparse = self.encode_queries(queries)
        parts = {}
        if dense is not None:
            if self._dense64 is None:
                self._dense64 = np.asarray(self.dense, dtype=np.float64)
            q64 = np.asarray(dense, dtype=np.float64)
            if len(q64) <= 4:  # one query: numpy's own loop; BLAS threads waking up after torch cost ~6 ms
                parts["dense"] = np.einsum("nd,qd->qn", self._dense64, q64)
            else:
                parts["dense"] = (self._dense64 @ q64.T).T  # [rows, d] @ [d, q]: no copy of the index
        if self.kiwi is not None:
            parts["kiwi"] = np.asarray(self.kiwi.scores(queries), dtype=np.float64)
        if sparse is not None:
            if self._sparse64_t is None:
                self._sparse64_t = self.sparse.T.astype(np.float64).tocsr()
            parts["tfidf"] = (sparse.astype(np.float64) @ self._sparse64_t).toarray()
        return parts

    def scores(self, queries: list[str]) -> np.ndarray:
        """Scores ``[len(queries), len(index)]`` (float64): a cosine, or the weighted sum of the components."""
        parts = self.component_scores(queries)
        if len(parts) == 1:
            return next(iter(parts.values()))
        return sum(float(self.weights[name]) * part for name, part in parts.items())

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Top-``k`` rows for ``query``, one per distinct answer, best first.

        An index with one dense part (``cls``, ``mean``, ``sbert`` ...) finds its candidates with
        sentence-transformers' ``util.semantic_search`` (dot product of normalised vectors = cosine);
        the others score every row. Candidates are then ordered by :func:`helpers.ranking.order`:
        scores within :data:`~helpers.ranking.TIE_TOL` are a tie, and the answer that comes first
        in the corpus goes first (the rule :func:`~helpers.chatbot.evaluation.answer_ranks` counts with).
        """
        text, _ = clean_query(query)
        pool = min(len(self), max(4 * k, 32))  # rows to look at: enough for k distinct answers
        if self.dense is not None and self.sparse is None and self.kiwi is None:
            import torch
            from sentence_transformers import util

            vector = self.encoder([text])
            found = util.semantic_search(torch.from_numpy(vector), torch.from_numpy(self.dense),
                                         top_k=pool, score_function=util.dot_score)[0]
            cand = np.array(sorted(h["corpus_id"] for h in found))
            if self._dense64 is None:
                self._dense64 = np.asarray(self.dense, dtype=np.float64)
            cand_scores = self._dense64[cand] @ np.asarray(vector[0], dtype=np.float64)  # float64, for the tie rule
        else:
            cand = np.arange(len(self))
            cand_scores = self.scores([text])[0]
        picked = ranking.top_k(cand_scores, pool, self._answer_first_row()[cand])
        return self._distinct([(int(cand[i]), cand_scores[i]) for i in picked], k)

    def _answer_first_row(self) -> np.ndarray:
        """For each row, the first row holding its answer (the tie-break key of :meth:`search`)."""
        if self._first_row is None:
            first: dict[str, int] = {}
            self._first_row = np.array([first.setdefault(a, i) for i, a in enumerate(self.answers)])
        return self._first_row

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

