"""Sentence classification core: the chatbot-label split, baselines, the fine-tuning loop, metrics, plots.

Used by lessons 05 and 06 (the plain fine-tuning loop :func:`fine_tune`, :func:`predict_logits`,
baselines, plots) and by lesson 08 (the chatbot-label split and the TF-IDF + logistic regression
classifier, fed by different tokenizers).

The chatbot task (lesson 08): given a *question* from Chatbot_data, predict its label
(0 일상 / everyday, 1 이별 / breakup-negative, 2 사랑 / love-positive).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cache import text_key

SEED = 42
SHORT_LABELS = {0: "일상", 1: "이별", 2: "사랑"}


# --------------------------------------------------------------------------- the split
def question_table(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """One row per distinct question (``question, label``) and the list of ambiguous questions.

    A question that appears several times with the *same* label is kept once (so it cannot
    land in two splits); a question that appears with *different* labels is ambiguous and is
    dropped (its text is returned so the lesson can show it).
    """
    for col in ("question", "label"):
        if col not in df.columns:
            raise ValueError(f"question_table needs a '{col}' column; got {list(df.columns)}. "
                             "Fix: pass the DataFrame from helpers.load_chatbot_data().")
    n_labels = df.groupby("question")["label"].nunique()
    ambiguous = sorted(n_labels.index[n_labels > 1])
    table = (df[~df["question"].isin(ambiguous)]
             .drop_duplicates("question")[["question", "label"]]
             .sort_values("question", kind="stable")
             .reset_index(drop=True))
    return table, ambiguous


def split_questions(df: pd.DataFrame, val_size: float = 0.1, test_size: float = 0.2,
                    seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified train / validation / test split over *distinct questions* (no leakage).

    Rows are first reduced by :func:`question_table`; then ``test_size`` and ``val_size``
    (fractions of all distinct questions) are drawn per label with a fixed seed.
    Returns three DataFrames with columns ``question, label``.
    """
    from sklearn.model_selection import train_test_split

    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise ValueError(f"val_size={val_size} and test_size={test_size} must be fractions in (0, 1) "
                         "whose sum is below 1. Fix: e.g. val_size=0.1, test_size=0.2.")
    table, _ = question_table(df)
    if table["label"].value_counts().min() < 3:
        raise ValueError("Every label needs at least 3 distinct questions for a stratified 3-way split.")
    rest, test = train_test_split(table, test_size=test_size, stratify=table["label"], random_state=seed)
    train, val = train_test_split(rest, test_size=val_size / (1 - test_size), stratify=rest["label"],
                                  random_state=seed)
    return tuple(part.sort_index().reset_index(drop=True) for part in (train, val, test))


# --------------------------------------------------------------------------- metrics and baselines
def scores(y_true, y_pred, labels=(0, 1, 2)) -> dict:
    """Accuracy and macro-F1 over ``labels`` (the mean of the per-label F1, so every label counts equally)."""
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=list(labels), zero_division=0))}


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


# --------------------------------------------------------------------------- fine-tuning
@dataclass
class TrainResult:
    """What :func:`fine_tune` returns: per-epoch losses and the training history."""

    history: pd.DataFrame  # columns: epoch, step, train_loss, val_loss, val_accuracy
    steps: int
    batch_size: int
    epochs: int
    examples: int
    extra: dict = field(default_factory=dict)


