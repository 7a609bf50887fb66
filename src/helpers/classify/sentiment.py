"""NSMC sentiment (lesson 05): NSMC's own rule on the raw crawl, a split by movie, a compute budget, a
learning curve (pretrained vs random init vs TF-IDF) and the reviews where TF-IDF and BERT disagree.

The split (:func:`nsmc_split`):

- ratings 1–4 -> 0 negative (부정), 9–10 -> 1 positive (긍정), 5–8 dropped (NSMC's rule);
- empty reviews dropped; a text that occurs with both labels is dropped (ambiguous); every text is
  kept once;
- **test** = the reviews of the movies that tiny-ko-bert never pretrained on
  (:func:`helpers.splits.movie_is_heldout`): all of them, with their natural label mix, or a seeded
  sample of ``test_size``. A text that also occurs under a training movie counts as a test text only;
- **validation** = reviews of another 5 % of the movies (by a second hash,
  :func:`helpers.splits.movie_is_validation`), balanced; it monitors training and chooses each
  model's learning rate (:mod:`helpers.classify.selection`); it never comes from a test movie;
- **train** = a balanced, seeded sample of the remaining movies' reviews. Samples are nested: the
  first ``n`` rows of a larger training set are the smaller one (used by the learning curve).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import softmax

from .. import ranking
from ..data import load_nsmc_raw
from ..splits import movie_is_heldout, movie_is_validation, text_key
from ..verdict import is_constant
from .baselines import majority_baseline, tfidf_logreg
from .budget import (REFERENCE_COMPUTE, compute_per_token, curve_plan, epochs_for, lesson_plan,  # noqa: F401
                     scale_sizes)  # (re-exported for lesson 05)
from .metrics import scores
from .train import SEED, fine_tune, predict_logits

NEGATIVE_MAX, POSITIVE_MIN = 4, 9
LABELS = {0: "부정", 1: "긍정"}


def label_reviews(raw: pd.DataFrame) -> pd.DataFrame:
    """NSMC's rule on the raw crawl: ``label`` 0 for ratings 1–4, 1 for 9–10; neutral 5–8 and empty reviews dropped."""
    for col in ("review", "rating", "movie_id"):
        if col not in raw.columns:
            raise ValueError(f"label_reviews needs a '{col}' column; got {list(raw.columns)}. "
                             "Fix: pass the DataFrame from helpers.data.load_nsmc_raw().")
    df = raw[(raw["review"].str.strip() != "") & ((raw["rating"] <= NEGATIVE_MAX) | (raw["rating"] >= POSITIVE_MIN))]
    df = df.assign(label=(df["rating"] >= POSITIVE_MIN).astype(int))
    return df.rename(columns={"review": "document"})


