"""The floors a fine-tuned classifier must beat: the majority label, and TF-IDF + logistic regression (lessons 05, 06, 09).

:func:`tfidf_logreg` takes character n-grams (the default) or any tokenizer (lesson 09 passes each
tokenization strategy of :mod:`helpers.tokenization`).
"""
from __future__ import annotations

import numpy as np


def majority_baseline(train_labels, n: int) -> np.ndarray:
    """Predict the most frequent training label ``n`` times (the floor any model must beat)."""
    values, counts = np.unique(np.asarray(train_labels), return_counts=True)
    if len(values) == 0:
        raise ValueError("majority_baseline needs at least one training label.")
    return np.full(n, values[np.argmax(counts)])


def tfidf_logreg(train_texts, train_labels, analyzer="char_wb", ngram_range=(1, 3), C: float = 4.0,
                 min_df: int = 1):
    """Fit TF-IDF features + logistic regression; return the fitted sklearn ``Pipeline``.

    ``analyzer`` is ``"char_wb"`` (character n-grams inside words, the default: robust to Korean
    particles and endings), ``"word"``, or a callable ``text -> list of tokens`` (lesson 06
    passes each tokenization strategy here; n-grams then run over those tokens).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if callable(analyzer):
        tokenize = analyzer
        vec = TfidfVectorizer(analyzer=lambda text: _ngrams(tokenize(text), ngram_range), min_df=min_df,
                              sublinear_tf=True)
    else:
        vec = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df, sublinear_tf=True)
    clf = LogisticRegression(C=C, max_iter=2000)
    return make_pipeline(vec, clf).fit(list(train_texts), np.asarray(train_labels))


def _ngrams(tokens: list[str], ngram_range=(1, 1)) -> list[str]:
    lo, hi = ngram_range
    out = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out
