"""Load songys/Chatbot_data (``ChatbotData.csv``) as a clean DataFrame.

Every lesson starts from :func:`load_chatbot_data`. The source is chosen in this order:

1. an explicit ``path`` argument;
2. the ``CHATBOT_DATA`` environment variable;
3. the user cache (``<cache>/data/ChatbotData.csv``, verified by sha256);
4. a download from the upstream GitHub raw URL, verified by sha256 and written atomically.

The real quirks of the file are handled and *reported* in ``df.attrs["quirks"]``
(see :func:`describe_quirks`): one label written ``"2   "``, repeated questions, and
questions that have more than one answer.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

import pandas as pd

from .paths import cache_dir

DATA_URL = "https://raw.githubusercontent.com/songys/Chatbot_data/master/ChatbotData.csv"
DATA_SHA256 = "287eb129695b577321c80ad397bb3c2279164d4ca577874d129fd3db5b30afe2"
DATA_FILENAME = "ChatbotData.csv"
LABEL_NAMES = {0: "일상 (everyday)", 1: "이별 (breakup/negative)", 2: "사랑 (love/positive)"}
REQUIRED_COLUMNS = ("Q", "A", "label")


class DataError(ValueError):
    """The chatbot data could not be loaded; the message says how to fix it."""


def sha256_file(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_chatbot_data(
    dest_dir: str | os.PathLike | None = None,
    *,
    url: str = DATA_URL,
    sha256: str = DATA_SHA256,
    timeout: float = 30.0,
) -> Path:
    """Download ``ChatbotData.csv`` into ``dest_dir`` and verify its sha256.

    The file is fetched by :mod:`pooch`, which writes to a temporary file and only moves it
    into place once the checksum matches, so a failed or mismatched download leaves no file.
    """
    import pooch
    import requests

    dest = Path(dest_dir) if dest_dir is not None else cache_dir() / "data"
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / DATA_FILENAME
    if target.exists():
        if sha256_file(target) == sha256:
            return target
        target.unlink()  # stale or corrupt copy: never serve it
    try:
        fetched = pooch.retrieve(
            url,
            known_hash=f"sha256:{sha256}",
            fname=DATA_FILENAME,
            path=dest,
            progressbar=False,
            downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False),
        )
    except ValueError as exc:  # pooch raises ValueError on a hash mismatch
        _remove_partials(dest)
        raise DataError(
            f"Checksum mismatch for {url}: the downloaded file is not the expected "
            f"ChatbotData.csv (sha256 {sha256[:12]}…), so nothing was saved. "
            "Fix: try again later; if it persists, download the file by hand from "
            "https://github.com/songys/Chatbot_data and set CHATBOT_DATA=/path/to/ChatbotData.csv."
        ) from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        _remove_partials(dest)
        raise DataError(
            f"Could not download ChatbotData.csv from {url} ({type(exc).__name__}) and no "
            "local copy was found. Fix: connect to the internet and run again, or copy the "
            "file to this machine and set CHATBOT_DATA=/path/to/ChatbotData.csv "
            "(or pass path=... to load_chatbot_data)."
        ) from exc
    return Path(fetched)


def _remove_partials(dest: Path) -> None:
    for leftover in dest.glob(f"*{DATA_FILENAME}*"):
        if leftover.name != DATA_FILENAME:
            leftover.unlink(missing_ok=True)
    target = dest / DATA_FILENAME
    if target.exists() and sha256_file(target) != DATA_SHA256:
        target.unlink()


def resolve_data_path(
    path: str | os.PathLike | None = None,
    *,
    cache: str | os.PathLike | None = None,
    url: str = DATA_URL,
    sha256: str = DATA_SHA256,
) -> Path:
    """Find the CSV: explicit path, ``$CHATBOT_DATA``, cache, then download."""
    if path is None:
        path = os.environ.get("CHATBOT_DATA") or None
        origin = "CHATBOT_DATA"
    else:
        origin = "path argument"
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise DataError(
                f"ChatbotData file not found: {candidate} (from the {origin}). Fix: point it at "
                "an existing ChatbotData.csv, or unset CHATBOT_DATA to use the cached/downloaded copy."
            )
        return candidate
    dest = Path(cache) if cache is not None else cache_dir() / "data"
    return download_chatbot_data(dest, url=url, sha256=sha256)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path.name} is empty. Fix: re-download it (delete the file and run again).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path.name} is not UTF-8 text (bad byte at position {exc.start}). Fix: re-save it as "
            "UTF-8 (for a CP949/EUC-KR copy: iconv -f cp949 -t utf-8 in.csv > out.csv) or re-download it."
        ) from exc
    return text


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
    url: str = DATA_URL,
    sha256: str = DATA_SHA256,
) -> pd.DataFrame:
    """Return Chatbot_data as a DataFrame with columns ``question``, ``answer``, ``label`` (int).

    All 11,823 rows are kept (repeated questions too: they are real data). ``df.attrs`` holds
    ``sha256``, ``official`` (whether the checksum matches upstream) and ``quirks``.
    Used by every lesson (01–06) and by :mod:`helpers.reference`.
    """
    csv_path = resolve_data_path(path, cache=cache, url=url, sha256=sha256)
    text = _read_text(csv_path)
    df, quirks = parse_chatbot_csv(text, name=csv_path.name)
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    df.attrs.update({"sha256": digest, "official": digest == DATA_SHA256, "quirks": quirks})
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
