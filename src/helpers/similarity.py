"""Sentence vectors from BERT and the cosine similarities between them.

- :data:`LECTURE_SENTENCES`: the lecture's four sentences (two paraphrases, one unrelated
  fact, one gibberish string).
- :func:`sentence_vectors`: batched (padding + attention mask) vectors with three poolings:
  ``"pooler"`` (``pooler_output``: [CLS] through the trained dense+tanh layer), ``"cls"``
  (``last_hidden_state[:, 0]``) and ``"mean"`` (mean over real tokens, padding excluded).
- :func:`cosine_matrix`, :func:`mean_pairwise_cosine` (anisotropy), :func:`pair_percentile`
  (one cosine read against the cosines of random pairs), and :class:`Whitening`, a
  mean-centering / whitening transform estimated on a reference set of sentences.
- :func:`sts_baselines` (the KorSTS table of lesson 02), :func:`load_sts_tsv`, :func:`sts_correlations` and ``python -m helpers.similarity eval FILE.tsv
  [--model NAME]``: score a similarity model on a KorSTS-format file (one JSON line).

Used by lesson 02 (``notebooks/02_sentence_similarity.ipynb``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import ranking
from .lesson import seed_everything
from .models import ModelNotAvailableError, display_name
from .sbert import SENTENCE_MODEL, load_sentence_model
from .textfiles import read_rows

LECTURE_SENTENCES = [
    "오늘 하루 어떻게 보냈나요?",
    "오늘은 어떤 하루를 보내셨나요?",
    "이순신은 조선 중기의 무신이다.",
    "깟뻬뜨랑 리뿔이 뜨럽거 므리커럭이 케쇽 냐왜쇼 우뤼갸 쳥쇼섀료다혀뚜여",
]
POOLINGS = ("pooler", "cls", "mean")
KORSTS_REFERENCE = 3000  # distinct KorSTS train sentences that fit the whitening / TF-IDF baselines of the table
# A published figure for context (lesson 02's table, tiny-ko-sbert's model card): a base-size Korean
# Sentence-BERT's Spearman x100 on KorSTS test, from its own evaluation file on the Hugging Face hub.
PUBLISHED_KORSTS = {
    "model": "jhgan/ko-sroberta-multitask",
    "spearman": 85.60,  # cosine_spearman 0.8559956 in similarity_evaluation_sts-test_results.csv
    "size": "RoBERTa, 12 layers, hidden 768",
    "trained_on": "KorNLI and KorSTS train (multi-task)",
    "source": "https://huggingface.co/jhgan/ko-sroberta-multitask/blob/main/similarity_evaluation_sts-test_results.csv",
}


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
    """Like :func:`sentence_vectors` for several poolings at once, from a single pass over the model
    (:func:`helpers.runtime.batched_forward`: on the model's device, batches in the input order);
    ``{pooling: float32 CPU tensor [n, hidden]}``."""
    import torch

    from .runtime import batched_forward

    if isinstance(sentences, str):
        raise TypeError("Pass a list of sentences, not a single string (wrap it: [sentence]).")
    if len(sentences) == 0:
        raise ValueError("No sentences given.")
    poolings = tuple(poolings)
    for pooling in poolings:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")

    def pooled(result, batch):  # [batch, pooling, hidden]
        return torch.stack([pool(result, batch["attention_mask"], p) for p in poolings], dim=1)

    vectors = batched_forward(model, tokenizer, list(sentences), pooled, batch_size=batch_size, max_length=max_length,
                              sort_by_length=False)
    return {p: torch.from_numpy(np.ascontiguousarray(vectors[:, i])) for i, p in enumerate(poolings)}


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
    return float((labels[ranking.argmax(sims, axis=1)] == labels).mean())


# --------------------------------------------------------------------------- scoring a model on STS data
class SimilarityFileError(ValueError):
    """A KorSTS-format file that cannot be scored; the message says how to fix it."""


STS_COLUMNS = ("score", "sentence1", "sentence2")


def load_sts_tsv(path) -> tuple[list[str], list[str], list[float]]:
    """Read a KorSTS-format file: UTF-8, tab-separated, a header naming ``score``, ``sentence1``, ``sentence2``
    (other columns are ignored, as in KorSTS's own files), scores 0–5. Quoting is off: a ``"`` is text.

    Raises :class:`SimilarityFileError` with the line and a fix for anything else.
    """
    rows = read_rows(path, STS_COLUMNS, SimilarityFileError,
                     "Fix: give a UTF-8 file whose first line names the tab-separated columns score, sentence1, "
                     "sentence2, then one scored pair per line.")
    name = Path(path).name
    s1, s2, scores = [], [], []
    for number, row in rows:
        try:
            score = float(row["score"])
        except ValueError:
            raise SimilarityFileError(f"{name} line {number}: score {row['score']!r} is not a number. "
                                      "Fix: a number from 0 to 5.") from None
        if not 0 <= score <= 5:
            raise SimilarityFileError(f"{name} line {number}: score {score} is outside 0-5. Fix: a number from 0 to 5.")
        if not row["sentence1"] or not row["sentence2"]:
            raise SimilarityFileError(f"{name} line {number}: an empty sentence. Fix: fill or remove the line.")
        s1.append(row["sentence1"])
        s2.append(row["sentence2"])
        scores.append(score)
    if len(scores) < 2 or len(set(scores)) < 2:
        raise SimilarityFileError(f"{name} has {len(scores)} scored pair(s) with {len(set(scores))} distinct "
                                  "score(s): a correlation needs at least two pairs with different scores. Fix: add pairs.")
    return s1, s2, scores


def sts_correlations(model, sentences1: list[str], sentences2: list[str], scores: list[float]) -> dict:
    """Spearman and Pearson correlation (×100) between the cosine of ``model``'s sentence vectors and
    ``scores``, with sentence-transformers' ``EmbeddingSimilarityEvaluator`` (lesson 02's table)."""
    from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator

    evaluator = EmbeddingSimilarityEvaluator(sentences1, sentences2, scores, main_similarity="cosine",
                                             similarity_fn_names=["cosine"], batch_size=128,
                                             show_progress_bar=False, name="sts")
    result = evaluator(model)
    return {"n": len(scores), "spearman": round(100 * float(result["sts_spearman_cosine"]), 2),
            "pearson": round(100 * float(result["sts_pearson_cosine"]), 2)}


def pair_cosines(a, b) -> np.ndarray:
    """Cosine of each row of ``a`` with the same row of ``b`` (two [n, dim] arrays or tensors)."""
    a, b = _as_numpy(a), _as_numpy(b)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(1)


def spearman100(predicted, gold) -> float:
    """Spearman rank correlation ×100 (the usual KorSTS figure), rounded to 2 decimals."""
    from scipy.stats import spearmanr

    return round(100 * float(spearmanr(predicted, gold)[0]), 2)


def sts_baselines(model, tokenizer, sentences1, sentences2, scores, reference, batch_size: int = 64) -> dict:
    """KorSTS-style Spearman ×100 of the lesson-02 baselines, from one pass over the BERT model.

    ``[CLS]``, pooler, mean pooling, whitened mean (:class:`Whitening` fitted on the
    ``reference`` sentences, never on the scored pairs) and character TF-IDF (1-2-grams within
    words, fitted on ``reference``). Lesson 02 prints the table; ``benchmarks/sbert_bench.py``
    puts it in the model card of tiny-ko-sbert.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    va = all_poolings(model, tokenizer, list(sentences1), batch_size)
    vb = all_poolings(model, tokenizer, list(sentences2), batch_size)
    out = {"[CLS]": spearman100(pair_cosines(va["cls"], vb["cls"]), scores),
           "pooler": spearman100(pair_cosines(va["pooler"], vb["pooler"]), scores),
           "mean": spearman100(pair_cosines(va["mean"], vb["mean"]), scores)}
    white = Whitening().fit(sentence_vectors(model, tokenizer, list(reference), "mean", batch_size))
    out["whitened mean"] = spearman100(pair_cosines(white.transform(va["mean"]), white.transform(vb["mean"])), scores)
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True).fit(list(reference))
    ta, tb = tfidf.transform(list(sentences1)), tfidf.transform(list(sentences2))
    out["char TF-IDF"] = spearman100(np.asarray(ta.multiply(tb).sum(1)).ravel(), scores)  # rows are L2-normalised
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers.similarity eval FILE.tsv [--model NAME]``: one JSON line ``n, spearman, pearson, model``."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m helpers.similarity",
                                     description="Score a sentence-similarity model on a KorSTS-format file.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_eval = sub.add_parser("eval", help="Spearman / Pearson (x100) of cosine similarity against the file's scores")
    p_eval.add_argument("file", help="tab-separated, header with score, sentence1, sentence2 (score 0-5), UTF-8")
    p_eval.add_argument("--model", default=None,
                        help="tiny-ko-sbert (default), a saved SentenceTransformer folder, a BERT checkpoint "
                             "(mean pooling), tiny-ko-bert or a hub id")
    args = parser.parse_args(argv)
    try:
        data = load_sts_tsv(args.file)  # check the file before loading any model
        seed_everything()
        name = args.model or SENTENCE_MODEL
        result = sts_correlations(load_sentence_model(name), *data)
    except (SimilarityFileError, ModelNotAvailableError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["model"] = name if name == SENTENCE_MODEL else display_name(name)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
