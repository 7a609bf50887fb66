"""Load songys/Chatbot_data (``ChatbotData.csv``) as a clean DataFrame.

Every lesson starts from :func:`load_chatbot_data`. The file is the registry entry ``chatbot``
(:mod:`helpers.data.registry`) and is found in the registry's order:

1. an explicit ``path`` argument;
2. the ``CHATBOT_DATA`` environment variable (the file), else ``$KO_BERT_DATA/ChatbotData.csv``;
3. the user cache (``<cache>/data/ChatbotData.csv``, verified by sha256);
4. a download from the pinned upstream commit, verified by sha256 and written atomically.

The real quirks of the file are handled and *reported* in ``df.attrs["quirks"]``
(see :func:`describe_quirks`): one label written ``"2   "``, repeated questions, and
questions that have more than one answer.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from ..textfiles import read_text
from .fetch import DataError, download_file, sha256_file
from .registry import DATASETS, data_cache, fix_hint, locate

SPEC = DATASETS["chatbot"]
DATA_FILENAME = "ChatbotData.csv"
DATA_SHA256 = SPEC.files[DATA_FILENAME]
DATA_URL = SPEC.file_url(DATA_FILENAME)  # the pinned commit, not a moving branch
LABEL_NAMES = {0: "일상 (everyday)", 1: "이별 (breakup/negative)", 2: "사랑 (love/positive)"}
REQUIRED_COLUMNS = ("Q", "A", "label")

__all__ = ["DATA_FILENAME", "DATA_SHA256", "DATA_URL", "LABEL_NAMES", "DataError", "describe_quirks",
           "download_chatbot_data", "load_chatbot_data", "parse_chatbot_csv", "resolve_data_path", "sha256_file"]


def download_chatbot_data(
    dest_dir: str | os.PathLike | None = None,
    *,
    url: str | None = None,
    sha256: str = DATA_SHA256,
    timeout: float = 30.0,
) -> Path:
    """Download ``ChatbotData.csv`` into ``dest_dir`` (default: the data cache) and verify its sha256.

    ``url`` defaults to the pinned commit (:data:`DATA_URL`, following ``registry.RAW_BASE``).
    The file is fetched by :mod:`pooch`, which writes to a temporary file and only moves it
    into place once the checksum matches, so a failed or mismatched download leaves no file.
    A copy already there is kept if it verifies and replaced otherwise.
    """
    target = data_cache(dest_dir) / DATA_FILENAME
    if target.exists():
        if sha256_file(target) == sha256:
            return target
        target.unlink()  # stale or corrupt copy: never serve it
    return download_file(url or SPEC.file_url(DATA_FILENAME), sha256, target, what=DATA_FILENAME,
                         fix=fix_hint(SPEC, DATA_FILENAME), timeout=timeout)


def resolve_data_path(
    path: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    url: str | None = None,
    sha256: str = DATA_SHA256,
) -> Path:
    """Find the CSV: explicit path, ``$CHATBOT_DATA``, ``$KO_BERT_DATA``, cache, then download."""
    return locate("chatbot", path=path, cache=cache, url=url, sha256=sha256).path


def _read_text(path: Path) -> str:
    return read_text(path, DataError, "Fix: re-save it as UTF-8 (for a CP949/EUC-KR copy: iconv -f cp949 -t utf-8 "
                                      "in.csv > out.csv) or re-download it (delete the file and run again).")


def parse_chatbot_csv(text: str, *, name: str = DATA_FILENAME) -> tuple[pd.DataFrame, dict]:
    """Parse CSV text into ``question, answer, label`` and a dict describing the quirks."""
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} lacks the column(s) {missing}; found {list(frame.columns)}. Fix: the file must "
            "have the header Q,A,label as in songys/Chatbot_data."
        )
    if frame.empty:
        raise DataError(f"{name} has a header but no rows. Fix: re-download the file.")
    raw_labels = frame["label"]
    stripped = raw_labels.str.strip()
    bad = sorted(set(stripped) - {"0", "1", "2"})
    if bad:
        rows = frame.index[~stripped.isin(["0", "1", "2"])][:5].tolist()
        raise DataError(
            f"{name} has unknown label value(s) {bad[:5]} (rows {rows}); labels must be 0, 1 or 2. "
            "Fix: correct those rows or re-download the original file."
        )
    question = frame["Q"].str.strip()
    answer = frame["A"].str.strip()
    empty = frame.index[(question == "") | (answer == "")].tolist()
    if empty:
        raise DataError(f"{name} has empty questions or answers in rows {empty[:5]}. Fix: remove those rows.")
    df = pd.DataFrame(
        {"question": question.astype(str), "answer": answer.astype(str), "label": stripped.astype(int)}
    )
    padded = raw_labels[raw_labels != stripped]
    per_q = df.groupby("question")["answer"].nunique()
    quirks = {
        "rows": int(len(df)),
        "padded_labels": {int(i): v for i, v in padded.items()},
        "distinct_questions": int(df["question"].nunique()),
        "repeated_question_rows": int(df["question"].duplicated().sum()),
        "questions_with_several_answers": int((per_q > 1).sum()),
        "distinct_answers": int(df["answer"].nunique()),
        "label_counts": {int(k): int(v) for k, v in df["label"].value_counts().sort_index().items()},
    }
    return df, quirks


def load_chatbot_data(
    path: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    url: str | None = None,
    sha256: str = DATA_SHA256,
) -> pd.DataFrame:
    """Return Chatbot_data as a DataFrame with columns ``question``, ``answer``, ``label`` (int).

    All 11,823 rows are kept (repeated questions too: they are real data). ``df.attrs`` holds
    ``sha256``, ``official`` (whether the checksum matches upstream: a copy you name is loaded
    even when it differs, flagged ``False``), ``quirks`` and the registry's source fields.
    Used by every lesson (01–06) and by :mod:`helpers.reference`.
    """
    found = locate("chatbot", path=path, cache=cache, url=url, sha256=sha256)
    text = _read_text(found.path)
    df, quirks = parse_chatbot_csv(text, name=found.path.name)
    df.attrs.update(found.attrs(SPEC))
    df.attrs.update({"sha256": found.checksum, "official": found.checksum == DATA_SHA256, "quirks": quirks})
    return df


def describe_quirks(df: pd.DataFrame) -> str:
    """One paragraph (English) summarising the quirks found while loading ``df``."""
    q = df.attrs["quirks"]
    padded = ", ".join(f"row {i}: {v!r}" for i, v in q["padded_labels"].items()) or "none"
    return (
        f"{q['rows']:,} rows, {q['distinct_questions']:,} distinct questions "
        f"({q['repeated_question_rows']} rows repeat an earlier question), "
        f"{q['questions_with_several_answers']} questions with more than one answer, "
        f"{q['distinct_answers']:,} distinct answers; labels {q['label_counts']}; "
        f"padded labels stripped: {padded}."
    )
