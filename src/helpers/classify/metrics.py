"""Scoring and showing a classifier (lessons 05, 06, 09): accuracy and macro-F1, the misclassified examples,
the loss curves and the confusion matrix (Hangul label names; the chatbot labels by default).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..splits import text_key
from .train import SEED

SHORT_LABELS = {0: "일상", 1: "이별", 2: "사랑"}


def scores(y_true, y_pred, labels=(0, 1, 2)) -> dict:
    """Accuracy and macro-F1 over ``labels`` (the mean of the per-label F1, so every label counts equally)."""
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=list(labels), zero_division=0))}


def errors_table(texts, y_true, y_pred, probs=None, n: int = 10, seed: int = SEED, label_names=None) -> pd.DataFrame:
    """Up to ``n`` misclassified examples (chosen by a stable hash of the text, not by position)."""
    names = label_names or SHORT_LABELS
    texts, y_true, y_pred = list(texts), np.asarray(y_true), np.asarray(y_pred)
    wrong = [i for i in range(len(texts)) if y_true[i] != y_pred[i]]
    wrong.sort(key=lambda i: text_key(seed, texts[i]))
    rows = []
    for i in wrong[:n]:
        row = {"question": texts[i], "true": names[int(y_true[i])], "predicted": names[int(y_pred[i])]}
        if probs is not None:
            row["p(predicted)"] = round(float(probs[i][int(y_pred[i])]), 3)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_history(history: pd.DataFrame, ax=None):
    """Train and validation loss against epochs."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["epoch"], history["train_loss"], marker="o", label="train loss (학습)")
    ax.plot(history["epoch"], history["val_loss"], marker="s", label="validation loss (검증)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title("학습/검증 손실 (train / validation loss)")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_confusion(y_true, y_pred, ax=None, title: str = "혼동 행렬 (confusion matrix)", label_names=None):
    """Confusion-matrix heatmap with Hangul label names (rows: true, columns: predicted).

    ``label_names`` maps label id -> name (default: the chatbot labels)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from sklearn.metrics import confusion_matrix

    label_names = label_names or SHORT_LABELS
    cm = confusion_matrix(y_true, y_pred, labels=list(label_names))
    names = [f"{k} {v}" for k, v in label_names.items()]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.8))
    sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", cbar=False, xticklabels=names, yticklabels=names, ax=ax)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_xlabel("예측 (predicted)")
    ax.set_ylabel("정답 (true)")
    ax.set_title(title)
    return ax
