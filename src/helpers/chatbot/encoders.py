"""Sentence encoders of the chatbot (lesson 04): raw BERT poolings, character TF-IDF, input-embedding average.

- :func:`bert_vectors`: ``[CLS]`` / pooler / mean vectors of a BERT, batched and L2-normalised;
- :class:`TfidfEncoder`: TF-IDF over character 1-2-grams within words (state saved without pickle);
- :class:`EmbeddingBag`: IDF-weighted mean of the model's input word-piece embeddings;
- :class:`SentenceEncoder`: a sentence-transformers model (the Sentence-BERT ``tiny-ko-sbert``).
"""
from __future__ import annotations

import numpy as np

from ..runtime import SMALL_INPUT, batched_forward, model_device, to_device
from ..runtime import threads as use_threads
from ..similarity import pool

MAX_TOKENS = 64
SINGLE_THREAD_QUERIES = SMALL_INPUT  # encode up to this many queries with one torch thread (faster on 2 cores)
TFIDF_NGRAMS = (1, 2)
POOLINGS = ("cls", "pooler", "mean")


def bert_vectors(model, tokenizer, texts: list[str], pooling="mean", batch_size: int = 128,
                 max_length: int = MAX_TOKENS):
    """Encode ``texts`` in batches and return L2-normalised float32 vectors.

    ``pooling``: ``"cls"`` (``last_hidden_state[:, 0]``), ``"pooler"`` (``pooler_output``) or
    ``"mean"`` (mean of the last hidden states over real tokens); a tuple of them returns a
    dict ``{pooling: vectors}`` from the same forward passes (:func:`helpers.runtime.batched_forward`,
    on the model's device). Texts are sorted by length so that batches carry little padding. Up to
    :data:`SINGLE_THREAD_QUERIES` texts (a query) are encoded with one torch thread on the CPU: on 2
    cores the thread hand-offs cost more than they save.
    """
    import torch

    poolings = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    for p in poolings:
        if p not in POOLINGS:
            raise ValueError(f"Unknown pooling {p!r}; choose cls, pooler or mean.")
    texts = list(texts)
    if not texts:
        empty = np.zeros((0, model.config.hidden_size), dtype=np.float32)
        return empty if isinstance(pooling, str) else {p: empty.copy() for p in poolings}

    def pooled(result, batch):  # [batch, pooling, hidden]
        return torch.stack([pool(result, batch["attention_mask"], p) for p in poolings], dim=1)

    vectors = batched_forward(model, tokenizer, texts, pooled, batch_size=batch_size, max_length=max_length,
                              threads="auto")
    out = {p: normalise(np.ascontiguousarray(vectors[:, i])) for i, p in enumerate(poolings)}
    return out[pooling] if isinstance(pooling, str) else out


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TfidfEncoder:
    """TF-IDF over character n-grams (within word boundaries), rows L2-normalised.

    A thin wrapper around scikit-learn's ``TfidfVectorizer`` whose state (vocabulary + idf)
    is saved as JSON / ``.npy`` instead of pickle.
    """

    def __init__(self, ngram_range=TFIDF_NGRAMS):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ngram_range = tuple(ngram_range)
        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                          sublinear_tf=True, dtype=np.float32)

    def fit_transform(self, texts: list[str]):
        return self.vectorizer.fit_transform(texts).tocsr()

    def transform(self, texts: list[str]):
        return self.vectorizer.transform(texts).tocsr()

    def state(self) -> tuple[dict, np.ndarray]:
        vocab = {k: int(v) for k, v in self.vectorizer.vocabulary_.items()}
        return vocab, np.asarray(self.vectorizer.idf_, dtype=np.float64)

    @classmethod
    def from_state(cls, vocab: dict, idf: np.ndarray, ngram_range=TFIDF_NGRAMS) -> "TfidfEncoder":
        enc = cls(ngram_range)
        enc.vectorizer.vocabulary_ = dict(vocab)
        enc.vectorizer.idf_ = idf
        return enc


class EmbeddingBag:
    """Sentence vector = IDF-weighted mean of the model's input word-piece embeddings.

    No transformer layer runs: encoding is a table lookup, so the whole corpus takes well
    under a second. ``idf`` comes from the stored questions (:meth:`fit_idf`).
    """

    def __init__(self, tokenizer, weight: np.ndarray, idf: np.ndarray | None = None):
        self.tokenizer = tokenizer
        self.weight = np.asarray(weight, dtype=np.float32)
        self.idf = idf

    @classmethod
    def from_model(cls, tokenizer, model, idf=None) -> "EmbeddingBag":
        return cls(tokenizer, model.get_input_embeddings().weight.detach().float().cpu().numpy(), idf)

    def fit_idf(self, texts: list[str]) -> np.ndarray:
        counts = np.zeros(len(self.weight))
        for ids in self._ids(texts):
            counts[list(set(ids))] += 1
        self.idf = (np.log((1 + len(texts)) / (1 + counts)) + 1).astype(np.float32)
        return self.idf

    def _ids(self, texts):
        return self.tokenizer(list(texts), add_special_tokens=False, truncation=True,
                              max_length=MAX_TOKENS)["input_ids"]

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.weight.shape[1]), dtype=np.float32)
        for i, ids in enumerate(self._ids(texts)):
            if ids:
                w = self.idf[ids]
                out[i] = w @ self.weight[ids] / w.sum()
        return normalise(out)


_KIWI_MEMO: dict = {}  # one kiwipiepy analyser per process (loading it takes about a second)

def bert_encoder(tokenizer, model, pooling: str):
    def encode(texts):
        return bert_vectors(model, tokenizer, list(texts), pooling=pooling)
    encode.pooling = pooling
    return encode



class SentenceEncoder:
    """A ``SentenceTransformer`` as the chatbot's dense encoder (methods ``sbert`` and ``ensemble``).

    ``encoder(texts)`` returns L2-normalised float32 vectors: ``model.encode`` for a corpus; for a
    query (up to :data:`SINGLE_THREAD_QUERIES` texts) one direct call of the model on one torch
    thread (``model(model.preprocess(texts))`` on the model's device: the same vectors without
    ``encode``'s batching overhead, about 2 ms per query on a small model).
    """

    def __init__(self, model):
        self.model = model

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        texts = list(texts)
        if len(texts) <= SINGLE_THREAD_QUERIES:
            with torch.inference_mode(), use_threads(1):
                features = to_device(self.model.preprocess(texts), model_device(self.model))
                vectors = self.model(features)["sentence_embedding"]
            return normalise(vectors.float().cpu().numpy())
        vectors = self.model.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