def encode(tokenizer, texts, max_len: int):
    """Tokenize a batch: ``texts`` are strings, or ``(first, second)`` pairs (lesson 06: ``[CLS] a [SEP] b [SEP]``)."""
    texts = list(texts)
    if texts and isinstance(texts[0], (tuple, list)):
        first, second = [t[0] for t in texts], [t[1] for t in texts]
        return tokenizer(first, second, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    return tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")


def _batches(tokenizer, texts, labels, idx, max_len):
    import torch

    enc = encode(tokenizer, [texts[i] for i in idx], max_len)
    return enc, torch.tensor([int(labels[i]) for i in idx])


def predict_logits(model, tokenizer, texts, batch_size: int = 128, max_len: int = 64,
                   threads: int | None = 1) -> np.ndarray:
    """Logits ``[n, num_labels]`` for ``texts`` (strings or ``(a, b)`` pairs; eval mode, no gradient;
    ``threads`` as in :func:`fine_tune`)."""
    import torch

    texts = list(texts)
    model.eval()
    out = []
    prev_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                enc = encode(tokenizer, texts[start:start + batch_size], max_len)
                out.append(model(**enc).logits.float().numpy())
    finally:
        torch.set_num_threads(prev_threads)
    if not out:
        return np.zeros((0, model.config.num_labels), dtype=np.float32)
    return np.concatenate(out)


def _mean_loss(model, tokenizer, texts, labels, batch_size, max_len) -> tuple[float, float]:
    import torch
    import torch.nn.functional as F

    logits = torch.from_numpy(predict_logits(model, tokenizer, texts, batch_size, max_len, threads=None))
    y = torch.tensor([int(v) for v in labels])
    return float(F.cross_entropy(logits, y)), float((logits.argmax(-1) == y).float().mean())


def fine_tune(model, tokenizer, train_texts, train_labels, val_texts, val_labels, *, epochs: int = 3,
              batch_size: int = 32, lr: float = 1e-4, weight_decay: float = 0.01, warmup_ratio: float = 0.1,
              max_len: int = 64, evals_per_epoch: int = 4, seed: int = SEED, threads: int | None = 1,
              log=None) -> TrainResult:
    """Fine-tune a ``*ForSequenceClassification`` model with a plain PyTorch loop (in place).

    AdamW, linear warm-up then linear decay, gradient clipping at 1.0, shuffling with a seeded
    ``torch.Generator``, and ``torch.use_deterministic_algorithms(True)`` during training (the
    previous setting is restored afterwards), so a rerun on the same machine gives the same
    numbers. The training loss (mean over the last interval) and the validation loss/accuracy are
    recorded ``evals_per_epoch`` times per epoch. The model is left in eval mode.

    ``threads`` (default 1, restored afterwards; ``None`` keeps the current setting): batches of ~32
    short sentences are too small for a second thread to pay off, and one thread is not slowed
    down several-fold when other programs share the CPU (OpenMP threads wait for each other).
    The thread count changes the last bits of the floats, so keep it fixed for reproducible runs.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    from ..training import optimizer_step

    train_texts, val_texts = list(train_texts), list(val_texts)
    train_labels, val_labels = list(train_labels), list(val_labels)
    if len(train_texts) != len(train_labels) or len(val_texts) != len(val_labels):
        raise ValueError("texts and labels must have the same length (train and validation).")
    if not train_texts:
        raise ValueError("fine_tune needs at least one training example.")
    bad = sorted({int(v) for v in train_labels + val_labels} - set(range(model.config.num_labels)))
    if bad:
        raise ValueError(f"labels {bad} are outside 0..{model.config.num_labels - 1}. Fix: load the model with "
                         f"num_labels={max(bad) + 1} (or remap the labels).")
    n = len(train_texts)
    per_epoch = -(-n // batch_size)
    total = per_epoch * epochs
    k = max(1, min(evals_per_epoch, per_epoch))
    eval_at = {round(per_epoch * i / k) for i in range(1, k + 1)}  # batches (1-based) ending an interval
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)  # dropout masks
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        warm = max(1, int(warmup_ratio * total))
        sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=warm, num_training_steps=total)
        rows, running, step = [], [], 0
        for epoch in range(epochs):
            order = torch.randperm(n, generator=gen).tolist()
            for b in range(per_epoch):
                model.train()
                enc, y = _batches(tokenizer, train_texts, train_labels, order[b * batch_size:(b + 1) * batch_size],
                                  max_len)
                loss = model(**enc, labels=y).loss
                running.append(optimizer_step(model, loss, opt, sched, max_grad_norm=1.0))
                step += 1
                if b + 1 in eval_at:
                    val_loss, val_acc = _mean_loss(model, tokenizer, val_texts, val_labels, 128, max_len)
                    rows.append({"epoch": round(step / per_epoch, 3), "step": step,
                                 "train_loss": float(np.mean(running)), "val_loss": val_loss, "val_accuracy": val_acc})
                    running = []
                    if log:
                        log(rows[-1])
    finally:
        torch.use_deterministic_algorithms(prev_det)
        torch.set_num_threads(prev_threads)
        model.eval()
    return TrainResult(history=pd.DataFrame(rows), steps=total, batch_size=batch_size, epochs=epochs, examples=n)


# above this many parameters a full fine-tune on a 2-core CPU takes tens of minutes (a base-size BERT
# has ~110 M): lesson 05 then trains 1 epoch on a stratified subset (see training_plan)
MAX_FULL_FINETUNE_PARAMETERS = 20_000_000
LARGE_MODEL_EXAMPLES = 2000
LARGE_MODEL_MAX_LR = 5e-5


@dataclass(frozen=True)
class TrainingPlan:
    """How much lesson 05 trains a given model (:func:`training_plan`); ``note`` says why, in one line."""

    epochs: int
    examples: int
    lr: float
    parameters: int
    reduced: bool
    note: str


def training_plan(model, n_train: int, *, epochs: int, lr: float,
                  max_parameters: int = MAX_FULL_FINETUNE_PARAMETERS,
                  large_examples: int = LARGE_MODEL_EXAMPLES) -> TrainingPlan:
    """The fine-tuning budget for ``model``: the full run for small models, a short one for large ones.

    Up to ``max_parameters`` parameters (tiny-ko-bert and other small models): ``epochs`` over all
    ``n_train`` questions at ``lr``. Above it (a base-size hub BERT, ~110 M parameters, would need
    tens of minutes per epoch on a 2-core CPU): 1 epoch over ``large_examples`` questions and a
    learning rate of at most 5e-5, the usual range for BERT-base. Used by lesson 05.
    """
    parameters = int(sum(p.numel() for p in model.parameters()))
    if parameters <= max_parameters:
        return TrainingPlan(epochs, n_train, lr, parameters, False,
                            f"{parameters:,} parameters: full run, {epochs} epoch(s) over {n_train:,} questions, lr {lr:g}")
    examples, small_lr = min(n_train, large_examples), min(lr, LARGE_MODEL_MAX_LR)
    return TrainingPlan(1, examples, small_lr, parameters, True,
                        f"{parameters:,} parameters (> {max_parameters:,}): shortened for a CPU, 1 epoch over "
                        f"{examples:,} of {n_train:,} questions, lr {small_lr:g}; scores will be lower than a full run")


# non-embedding parameters of the shipped tiny-ko-bert (2 layers, hidden 128): lessons 05-07 set their
# budget (training sizes) for this; a model with more parameters per token gets proportionally less data
REFERENCE_COMPUTE = 413_314


def compute_per_token(model) -> int:
    """Parameters outside the embedding tables: a proxy for the compute per token of a forward pass."""
    base = getattr(model, "base_model", model)
    emb = getattr(base, "embeddings", None)
    total = sum(p.numel() for p in model.parameters())
    return int(total - (sum(p.numel() for p in emb.parameters()) if emb is not None else 0))


def scale_sizes(model, sizes, minimum: int = 200, reference: int = REFERENCE_COMPUTE) -> list[int]:
    """Training-set sizes shrunk for models that cost more per token than tiny-ko-bert, so lesson 05
    keeps its time budget on any checkpoint (a base-size BERT has ~200x the compute per token)."""
    factor = min(1.0, reference / max(1, compute_per_token(model)))
    out = []
    for n in sizes:
        m = max(minimum, int(round(n * factor / 2)) * 2)
        if m not in out:
            out.append(m)
    return out


def stratified_subset(frame: pd.DataFrame, n: int, seed: int = SEED, label: str = "label") -> pd.DataFrame:
    """``n`` rows of ``frame`` with the label proportions kept (all of it when ``n >= len(frame)``)."""
    if n >= len(frame):
        return frame
    from sklearn.model_selection import train_test_split

    subset, _ = train_test_split(frame, train_size=n, stratify=frame[label], random_state=seed)
    return subset.sort_index().reset_index(drop=True)


def head_summary(model) -> pd.DataFrame:
    """Parameter counts: the encoder (embeddings + layers), the pooler, and the classification head.

    Shows how little ``BertForSequenceClassification`` adds on top of ``BertModel``: dropout and one
    ``Linear(hidden, num_labels)`` on the pooled [CLS] vector.
    """
    base = getattr(model, "bert", None)
    if base is None or not hasattr(model, "classifier"):
        raise TypeError(f"{type(model).__name__} is not a BertForSequenceClassification-like model "
                        "(needs .bert and .classifier). Fix: load it with head='classification'.")

    def count(module) -> int:
        return int(sum(p.numel() for p in module.parameters())) if module is not None else 0

    pooler = getattr(base, "pooler", None)
    parts = {
        "encoder (embeddings + layers)": count(base) - count(pooler),
        "pooler (dense + tanh on [CLS])": count(pooler),
        "classifier (new, random init)": count(model.classifier),
    }
    frame = pd.DataFrame({"part": list(parts), "parameters": list(parts.values())})
    frame["share"] = (frame["parameters"] / frame["parameters"].sum()).round(4)
    return frame


# --------------------------------------------------------------------------- tables and plots
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