def balanced_sample(frame: pd.DataFrame, n: int | None, seed: int = SEED) -> pd.DataFrame:
    """``n`` rows, half of each label, in a seeded order whose prefixes are balanced too (nested subsets).

    ``n=None`` takes all that a balanced set allows (twice the rarer label's count).
    """
    counts = frame["label"].value_counts()
    most = 2 * int(counts.min()) if len(counts) == 2 else 0
    n = most if n is None else int(n)
    if n < 2 or n > most:
        raise ValueError(f"Cannot draw {n:,} balanced reviews: {dict(counts)} available (at most {most:,}). "
                         "Fix: ask for an even number between 2 and that maximum, or None for all.")
    rng = np.random.default_rng(seed)
    labels = frame["label"].to_numpy()
    halves = [np.flatnonzero(labels == k) for k in (0, 1)]
    halves = [h[rng.permutation(len(h))[: (n + 1 - k) // 2]] for k, h in enumerate(halves)]
    order = np.empty(n, dtype=int)  # negative, positive, negative, ...: every prefix is balanced
    order[0::2], order[1::2] = halves[0], halves[1]
    return frame.iloc[order].reset_index(drop=True)


@dataclass
class SentimentSplit:
    """What :func:`nsmc_split` returns; ``stats`` counts every step, ``pool_majority`` is the training movies' majority label."""

    train: pd.DataFrame  # columns: review_id, movie_id, document, label
    val: pd.DataFrame
    test: pd.DataFrame
    pool_majority: int
    stats: dict = field(default_factory=dict)


def nsmc_split(raw: pd.DataFrame | None = None, *, train_size: int | None = 150_000, val_size: int = 2_000,
               test_size: int | None = None, seed: int = SEED) -> SentimentSplit:
    """The NSMC-style sentiment split by movie (see the module docstring). Used by lesson 05 and the benchmark."""
    if raw is None:
        raw = load_nsmc_raw()
    df = label_reviews(raw)
    n_labels = df.groupby("document")["label"].nunique()
    ambiguous = set(n_labels.index[n_labels > 1])
    df = df[~df["document"].isin(ambiguous)]
    held = df["movie_id"].map(movie_is_heldout).astype(bool)
    test = df[held].drop_duplicates("document")
    rest = df[~held & ~df["document"].isin(set(test["document"]))].drop_duplicates("document")
    is_val = rest["movie_id"].map(movie_is_validation).astype(bool)
    pool, val_pool = rest[~is_val], rest[is_val]
    cols = ["review_id", "movie_id", "document", "label"]
    train = balanced_sample(pool[cols], train_size, seed)
    val = balanced_sample(val_pool[cols], val_size, seed)
    test_all = len(test)
    if test_size is not None and test_size < len(test):
        test = test.sample(n=test_size, random_state=seed)
    test = test[cols].reset_index(drop=True)
    stats = {
        "labelled_reviews": int(len(label_reviews(raw))), "ambiguous_texts": len(ambiguous),
        "test_movies": int(df.loc[held, "movie_id"].nunique()), "test_reviews_all": int(test_all),
        "test_reviews": int(len(test)), "test_positive_share": round(float(test["label"].mean()), 4),
        "train_pool": int(len(pool)), "train_pool_positive_share": round(float(pool["label"].mean()), 4),
        "train": int(len(train)), "val": int(len(val)),
    }
    majority = int(pool["label"].value_counts().idxmax())
    return SentimentSplit(train=train, val=val, test=test, pool_majority=majority, stats=stats)


# --------------------------------------------------------------------------- models and budget
def random_init_like(model, seed: int = SEED):
    """The same architecture as ``model`` (same config, same head size) with fresh random weights.

    Lesson 05's control: fine-tuning this with the same tokenizer and budget shows what pretraining adds.
    """
    import torch

    torch.manual_seed(seed)
    return type(model)(model.config).eval()


# --------------------------------------------------------------------------- experiments
def run_bert(model, tokenizer, train: pd.DataFrame, val: pd.DataFrame, test: pd.DataFrame, *, epochs: int,
             lr: float, batch_size: int = 32, max_len: int = 64, warmup_ratio: float = 0.1, seed: int = SEED,
             threads: int | None = 1, log=None) -> dict:
    """Fine-tune ``model`` (in place) on ``train`` and score it on ``test``: accuracy, macro-F1, probabilities, seconds."""
    start = time.perf_counter()
    result = fine_tune(model, tokenizer, train["document"], train["label"], val["document"], val["label"],
                       epochs=epochs, batch_size=batch_size, lr=lr, warmup_ratio=warmup_ratio, max_len=max_len,
                       seed=seed, threads=threads, evals_per_epoch=1, log=log)
    return scored_run(model, result, tokenizer, test, epochs=epochs, lr=lr, max_len=max_len, threads=threads,
                      start=start)


def scored_run(model, result, tokenizer, test: pd.DataFrame, *, epochs: int, lr: float, max_len: int = 64,
               threads: int | None = 1, start: float | None = None, seconds: float | None = None) -> dict:
    """:func:`run_bert`'s record for a model already fine-tuned (``result``: its
    :class:`~helpers.classify.TrainResult`), scored on ``test``.

    Lesson 05 uses it when its learning-rate search already trained the main run (the search's size is the
    main size, so the chosen run of :func:`helpers.classify.selection.lr_search` is that very run): the
    model is scored, not trained twice. ``seconds``: the training time if known, else measured from ``start``.
    """
    out = score_bert(model, tokenizer, test, max_len=max_len, threads=threads)
    if seconds is None:
        seconds = time.perf_counter() - start if start is not None else float("nan")
    out.update(seconds=round(seconds, 1), epochs=epochs, steps=result.steps, lr=lr, history=result.history)
    return out


def score_bert(model, tokenizer, test: pd.DataFrame, *, max_len: int = 64, threads: int | None = 1) -> dict:
    """A fine-tuned model's accuracy, macro-F1 and probabilities ``[n, 2]`` on ``test`` (lesson 05)."""
    probs = softmax(predict_logits(model, tokenizer, test["document"], max_len=max_len, threads=threads), axis=-1)
    out = scores(test["label"], ranking.argmax(probs), labels=(0, 1))
    out.update(probs=probs)
    return out


def run_tfidf(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Character 1–3-gram TF-IDF + logistic regression on ``train``, scored on ``test`` (with probabilities)."""
    start = time.perf_counter()
    pipe = tfidf_logreg(train["document"], train["label"], analyzer="char_wb", ngram_range=(1, 3))
    probs = pipe.predict_proba(list(test["document"]))
    out = scores(test["label"], ranking.argmax(probs), labels=(0, 1))
    out.update(seconds=round(time.perf_counter() - start, 1), probs=probs)
    return out


def run_majority(split: SentimentSplit, test: pd.DataFrame | None = None) -> dict:
    """The training movies' majority label (before balancing) for every test review."""
    test = split.test if test is None else test
    pred = majority_baseline([split.pool_majority], len(test))
    return scores(test["label"], pred, labels=(0, 1))


def curve_row(size: int, learner: str, result: dict, *, epochs: int | None = None, lr: float | None = None,
              val_accuracy: float | None = None) -> dict:
    """One row of :func:`learning_curve` from a scored run (``run_bert`` / ``score_bert`` / ``run_tfidf``).

    ``constant``: the run gave every test review the same label (:func:`helpers.verdict.is_constant`);
    ``val_accuracy``: the last validation accuracy of its history (or the one given; NaN for TF-IDF).
    """
    history = result.get("history")
    if val_accuracy is None and history is not None and len(history):
        val_accuracy = float(history["val_accuracy"].iloc[-1])
    return {"size": int(size), "learner": learner, "accuracy": result["accuracy"], "macro_f1": result["macro_f1"],
            "epochs": epochs, "lr": lr, "constant": is_constant(ranking.argmax(result["probs"])),
            "val_accuracy": np.nan if val_accuracy is None else val_accuracy}


def learning_curve(load_pair, split: SentimentSplit, sizes, test: pd.DataFrame, *, epochs: int, min_examples: int,
                   lr: float | Mapping[str, float], batch_size: int = 32, max_len: int = 64, seed: int = SEED,
                   log=None) -> pd.DataFrame:
    """Accuracy and macro-F1 against training-set size for three learners on the same nested training subsets.

    ``load_pair()`` returns a fresh ``(tokenizer, pretrained classification model)``; the random-init model is
    :func:`random_init_like` of it. Each size trains for :func:`epochs_for` epochs; ``lr`` is one learning
    rate for both models or one per learner (``{"pretrained": ..., "random init": ...}``; lesson 05 chooses
    them on validation with :func:`helpers.classify.selection.lr_search`). Rows: :func:`curve_row`. Used by
    lesson 05 (small sizes).
    """
    rates = dict(lr) if isinstance(lr, Mapping) else {"pretrained": lr, "random init": lr}
    rows = []
    for size in sizes:
        train = split.train.iloc[:size]
        n_epochs = epochs_for(size, epochs, min_examples)
        rows.append(curve_row(size, "TF-IDF + LR", run_tfidf(train, test)))
        for learner in ("pretrained", "random init"):
            tokenizer, model = load_pair()
            if learner == "random init":
                model = random_init_like(model, seed)
            r = run_bert(model, tokenizer, train, split.val, test, epochs=n_epochs, lr=rates[learner],
                         batch_size=batch_size, max_len=max_len, seed=seed)
            rows.append(curve_row(size, learner, r, epochs=n_epochs, lr=rates[learner]))
        if log:
            log(rows[-3:])
    return pd.DataFrame(rows)


def bootstrap_gap(y_true, pred_a, pred_b, *, n: int = 1000, seed: int = SEED, labels=(0, 1)) -> dict:
    """Macro-F1 of ``pred_a`` minus that of ``pred_b`` on the same test set, with a paired bootstrap 95 % interval.

    ``n`` test sets are drawn with replacement (the same draws for both models); the interval covers the
    test sample's noise only, not the training seed's. Lesson 05 reads the pretraining gap with it.
    Returns ``{"gap", "low", "high"}``.
    """
    y, a, b = (np.asarray(v) for v in (y_true, pred_a, pred_b))
    idx = np.random.default_rng(seed).integers(0, len(y), size=(n, len(y)))
    ys = y[idx]

    def macro_f1(pred):
        p = pred[idx]
        f1 = []
        for c in labels:
            tp = ((p == c) & (ys == c)).sum(axis=1)
            denom = (p == c).sum(axis=1) + (ys == c).sum(axis=1)
            f1.append(np.divide(2 * tp, denom, out=np.zeros(n), where=denom > 0))
        return np.mean(f1, axis=0)

    diffs = macro_f1(a) - macro_f1(b)
    gap = scores(y, a, labels=labels)["macro_f1"] - scores(y, b, labels=labels)["macro_f1"]
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"gap": float(gap), "low": float(low), "high": float(high)}


LEARNER_STYLES = {"pretrained": ("o", "tab:blue"), "random init": ("s", "tab:orange"), "TF-IDF + LR": ("^", "tab:green")}


def plot_learning_curve(curve: pd.DataFrame, ax=None, metric: str = "macro_f1", majority: float | None = None,
                        title: str | None = None):
    """``metric`` (``macro_f1`` or ``accuracy``) against training-set size (log scale), one line per learner.

    Rows whose ``learned_nothing`` column is true (a constant predictor, or a validation accuracy at chance)
    are not points of their learner's line: they are drawn as grey crosses. ``majority``: the majority
    class's score, a dashed line. Lesson 05.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4))
    nothing = curve["learned_nothing"].astype(bool) if "learned_nothing" in curve else pd.Series(False, curve.index)
    for learner, part in curve[~nothing].groupby("learner", sort=False):
        marker, color = LEARNER_STYLES.get(learner, ("x", None))
        ax.plot(part["size"], part[metric], marker=marker, color=color, label=learner)
    if nothing.any():
        ax.scatter(curve.loc[nothing, "size"], curve.loc[nothing, metric], marker="x", s=90, color="dimgray",
                   zorder=3, label="배운 것 없음 (상수 예측기 / 우연 수준)")
    if majority is not None:
        ax.axhline(majority, ls="--", color="gray", label="majority class (다수 클래스)")
    ax.set_xscale("log")
    ax.set_xlabel("학습 리뷰 수 (training reviews, log scale)")
    ax.set_ylabel(f"test {'macro-F1' if metric == 'macro_f1' else metric} (held-out movies)")
    ax.set_title(title or "학습 데이터 양에 따른 성능 (learning curve)")
    ax.grid(alpha=0.3)
    return ax


# --------------------------------------------------------------------------- where the models disagree
NEGATION_CONTRAST = ("않", "안 ", "안봐", "못", "없", "지만", "는데", "그러나", "하지만", "그런데", "근데", "아니")


def disagreements(texts, y_true, tfidf_probs, bert_probs, n: int = 6, markers=NEGATION_CONTRAST,
                  seed: int = SEED) -> tuple[pd.DataFrame, dict]:
    """Test reviews where TF-IDF and the fine-tuned BERT predict different labels.

    Returns a table of up to ``n`` of them (half where BERT is right, half where TF-IDF is right; reviews
    with a negation or contrast marker first, then by a stable hash) with each model's p(긍정), and
    counts: how many disagreements, who is right how often, overall and among reviews with a marker.
    """
    texts = list(texts)
    y = np.asarray(y_true)
    p_tf, p_bert = np.asarray(tfidf_probs)[:, 1], np.asarray(bert_probs)[:, 1]
    pred_tf, pred_bert = (p_tf >= 0.5).astype(int), (p_bert >= 0.5).astype(int)
    differ = np.flatnonzero(pred_tf != pred_bert)
    marked = np.array([any(m in texts[i] for m in markers) for i in differ], dtype=bool)
    bert_right = pred_bert[differ] == y[differ]
    counts = {"test_reviews": len(texts), "disagree": int(len(differ)),
              "bert_right": int(bert_right.sum()), "tfidf_right": int((~bert_right).sum()),
              "marked": int(marked.sum()), "marked_bert_right": int((bert_right & marked).sum())}

    def key(i):
        return (not any(m in texts[i] for m in markers), text_key(seed, texts[i]))

    rows = []
    for who, mask in (("BERT", bert_right), ("TF-IDF", ~bert_right)):
        chosen = sorted(differ[mask], key=key)[: (n + (who == "BERT")) // 2]
        for i in chosen:
            rows.append({"review": texts[i], "정답": LABELS[int(y[i])],
                         "TF-IDF p(긍정)": round(float(p_tf[i]), 2), "BERT p(긍정)": round(float(p_bert[i]), 2),
                         "맞힌 모델": who})
    return pd.DataFrame(rows), counts


# --------------------------------------------------------------------------- published figures, for context
# Accuracy (%) on the published NSMC test set (ratings_test.txt: 50k reviews, random split, NOT split by movie,
# about half positive), as reported by the models' authors. Not comparable one to one with this suite's
# held-out-movie test; they show what a base-size Korean BERT reaches after large-scale pretraining.
PUBLISHED_NSMC = (
    {"model": "bert-base-multilingual-cased", "accuracy": 87.5, "source": "SKTBrain/KoBERT README, Subtasks: Naver Sentiment Analysis",
     "url": "https://github.com/SKTBrain/KoBERT#naver-sentiment-analysis"},
    {"model": "KoBERT (SKT)", "accuracy": 90.1, "source": "SKTBrain/KoBERT README, Subtasks: Naver Sentiment Analysis",
     "url": "https://github.com/SKTBrain/KoBERT#naver-sentiment-analysis"},
    {"model": "KcBERT-Base", "accuracy": 89.05, "source": "Beomi/KcBERT README (NSMC Binary Classification, val acc)",
     "url": "https://github.com/Beomi/KcBERT"},
    {"model": "DistilKoBERT", "accuracy": 88.60, "source": "monologg/KoELECTRA finetune/README.md (Small Model table)",
     "url": "https://github.com/monologg/KoELECTRA/blob/master/finetune/README.md"},
    {"model": "KoELECTRA-Small-v3", "accuracy": 89.36, "source": "monologg/KoELECTRA finetune/README.md (Small Model table)",
     "url": "https://github.com/monologg/KoELECTRA/blob/master/finetune/README.md"},
    {"model": "KoELECTRA-Base-v3", "accuracy": 90.63, "source": "monologg/KoELECTRA finetune/README.md (Base Model table)",
     "url": "https://github.com/monologg/KoELECTRA/blob/master/finetune/README.md"},
)


def published_table() -> pd.DataFrame:
    """:data:`PUBLISHED_NSMC` as a table (lesson 05 shows it beside this suite's figures)."""
    return pd.DataFrame(PUBLISHED_NSMC)[["model", "accuracy", "source"]]
