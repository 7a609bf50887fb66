"""Every held-out and split rule of the suite, and the seeded hashes they are chosen by.

A text or an id is held out by a hash of itself (never by its position in a file), so a split does
not move when rows are added, removed or reordered, and every lesson, build and benchmark that asks
gets the same answer. The rules, and who relies on them:

- :func:`text_key` ``(seed, text)``: the seeded sha256 that orders texts (held-out questions,
  evaluation answers, and the examples a lesson shows: ``classify.errors_table``,
  ``classify.sentiment.disagreements``); :func:`in_hash_bucket` ``(namespace, key, percent)``: about
  ``percent`` % of the keys, chosen by a hash.
- :func:`split_heldout`: the 400 chatbot questions tiny-ko-bert never pretrained on (seed 42):
  ``helpers.pretrain`` (``make model``), ``benchmarks/tiny_ko_bert.py`` (the model card), lesson 01.
- :func:`movie_is_heldout`: 10 % of the NSMC movies, left out of pretraining; they are the sentiment
  test movies: ``helpers.pretrain``, lesson 05 (:func:`helpers.classify.sentiment.nsmc_split`),
  ``benchmarks/sentiment_bench.py``, ``benchmarks/tiny_ko_bert.py``, ``python -m helpers.classify train``.
- :func:`movie_is_validation`: another 5 % of the movies (a second hash), the sentiment validation
  set; it only monitors training: lesson 05, ``benchmarks/sentiment_bench.py``.
- :func:`split_answers`: 20 % of the chatbot answers shared by 2+ questions, the leave-one-out test
  (a split *by answer*): lesson 04, ``benchmarks/chatbot_bench.py``, ``benchmarks/tune_weights.py``,
  ``benchmarks/sbert_bench.py``; kept out of tiny-ko-sbert's training by :func:`held_out`.
- :func:`held_out` (:class:`HeldOut`): everything tiny-ko-sbert never trains on: those answers, both
  paraphrase sets (:mod:`helpers.data.paraphrases`), KorSTS dev and test, Question_pair test:
  ``python -m helpers.sbert build`` (:mod:`helpers.sbert.data`), ``benchmarks/sbert_bench.py``.
- :func:`split_questions` (after :func:`question_table`): the stratified train / validation / test
  split of the distinct chatbot questions for the label classifier: lesson 09,
  ``benchmarks/tokenization_bench.py``.
- :func:`split_sentences`: the train / test split of KLUE-NER dev by sentence: lesson 07.
- :func:`split_pairs_by_question`: a validation split of Question_pair train *by question* (connected
  groups of pairs that share a question stay on one side): lesson 06.
- :func:`korquad_test_article`: 20 % of the KorQuAD 1.0 dev articles (by a hash of the title), the test
  side of the split *by article*: lesson 08, ``python -m helpers.qa train``, ``benchmarks/qa_bench.py``.

Imports nothing heavy (scikit-learn only inside the two stratified splits, scipy only inside the pair split) and nothing from the
lesson packages, which all import their rules from here.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .data.corpora import load_korsts, load_question_pair
from .data.paraphrases import PARAPHRASE_SETS, load_paraphrases

SEED = 42
HELD_OUT_MOVIE_PERCENT = 10  # share of NSMC movies (by hash of movie_id) that nothing pretrains on
VALIDATION_MOVIE_PERCENT = 5  # share of the other movies whose reviews validate the sentiment model

if TYPE_CHECKING:
    import pandas as pd


# --------------------------------------------------------------------------- seeded hashes
def text_key(seed, text: str) -> str:
    """Hex sha256 of ``"{seed}:{text}"``: a sort key that orders texts in a stable, position-free, seeded way
    (held-out questions, evaluation answers, examples shown in a lesson)."""
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


def in_hash_bucket(namespace: str, key: str, percent: int) -> bool:
    """True for about ``percent`` % of keys, chosen by a hash of ``"{namespace}:{key}"`` (stable across runs)."""
    return int(text_key(namespace, key), 16) % 100 < percent


# --------------------------------------------------------------------------- tiny-ko-bert's pretraining
def split_heldout(df: pd.DataFrame, n_heldout: int, seed: int = SEED) -> tuple[pd.DataFrame, list[str]]:
    """Split chatbot rows by *question text*: the held-out questions are never seen in training.

    Chosen by a hash of the text (not by position), so the split is stable.
    Returns ``(train_df, heldout_questions)``. tiny-ko-bert holds out 400 questions (seed 42).
    """
    questions = sorted(set(df["question"]))
    ranked = sorted(questions, key=lambda q: text_key(seed, q))
    heldout = sorted(ranked[:n_heldout])
    held = set(heldout)
    return df[~df["question"].isin(held)].reset_index(drop=True), heldout


def movie_is_heldout(movie_id: str, percent: int = HELD_OUT_MOVIE_PERCENT) -> bool:
    """True for the NSMC movies that are held out of pretraining (and are the sentiment test movies)."""
    return in_hash_bucket("nsmc-movie", movie_id, percent)


# --------------------------------------------------------------------------- NSMC sentiment (lesson 05)
def movie_is_validation(movie_id: str, percent: int = VALIDATION_MOVIE_PERCENT) -> bool:
    """True for the (non-held-out) NSMC movies whose reviews form the validation set."""
    return in_hash_bucket("nsmc-validation", movie_id, percent)


# --------------------------------------------------------------------------- the chatbot and tiny-ko-sbert
def split_answers(questions, answers, eval_fraction: float = 0.2, seed: int = SEED) -> set[str]:
    """A stable, hash-chosen ``eval_fraction`` of the answers shared by 2+ distinct questions.

    The leave-one-out test uses only these answers, so that anything tuned or trained on
    the other answers (e.g. a contrastive fine-tune) never sees them: a split *by answer*.
    """
    groups = defaultdict(set)
    for q, a in zip(questions, answers):
        groups[a].add(q)
    shared = sorted(a for a, qs in groups.items() if len(qs) >= 2)
    ranked = sorted(shared, key=lambda a: text_key(seed, a))
    return set(ranked[:round(eval_fraction * len(ranked))])


@dataclass
class HeldOut:
    """What no training pair may touch (see :func:`held_out`)."""

    chatbot_answers: set[str] = field(default_factory=set)
    chatbot_questions: set[str] = field(default_factory=set)
    sentences: set[str] = field(default_factory=set)  # evaluation texts of any set (queries, test sentences)

    def touches(self, *texts: str) -> bool:
        return any(t in self.chatbot_questions or t in self.sentences for t in texts)

    def summary(self) -> dict:
        return {"chatbot_answers": len(self.chatbot_answers), "chatbot_questions": len(self.chatbot_questions),
                "evaluation_sentences": len(self.sentences)}


def held_out(questions: list[str], answers: list[str]) -> HeldOut:
    """Everything the chatbot and similarity benchmarks evaluate on.

    Chatbot: the answers of the leave-one-out test (:func:`split_answers`) and the expected answers
    of both paraphrase sets, with every question that has one of those answers, and the paraphrase
    queries themselves. Similarity: every sentence of KorSTS dev/test and of Question_pair test.
    """
    out = HeldOut()
    out.chatbot_answers |= split_answers(questions, answers)
    for kind in PARAPHRASE_SETS:
        queries, expected = load_paraphrases(kind)
        out.chatbot_answers |= set(expected)
        out.sentences |= set(queries)
    out.chatbot_questions = {q for q, a in zip(questions, answers) if a in out.chatbot_answers}
    for split in ("dev", "test"):
        df = load_korsts(split)
        out.sentences |= set(df["sentence1"]) | set(df["sentence2"])
    df = load_question_pair("test")
    out.sentences |= set(df["question1"]) | set(df["question2"])
    return out


# --------------------------------------------------------------------------- stratified splits (lessons 05, 07, 08)
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


def split_sentences(df: pd.DataFrame, test_size: float = 0.2, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train / test split of KLUE-NER dev *by sentence* (duplicated sentences kept on one side)."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size={test_size} must be a fraction in (0, 1). Fix: e.g. 0.2.")
    for col in ("sentence", "chars", "tags"):
        if col not in df.columns:
            raise ValueError(f"split_sentences needs a '{col}' column. Fix: pass helpers.data.load_klue_ner().")
    unique = df.drop_duplicates("sentence").reset_index(drop=True)
    train, test = train_test_split(unique, test_size=test_size, random_state=seed)
    return train.sort_index().reset_index(drop=True), test.sort_index().reset_index(drop=True)


# --------------------------------------------------------------------------- Question_pair (lesson 06)
QUESTION_PAIR_VALIDATION_PERCENT = 10  # share of Question_pair train's question groups that validate lesson 06


def split_pairs_by_question(pairs: pd.DataFrame, percent: int = QUESTION_PAIR_VALIDATION_PERCENT,
                            seed: int = SEED, columns=("question1", "question2")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split sentence pairs into ``(fit, validation)`` *by question*: no question text of a validation pair
    appears in a fitting pair.

    Pairs that share a question are linked; each connected group of pairs (:func:`scipy.sparse.csgraph.connected_components`
    over the question graph) goes to validation when the hash of its smallest question text falls in a
    ``percent`` % bucket (:func:`in_hash_bucket`), so about ``percent`` % of the groups (not exactly of the
    pairs) validate, and the split does not depend on the rows' order. Both parts keep the input's row order
    and a fresh index. Lesson 06 (Question_pair train: a row-wise split there lets validation pairs reuse
    training questions).
    """
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    first, second = columns
    for col in columns:
        if col not in pairs.columns:
            raise ValueError(f"split_pairs_by_question needs a '{col}' column; got {list(pairs.columns)}.")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent={percent} must be in 0..100. Fix: e.g. 10.")
    texts = sorted(set(pairs[first]) | set(pairs[second]))
    index = {t: i for i, t in enumerate(texts)}
    a = np.array([index[t] for t in pairs[first]], dtype=np.int64)
    b = np.array([index[t] for t in pairs[second]], dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(texts), len(texts)))
    _, group = connected_components(graph, directed=False)
    smallest = {}
    for i, g in enumerate(group.tolist()):  # texts are sorted: the first text met in a group is its smallest
        smallest.setdefault(g, texts[i])
    in_val = {g: in_hash_bucket(f"question-pair-validation-{seed}", key, percent) for g, key in smallest.items()}
    mask = np.array([in_val[g] for g in group[a].tolist()], dtype=bool)
    return pairs[~mask].reset_index(drop=True), pairs[mask].reset_index(drop=True)


# --------------------------------------------------------------------------- KorQuAD (lesson 08)
KORQUAD_TEST_PERCENT = 20  # share of KorQuAD 1.0 dev articles (by hash of the title) held out for testing


def korquad_test_article(title: str, seed: int = SEED, percent: int = KORQUAD_TEST_PERCENT) -> bool:
    """True for the KorQuAD articles (``title``) of the test side: split by article, never by question,
    since the questions of a paragraph share its context. Lesson 08 (:func:`helpers.qa.split_by_article`),
    ``python -m helpers.qa train``, ``benchmarks/qa_bench.py``."""
    return in_hash_bucket(f"korquad-article-{seed}", title, percent)
