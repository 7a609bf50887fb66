"""Question pairs (lesson 06): is it the same question? Cross-encoder vs bi-encoder vs a lexical baseline.

Data: songys/Question_pair (``helpers.data.load_question_pair``). Careful with upstream's label:
``is_duplicate`` is **0 for the same question, 1 for a different one**. This module works with
``same = 1 - is_duplicate`` so that the positive class of F1 is "the same question".

- **lexical**: cosine of character 1–3-gram TF-IDF vectors (fitted on the training questions) + a threshold;
- **bi-encoder** (Sentence-BERT, lesson 02): cosine of two independently encoded sentence vectors + a threshold;
- **cross-encoder**: ``BertForSequenceClassification`` on ``[CLS] q1 [SEP] q2 [SEP]``, fine-tuned with the
  loop of :func:`helpers.classify.fine_tune` (both questions attend to each other in every layer).

Thresholds are chosen on the training pairs only (:func:`best_threshold`); the cross-encoder's learning rate on
a validation split of train grouped by question (:func:`helpers.splits.split_pairs_by_question`); the test file
never trains or selects anything. :func:`pair_profile` shows how differently the train and test files were built.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .data import load_question_pair

SEED = 42
LABELS = {0: "다른 질문", 1: "같은 질문"}


def load_pairs(split: str) -> pd.DataFrame:
    """Question_pair ``split`` with ``question1``, ``question2``, ``is_duplicate`` and ``same`` (= 1 - is_duplicate)."""
    df = load_question_pair(split)
    return df.assign(same=1 - df["is_duplicate"])


def overlap(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """How many test pairs reuse training questions (one or both sides), or repeat a training pair."""
    seen = set(train["question1"]) | set(train["question2"])
    pairs = {frozenset(p) for p in zip(train["question1"], train["question2"])}
    one = [(a in seen) + (b in seen) for a, b in zip(test["question1"], test["question2"])]
    return {"test_pairs": len(test), "both_questions_seen": int(sum(k == 2 for k in one)),
            "one_question_seen": int(sum(k == 1 for k in one)),
            "same_pair_in_train": int(sum(frozenset(p) in pairs for p in zip(test["question1"], test["question2"])))}


def best_threshold(scores, labels) -> float:
    """The threshold on ``scores`` (predict 1 when ``score >= t``) with the highest accuracy on these pairs.

    Candidates are the midpoints between consecutive distinct scores (and both ends); ties go to the
    smallest such threshold. Use it on training pairs only.
    """
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    if len(s) == 0 or len(s) != len(y):
        raise ValueError("best_threshold needs as many labels as scores (and at least one).")
    u = np.unique(s)
    cands = np.concatenate([[u[0] - 1e-6], (u[:-1] + u[1:]) / 2, [u[-1] + 1e-6]])
    acc = [(np.where(s >= t, 1, 0) == y).mean() for t in cands]
    return float(cands[int(np.argmax(acc))])


def pair_scores(y_true, y_pred) -> dict:
    """Accuracy and F1 of the class "same question" (scikit-learn)."""
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)), "f1": float(f1_score(y_true, y_pred, pos_label=1))}


def paired_cosine(a, b) -> np.ndarray:
    """Row-wise cosine of two ``[n, d]`` arrays (dense or sparse)."""
    from sklearn.preprocessing import normalize

    a, b = normalize(a), normalize(b)
    prod = a.multiply(b) if hasattr(a, "multiply") else a * b
    return np.asarray(prod.sum(axis=1)).ravel()


class LexicalMatcher:
    """TF-IDF (character 1–3-grams inside words) cosine between the two questions, fitted on training questions."""

    def __init__(self, ngram_range=(1, 3)):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True)

    def fit(self, pairs: pd.DataFrame) -> "LexicalMatcher":
        self.vectorizer.fit(sorted(set(pairs["question1"]) | set(pairs["question2"])))
        return self

    def score(self, pairs: pd.DataFrame) -> np.ndarray:
        v = self.vectorizer
        return paired_cosine(v.transform(list(pairs["question1"])), v.transform(list(pairs["question2"])))


def pair_profile(frames: dict, lexical: LexicalMatcher, source_questions=(), source_name: str = "from source") -> pd.DataFrame:
    """How each file of pairs was built: one column per named frame (lesson 06: train, validation, test).

    Rows: ``same share`` (the prior); for the same-question pairs, ``same: tf-idf cos`` (mean
    TF-IDF cosine under ``lexical``) and ``same: identical`` (share that repeat one text twice); for the
    different-question pairs, ``different: same 1st char`` (share whose questions start with the same
    character, as neighbours in sorted order do); ``source_name`` (share of distinct questions found in
    ``source_questions``, e.g. the ChatbotData questions).
    """
    source = set(source_questions)
    rows = {}
    for name, df in frames.items():
        same = df["same"].to_numpy() == 1
        q1, q2 = df["question1"].astype(str).tolist(), df["question2"].astype(str).tolist()
        cos = lexical.score(df)
        first = np.array([a[:1] == b[:1] for a, b in zip(q1, q2)])
        identical = np.array([a == b for a, b in zip(q1, q2)])
        questions = set(q1) | set(q2)
        rows[name] = {"same share": same.mean(),
                      "same: tf-idf cos": cos[same].mean() if same.any() else np.nan,
                      "same: identical": identical[same].mean() if same.any() else np.nan,
                      "different: same 1st char": first[~same].mean() if (~same).any() else np.nan,
                      source_name: len(questions & source) / max(1, len(questions))}
    return pd.DataFrame(rows)


def encode_pairs(model, pairs: pd.DataFrame, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors of both sides with a sentence-transformers model (each question encoded once)."""
    texts = sorted(set(pairs["question1"]) | set(pairs["question2"]))
    vecs = model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    index = {t: i for i, t in enumerate(texts)}
    return vecs[[index[q] for q in pairs["question1"]]], vecs[[index[q] for q in pairs["question2"]]]


def pair_texts(pairs: pd.DataFrame) -> list[tuple[str, str]]:
    """``(question1, question2)`` tuples: what :func:`helpers.classify.fine_tune` encodes as ``[CLS] a [SEP] b [SEP]``."""
    return list(zip(pairs["question1"], pairs["question2"]))


def plot_score_histograms(named_scores: dict, labels, thresholds: dict, axes=None):
    """One histogram per method: scores of same-question vs different-question pairs, with the chosen threshold."""
    import matplotlib.pyplot as plt

    y = np.asarray(labels)
    if axes is None:
        _, axes = plt.subplots(1, len(named_scores), figsize=(4.2 * len(named_scores), 3.3))
    axes = np.atleast_1d(axes)
    for ax, (name, s) in zip(axes, named_scores.items()):
        s = np.asarray(s)
        bins = np.linspace(float(s.min()), float(s.max()) + 1e-9, 30)
        ax.hist(s[y == 1], bins=bins, alpha=0.6, label=LABELS[1])
        ax.hist(s[y == 0], bins=bins, alpha=0.6, label=LABELS[0])
        ax.axvline(thresholds[name], color="black", ls="--", label="threshold (train)")
        ax.set_title(name)
        ax.set_xlabel("score")
    axes[0].set_ylabel("test pairs")
    axes[0].legend(fontsize=8)
    return axes
