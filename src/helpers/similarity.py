"""Sentence vectors from BERT and the cosine similarities between them.

- :data:`LECTURE_SENTENCES`: the lecture's four sentences (two paraphrases, one unrelated
  fact, one gibberish string).
- :func:`sentence_vectors`: batched (padding + attention mask) vectors with three poolings:
  ``"pooler"`` (``pooler_output``: [CLS] through the trained dense+tanh layer), ``"cls"``
  (``last_hidden_state[:, 0]``) and ``"mean"`` (mean over real tokens, padding excluded).
- :func:`cosine_matrix`, :func:`mean_pairwise_cosine` (anisotropy), :func:`pair_percentile`
  (one cosine read against the cosines of random pairs), and :class:`Whitening`, a
  mean-centering / whitening transform estimated on a reference set of sentences.

Used by lesson 02 (``notebooks/02_sentence_similarity.ipynb``).
"""
from __future__ import annotations

import numpy as np

LECTURE_SENTENCES = [
    "오늘 하루 어떻게 보냈나요?",
    "오늘은 어떤 하루를 보내셨나요?",
    "이순신은 조선 중기의 무신이다.",
    "깟뻬뜨랑 리뿔이 뜨럽거 므리커럭이 케쇽 냐왜쇼 우뤼갸 쳥쇼섀료다혀뚜여",
]
POOLINGS = ("pooler", "cls", "mean")


def pool(output, attention_mask, pooling: str = "pooler"):
    """Turn a BERT model output into one vector per sentence (see the module docstring)."""
    if pooling == "pooler":
        if getattr(output, "pooler_output", None) is None:
            raise ValueError("This model has no pooler (load it with head='base'); use pooling='cls' or 'mean'.")
        return output.pooler_output
    if pooling == "cls":
        return output.last_hidden_state[:, 0]
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(output.last_hidden_state.dtype)
        return (output.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")


def sentence_vectors(model, tokenizer, sentences: list[str], pooling: str = "pooler",
                     batch_size: int = 64, max_length: int | None = None):
    """One vector per sentence (a float ``torch.Tensor`` [n, hidden]), computed in padded batches.

    Padding is masked out by the attention mask (and by :func:`pool` for ``"mean"``), so the
    vectors equal those computed one sentence at a time (up to float rounding).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
    return all_poolings(model, tokenizer, sentences, batch_size, max_length, poolings=(pooling,))[pooling]


def all_poolings(model, tokenizer, sentences: list[str], batch_size: int = 64, max_length: int | None = None,
                 poolings=POOLINGS) -> dict:
    """Like :func:`sentence_vectors` for several poolings at once, from a single pass over the model."""
    import torch

    if isinstance(sentences, str):
        raise TypeError("Pass a list of sentences, not a single string (wrap it: [sentence]).")
    if len(sentences) == 0:
        raise ValueError("No sentences given.")
    for pooling in poolings:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
    out = {p: [] for p in poolings}
    with torch.no_grad():
        for start in range(0, len(sentences), batch_size):
            enc = tokenizer(list(sentences[start:start + batch_size]), padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt")
            result = model(**enc)
            for p in poolings:
                out[p].append(pool(result, enc["attention_mask"], p))
    return {p: torch.cat(v) for p, v in out.items()}


def _as_numpy(vectors) -> np.ndarray:
    if hasattr(vectors, "detach"):
        vectors = vectors.detach().cpu().numpy()
    arr = np.asarray(vectors, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"Expected a 2-D array [n, dim] of vectors; got shape {arr.shape}.")
    return arr


def cosine_matrix(vectors) -> np.ndarray:
    """All pairwise cosine similarities (an [n, n] NumPy array; diagonal 1)."""
    arr = _as_numpy(vectors)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("A zero vector has no direction, so its cosine similarity is undefined.")
    unit = arr / norms
    return np.clip(unit @ unit.T, -1.0, 1.0)


def mean_pairwise_cosine(vectors) -> float:
    """Average cosine between *different* vectors: near 0 for isotropic vectors, high when anisotropic."""
    sims = cosine_matrix(vectors)
    n = sims.shape[0]
    if n < 2:
        raise ValueError("Need at least two vectors.")
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))


def pair_percentile(score: float, vectors) -> float:
    """Share of the pairs of *different* ``vectors`` whose cosine is below ``score`` (0 to 1).

    Reads one cosine against a baseline: 0.5 means "as similar as a typical pair of random
    sentences", near 1 "more similar than almost any random pair", near 0 "less similar than
    almost any". Lesson 02 uses it for the lecture's sentence pairs against random chatbot questions.
    """
    sims = cosine_matrix(vectors)
    n = sims.shape[0]
    if n < 2:
        raise ValueError("Need at least two vectors.")
    pairs = sims[np.triu_indices(n, k=1)]
    return float((pairs < score).mean())


class Whitening:
    """Mean-centering (``k=0``) or whitening estimated on reference vectors.

    ``fit`` learns the mean ``mu`` of the reference vectors and, unless ``center_only``, the
    matrix ``W = U diag(1/sqrt(s))`` from the SVD of their covariance (keeping the top ``k``
    directions if ``k`` is given). ``transform(x) = (x - mu) @ W``. It only re-shapes the space
    using statistics of the reference set: it cannot add knowledge the model does not have.
    """

    def __init__(self, center_only: bool = False, k: int | None = None, eps: float = 1e-6):
        self.center_only = center_only
        self.k = k
        self.eps = eps
        self.mu = None
        self.W = None

    def fit(self, vectors) -> "Whitening":
        arr = _as_numpy(vectors)
        if arr.shape[0] < 2:
            raise ValueError("Need at least two reference vectors to estimate a mean and covariance.")
        self.mu = arr.mean(0, keepdims=True)
        if self.center_only:
            self.W = np.eye(arr.shape[1])
            return self
        cov = np.cov((arr - self.mu).T)
        u, s, _ = np.linalg.svd(cov)
        k = self.k or arr.shape[1]
        self.W = u[:, :k] / np.sqrt(s[:k] + self.eps)
        return self

    def transform(self, vectors) -> np.ndarray:
        if self.mu is None:
            raise RuntimeError("Call fit(reference_vectors) before transform().")
        arr = _as_numpy(vectors)
        if arr.shape[1] != self.mu.shape[1]:
            raise ValueError(f"Vectors have dimension {arr.shape[1]} but the transform was fitted on {self.mu.shape[1]}.")
        return (arr - self.mu) @ self.W


def nearest_neighbour_agreement(vectors, labels) -> float:
    """Fraction of items whose most cosine-similar *other* item has the same label.

    A crude, honest check of whether a vector space groups sentences by meaning (lesson 02
    uses the chatbot's 일상/이별/사랑 labels; chance level is the sum of squared label shares).
    """
    sims = cosine_matrix(vectors)
    labels = np.asarray(labels)
    if labels.shape[0] != sims.shape[0]:
        raise ValueError(f"Got {labels.shape[0]} labels for {sims.shape[0]} vectors.")
    np.fill_diagonal(sims, -np.inf)
    return float((labels[sims.argmax(1)] == labels).mean())
