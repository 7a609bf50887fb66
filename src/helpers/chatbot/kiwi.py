"""Soft morpheme matching with kiwipiepy's CoNg morpheme embeddings (the ``kiwi`` methods, lesson 04)."""
from __future__ import annotations

import numpy as np

_KIWI_MEMO: dict = {}  # one kiwipiepy analyser per process (loading it takes about a second)


def kiwi_analyser():
    """The shared ``Kiwi(model_type="cong")`` analyser (loaded once per process)."""
    if "kiwi" not in _KIWI_MEMO:
        from kiwipiepy import Kiwi

        _KIWI_MEMO["kiwi"] = Kiwi(model_type="cong")
    return _KIWI_MEMO["kiwi"]


class KiwiMatcher:
    """Soft morpheme matching with kiwipiepy's CoNg morpheme embeddings (``kiwi`` methods).

    Each question becomes its content morphemes (nouns, verb / adjective stems, adverbs, ...):
    ``헤어졌어`` -> ``헤어지/VV``. Two questions are compared like BERTScore, but with
    kiwi's morpheme vectors, which were trained on a large Korean corpus (이별 ≈ 작별 ≈ 헤어지):
    every query morpheme finds its most similar morpheme in the stored question (precision),
    every stored morpheme its most similar in the query (recall), both IDF-weighted; the
    score is their harmonic mean (F1). Similarities below 0 count as 0.

    State (all ``.npy``): morpheme ids, their IDF, the morpheme-morpheme cosine matrix, and the
    stored questions as a flat array of morpheme positions with offsets (weights are derived). Used by lesson 04.
    """

    CONTENT_TAGS = ("NN", "NP", "NR", "VV", "VA", "VX", "MA", "MM", "XR", "XSA", "XSV", "SL", "SN", "IC")
    UNSEEN_CACHE = 4096  # similarity rows kept for query morphemes that no stored question has

    def __init__(self, morpheme_ids, idf, sim, flat, offsets):
        self.morpheme_ids = np.asarray(morpheme_ids, dtype=np.int64)
        self.position = {int(m): i for i, m in enumerate(self.morpheme_ids)}
        self.idf = np.asarray(idf, dtype=np.float32)
        vocab = len(self.morpheme_ids)
        # one extra all-zero row/column: the padding "morpheme" of a question without content words
        self.sim = np.zeros((vocab + 1, vocab + 1), dtype=np.float32)
        self.sim[:vocab, :vocab] = np.maximum(sim, 0)  # only positive similarity counts as a match (float32 math)
        self.flat = np.asarray(flat, dtype=np.int64)
        self.weights = np.append(self.idf, np.float32(0))[self.flat]  # IDF per stored morpheme, 0 for padding
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.doc_weight = np.maximum(np.add.reduceat(self.weights, self.offsets), 1e-6)
        self._unseen: dict[int, np.ndarray] = {}

    @classmethod
    def content_morphemes(cls, texts: list[str]) -> list[list[int]]:
        """Kiwi morpheme ids of the content morphemes of each text."""
        return [[t.id for t in tokens if str(t.tag).startswith(cls.CONTENT_TAGS)]
                for tokens in kiwi_analyser().tokenize(list(texts))]

    @classmethod
    def fit(cls, texts: list[str]) -> "KiwiMatcher":
        """Analyse the stored questions and compute the similarities between their morphemes."""
        docs = cls.content_morphemes(texts)
        vocab: dict[int, int] = {}
        for morphs in docs:
            for m in morphs:
                vocab.setdefault(m, len(vocab))
        ids = list(vocab)
        counts = np.zeros(len(ids))
        for morphs in docs:
            counts[[vocab[m] for m in set(morphs)]] += 1
        idf = np.log((1 + len(texts)) / (1 + counts)) + 1
        sim = np.eye(len(ids), dtype=np.float32)
        similarity = kiwi_analyser().morpheme_similarity
        for i, a in enumerate(ids):
            row = [_kiwi_similarity(similarity, a, b) for b in ids[i + 1:]]
            sim[i, i + 1:] = row
            sim[i + 1:, i] = row
        flat, offsets = [], []
        for morphs in docs:
            offsets.append(len(flat))
            # no content morpheme: one padding entry (all-zero similarity, weight 0)
            flat.extend([vocab[m] for m in morphs] or [len(ids)])
        # at the precision the cache stores (float16), so a fresh build scores exactly like a loaded one
        return cls(ids, idf, sim.astype(np.float16), flat, offsets)

    def state(self) -> dict:
        vocab = len(self.morpheme_ids)
        return {"ids": self.morpheme_ids, "idf": self.idf, "sim": self.sim[:vocab, :vocab].astype(np.float16),
                "flat": self.flat, "offsets": self.offsets}

    @classmethod
    def from_state(cls, state: dict) -> "KiwiMatcher":
        return cls(state["ids"], state["idf"], state["sim"], state["flat"], state["offsets"])

    def _row(self, morpheme: int) -> tuple[np.ndarray, float]:
        """Similarities of one query morpheme to every stored morpheme, and its IDF weight."""
        if morpheme in self.position:
            i = self.position[morpheme]
            return self.sim[i], float(self.idf[i])
        if morpheme not in self._unseen:
            if len(self._unseen) >= self.UNSEEN_CACHE:
                self._unseen.clear()
            similarity = kiwi_analyser().morpheme_similarity
            row = np.zeros(len(self.sim), dtype=np.float32)
            row[:-1] = [_kiwi_similarity(similarity, morpheme, int(b)) for b in self.morpheme_ids]
            self._unseen[morpheme] = np.maximum(row, 0)
        return self._unseen[morpheme], float(self.idf.max())  # unseen: as rare as the rarest

    def scores(self, queries: list[str]) -> np.ndarray:
        """Soft-match F1 ``[len(queries), n_stored]`` in [0, 1]."""
        out = np.zeros((len(queries), len(self.offsets)), dtype=np.float32)
        for qi, morphs in enumerate(self.content_morphemes(queries)):
            if not morphs:
                continue
            rows, wq = zip(*(self._row(m) for m in morphs))
            gathered = np.stack(rows)[:, self.flat]                         # [query morphs, stored morphs]
            wq = np.asarray(wq, dtype=np.float32)
            precision = wq @ np.maximum.reduceat(gathered, self.offsets, axis=1) / wq.sum()
            best = gathered[0].copy()  # max over the query morphemes (a row loop beats .max(0) here)
            for row in gathered[1:]:
                np.maximum(best, row, out=best)
            recall = np.add.reduceat(best * self.weights, self.offsets) / self.doc_weight
            out[qi] = 2 * precision * recall / np.maximum(precision + recall, 1e-6)
        return out


def _kiwi_similarity(similarity, a: int, b: int) -> float:
    try:
        value = similarity(a, b)
    except Exception:  # a morpheme without an embedding (kiwi raises): no soft match
        return 0.0
    return value if value == value else 0.0  # kiwi gives NaN for a few zero vectors

