"""SQuAD / KorQuAD files: read, validate, flatten to one row per question, split by article (lesson 08).

KorQuAD 1.0 uses SQuAD v1.1's JSON shape::

    {"version": ..., "data": [{"title": ..., "paragraphs": [{"context": ...,
        "qas": [{"id": ..., "question": ..., "answers": [{"text": ..., "answer_start": ...}]}]}]}]}

:func:`parse_squad` checks every level of that shape and every answer (``context[answer_start:][:len(text)]``
must be the answer text) and returns a DataFrame with one row per question: ``id``, ``title``, ``article``,
``paragraph`` (index of the paragraph in the file), ``context``, ``question``, ``answer`` and
``answer_start`` (the first answer) and ``answers`` (every gold text; the metric takes the best). A file
that breaks the shape raises :class:`QAError`, whose message names the place (``data[3].paragraphs[1].qas[0]``)
and says how to fix it. :func:`read_squad` reads a file (the ``eval`` command), :func:`load_korquad_examples`
the registry's KorQuAD copy (:func:`helpers.data.load_korquad`), and :func:`split_by_article` splits it by
article title with the project's split rule (:func:`helpers.splits.korquad_test_article`), in memory only:
the data's licence (CC BY-ND 2.0 KR) forbids saving a derived file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..data.squad import FIX, QAError, parse_squad  # noqa: F401 (QAError, parse_squad: handed on to helpers.qa)

def read_squad(path: str | os.PathLike, *, require_answers: bool = True) -> pd.DataFrame:
    """Read and validate a SQuAD-format JSON file (see :func:`parse_squad`); :class:`QAError` on bad input."""
    from ..textfiles import read_text

    path = Path(path)
    text = read_text(path, QAError, FIX)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QAError(f"{path.name} is not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno}). {FIX}") from exc
    return parse_squad(obj, path.name, require_answers=require_answers)


def load_korquad_examples(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """KorQuAD 1.0 dev, one row per question (:func:`helpers.data.load_korquad`: registry, checksum, cache)."""
    from ..data import load_korquad

    return load_korquad(path)


def split_by_article(df: pd.DataFrame, test_percent: int = 20, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)`` questions: an article (``title``) is a test article by the project's seeded hash rule
    (:func:`helpers.splits.korquad_test_article`), so a paragraph and its questions are never on both sides."""
    from ..splits import korquad_test_article

    if "title" not in df.columns:
        raise QAError("split_by_article needs a 'title' column. Fix: pass helpers.qa.load_korquad_examples().")
    test = df["title"].map(lambda t: korquad_test_article(t, seed=seed, percent=test_percent))
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def seeded_order(df: pd.DataFrame, seed: int = 42) -> pd.DataFrame:
    """The questions in a seeded, position-free order (by :func:`helpers.splits.text_key` of the id), so that
    the first N questions of the training side come from many articles, not from the first few."""
    from ..splits import text_key

    keys = df["id"].map(lambda qid: text_key(seed, qid))
    return df.assign(_key=keys).sort_values("_key", kind="stable").drop(columns="_key").reset_index(drop=True)


def split_summary(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Articles, paragraphs and questions on each side of a split (a small table for the lesson)."""
    return pd.DataFrame({name: {"articles": part["title"].nunique(), "paragraphs": part["paragraph"].nunique(),
                                "questions": len(part)} for name, part in [("train", train), ("test", test)]}).T


def check_question(question: str, context: str) -> tuple[str, str]:
    """The stripped question and the context for ``ask``; :class:`QAError` if either is empty."""
    if not isinstance(question, str) or not question.strip():
        raise QAError("The question is empty. Fix: pass --question \"...\" with the question text.")
    if not isinstance(context, str) or not context.strip():
        raise QAError("The context is empty. Fix: pass --context \"...\" with the paragraph that holds the answer.")
    return question.strip(), context
