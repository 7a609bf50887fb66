"""KorQuAD 1.0 dev (korquad/korquad.github.io, CC BY-ND 2.0 KR), the registry entry ``korquad`` (lesson 08).

:func:`load_korquad` finds the file like every other loader (``path`` argument, ``$KO_BERT_DATA/korquad/``,
the user cache, a verified download of the pinned commit), checks it with the SQuAD-shape validation of
:func:`helpers.data.squad.parse_squad`, and returns one row per question. The file is used verbatim; the
licence (ND) forbids saving a derived data file, so splits stay in memory (:func:`helpers.qa.split_by_article`).
"""
from __future__ import annotations

import json
import os

import pandas as pd

from .corpora import _fix, _text
from .fetch import DataError
from .registry import get_spec, locate
from .squad import QAError, parse_squad


def load_korquad(path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                 base_url: str | None = None) -> pd.DataFrame:
    """KorQuAD 1.0 dev: one row per question (``id``, ``title``, ``article``, ``paragraph``, ``context``,
    ``question``, ``answer``, ``answer_start``, ``answers``); ``attrs`` as every loader (``official``, ``quirks``...).

    A file that is not JSON or breaks the SQuAD shape (an ``answer_start`` that misses its text included)
    raises :class:`helpers.qa.QAError` (a :class:`DataError`) naming the place and the fix.
    """
    spec = get_spec("korquad")
    found = locate("korquad", None, path, cache=cache, base_url=base_url)
    try:
        obj = json.loads(_text(found.path, spec, found))
    except json.JSONDecodeError as exc:
        raise QAError(f"{found.path.name} is not valid JSON ({exc.msg}, line {exc.lineno}). {_fix(spec, found)}") from exc
    except DataError as exc:
        raise QAError(str(exc)) from exc
    try:
        df = parse_squad(obj, found.path.name)
    except QAError as exc:
        raise QAError(f"{exc} Or: {_fix(spec, found)}") from exc
    df.attrs.update(found.attrs(spec))
    df.attrs["quirks"] = {"articles": int(df["title"].nunique()), "paragraphs": int(df.attrs["paragraphs"]),
                          "paragraphs_without_questions": int(df.attrs["paragraphs"] - df["paragraph"].nunique()),
                          "questions": int(len(df)), "longest_context": int(df["context"].str.len().max()),
                          "mean_answer_chars": round(float(df["answer"].str.len().mean()), 1)}
    return df
