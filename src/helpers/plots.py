"""Small plotting helpers shared by the lessons (Hangul labels via the font :func:`helpers.setup` registers).

- :func:`plot_similarity`: an annotated cosine-similarity heatmap (seaborn) with readable,
  wrapped Korean labels (lessons 02 and later).
- :func:`plot_top_k`: a horizontal bar chart of fill-mask probabilities (lesson 01).
- :func:`plot_loss`: a loss curve with its moving average (lesson 01).

Each returns the matplotlib ``Axes`` so a notebook can adjust it.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .mlm import smooth


def wrap_label(text: str, width: int = 14, max_lines: int = 3) -> str:
    """Wrap a (Korean) label to ``width`` characters per line, at most ``max_lines`` lines ("…" if cut)."""
    if width < 2 or max_lines < 1:
        raise ValueError("width must be >= 2 and max_lines >= 1.")
    lines = textwrap.wrap(str(text), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return "\n".join(lines)


def plot_similarity(labels, matrix, ax=None, title: str | None = None, fmt: str = ".3f",
                    vmin: float | None = None, vmax: float = 1.0, wrap: int = 14, cmap: str = "viridis"):
    """Heatmap of an [n, n] similarity matrix with ``labels`` on both axes.

    ``matrix`` may be a NumPy array or a torch tensor. Labels are wrapped to ``wrap``
    characters so long Korean sentences stay readable.
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    if hasattr(matrix, "detach"):
        matrix = matrix.detach().cpu().numpy()
    matrix = np.asarray(matrix, dtype=float)
    labels = list(labels)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square [n, n]; got shape {matrix.shape}.")
    if len(labels) != matrix.shape[0]:
        raise ValueError(f"Got {len(labels)} labels for a {matrix.shape[0]}x{matrix.shape[0]} matrix.")
    if ax is None:
        size = 1.6 + 1.5 * len(labels)
        _, ax = plt.subplots(figsize=(size + 1.5, size))
    wrapped = [wrap_label(label, wrap) for label in labels]
    sns.heatmap(matrix, annot=True, fmt=fmt, cmap=cmap, vmin=vmin, vmax=vmax, square=True,
                xticklabels=wrapped, yticklabels=wrapped, cbar_kws={"shrink": 0.8}, ax=ax)
    ax.tick_params(axis="x", labelrotation=0, labelsize=8)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_top_k(table, ax=None, title: str | None = None, token_col: str = "token", prob_col: str = "probability"):
    """Horizontal bars of a top-k table (highest probability on top)."""
    import matplotlib.pyplot as plt

    if token_col not in table or prob_col not in table:
        raise ValueError(f"table needs columns {token_col!r} and {prob_col!r}; has {list(table.columns)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.45 * len(table) + 1))
    ax.barh(list(table[token_col])[::-1], list(table[prob_col])[::-1], color="tab:blue")
    ax.set_xlabel("probability")
    ax.set_xlim(0, max(1e-3, float(max(table[prob_col])) * 1.15))
    if title:
        ax.set_title(title)
    return ax


def plot_loss(losses, ax=None, window: int = 20, title: str | None = None):
    """Per-step loss (faint) and its ``window``-step moving average."""
    import matplotlib.pyplot as plt

    losses = np.asarray(losses, dtype=float)
    if losses.size == 0:
        raise ValueError("No losses to plot.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.arange(1, losses.size + 1)
    ax.plot(steps, losses, alpha=0.3, label="step loss")
    ax.plot(steps, smooth(losses, window), label=f"moving average ({window})")
    ax.set_xlabel("step")
    ax.set_ylabel("MLM loss (cross-entropy)")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
