"""Parsers for the Korean data sets beyond the chatbot corpus (entries of :mod:`helpers.data.registry`).

Each ``load_*`` finds its copy with :func:`helpers.data.registry.locate` (``path`` argument,
``$KO_BERT_DATA``, the user cache, a verified download), returns a pandas DataFrame with the
documented columns, and fills ``df.attrs``: ``quirks`` (what it found), ``official`` (whether the
copy matches upstream), ``checksum``, ``source``, ``origin``, ``license``, ``upstream``.
Bad input (missing file, wrong columns, not UTF-8, empty file) raises :class:`DataError` with a fix.
Used by the tiny-ko-bert build (:mod:`helpers.pretrain`) and the application lessons.
"""
from __future__ import annotations

import csv
import io
import json
import operator
import os
from pathlib import Path

import pandas as pd

from ..textfiles import read_text
from .fetch import DataError
from .registry import DATA_ENV, DatasetSpec, Located, get_spec, locate

NSMC_COLUMNS = ("review_id", "movie_id", "author", "review", "rating", "date")
NER_TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")


def _fix(spec: DatasetSpec, found: Located) -> str:
    """How to replace a bad copy, given where it came from."""
    what = (f"{spec.local}/ from {spec.archive_url()} (folder {spec.folder}/)" if spec.tree
            else f"{found.path.name} from github.com/{spec.repo} @ {spec.commit[:7]}")
    if found.origin in ("cache", "download"):
        return f"Fix: delete {found.path} and run again to re-download it."
    other = f"unset {DATA_ENV}" if found.origin == DATA_ENV else "omit path="
    return f"Fix: replace it with a fresh copy of {what}, or {other} to use a verified download."


def _text(path: Path, spec: DatasetSpec, found: Located) -> str:
    return read_text(path, DataError, _fix(spec, found))


def _finish(df: pd.DataFrame, spec: DatasetSpec, found: Located, quirks: dict) -> pd.DataFrame:
    df = df.reset_index(drop=True)
    df.attrs.update(found.attrs(spec))
    df.attrs["quirks"] = quirks
    return df


def load_nsmc_raw(path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                  base_url: str | None = None) -> pd.DataFrame:
    """All reviews of the raw NSMC crawl (e9t/nsmc ``raw/``), one row per review.

    Columns: ``review_id``, ``movie_id`` (str), ``author``, ``review`` (stripped), ``rating``
    (int 1–10), ``date``. Rows are in file order (files sorted by name). Empty reviews are kept
    (callers drop them); ``attrs["quirks"]`` counts them and the duplicated texts. The folder is
    checked by its git tree hash (computed once per folder state, then remembered in the cache).
    """
    spec = get_spec("nsmc_raw")
    found = locate("nsmc_raw", path=path, cache=cache, base_url=base_url)
    files = sorted(found.path.glob("*.json"))
    if not files:
        raise DataError(f"{found.path} holds no *.json files. {_fix(spec, found)}")
    records, row = [], operator.itemgetter(*NSMC_COLUMNS)
    for file in files:
        try:
            items = json.loads(_text(file, spec, found))
        except json.JSONDecodeError as exc:
            raise DataError(f"{file.name} is not valid JSON ({exc.msg}, line {exc.lineno}). {_fix(spec, found)}") from exc
        if not isinstance(items, list):
            raise DataError(f"{file.name} should hold a JSON list of reviews. {_fix(spec, found)}")
        try:
            records.extend(map(row, items))
        except (KeyError, TypeError) as exc:
            raise DataError(f"{file.name}: a review is not an object with the keys {list(NSMC_COLUMNS)} "
                            f"(missing {exc}). {_fix(spec, found)}") from exc
    df = pd.DataFrame(records, columns=list(NSMC_COLUMNS))
    df["review"] = df["review"].astype(str).str.strip()
    df["movie_id"] = df["movie_id"].astype(str)
    rating = pd.to_numeric(df["rating"], errors="coerce")
    if rating.isna().any() or not rating.between(1, 10).all():
        bad = df.loc[rating.isna() | ~rating.between(1, 10), "rating"].head(3).tolist()
        raise DataError(f"NSMC ratings must be 1..10; found {bad}. {_fix(spec, found)}")
    df["rating"] = rating.astype(int)
    return _finish(df, spec, found, {
        "files": len(files), "reviews": int(len(df)),
        "empty_reviews": int((df["review"] == "").sum()),
        "duplicated_texts": int(df["review"].duplicated().sum()),
    })


def _tsv_rows(path: Path, columns: int, spec: DatasetSpec, found: Located) -> list[list[str]]:
    """Tab-separated rows with quoting off (a ``"`` is an ordinary character); every row must have ``columns``."""
    lines = _text(path, spec, found).replace("\r\n", "\n").split("\n")
    rows = [line.split("\t") for line in lines if line != ""]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != columns]
    if bad:
        raise DataError(f"{path.name}: line(s) {bad[:5]} do not have {columns} tab-separated columns "
                        f"(a spreadsheet may have re-saved it). {_fix(spec, found)}")
    return rows


def load_korsts(split: str = "train", path: str | os.PathLike | None = None, *,
                cache: str | os.PathLike | None = None, base_url: str | None = None) -> pd.DataFrame:
    """KorSTS ``split`` (train/dev/test): columns ``score`` (float 0–5), ``sentence1``, ``sentence2``.

    Read with quoting off (443 lines hold a double quote that breaks pandas' default reader) and
    every line checked for 7 columns. ``attrs["quirks"]["rows_with_quotes"]`` counts those lines.
    """
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be train, dev or test; got {split!r}")
    spec = get_spec("korsts")
    found = locate("korsts", f"sts-{split}.tsv", path, cache=cache, base_url=base_url)
    rows = _tsv_rows(found.path, 7, spec, found)
    header, body = rows[0], rows[1:]
    if header[4:7] != ["score", "sentence1", "sentence2"]:
        raise DataError(f"{found.path.name} has header {header}; expected genre filename year id score "
                        f"sentence1 sentence2. {_fix(spec, found)}")
    if not body:
        raise DataError(f"{found.path.name} has a header but no rows. {_fix(spec, found)}")
    df = pd.DataFrame(body, columns=header)[["score", "sentence1", "sentence2"]]
    score = pd.to_numeric(df["score"], errors="coerce")
    if score.isna().any() or not score.between(0, 5).all():
        raise DataError(f"{found.path.name}: scores must be numbers 0–5; found "
                        f"{df.loc[score.isna() | ~score.between(0, 5), 'score'].head(3).tolist()}. {_fix(spec, found)}")
    df["score"] = score.astype(float)
    quoted = int((df["sentence1"].str.contains('"', regex=False) | df["sentence2"].str.contains('"', regex=False)).sum())
    return _finish(df, spec, found, {"rows": int(len(df)), "rows_with_quotes": quoted})


def load_question_pair(split: str = "train", path: str | os.PathLike | None = None, *,
                       cache: str | os.PathLike | None = None, base_url: str | None = None) -> pd.DataFrame:
    """Question_pair ``split`` (train/test): ``question1``, ``question2``, ``is_duplicate`` (int).

    Careful: ``is_duplicate`` is **0 for the same question, 1 for a different one** (upstream's
    convention). The BOM and the test file's trailing empty column are handled.
    """
    names = {"train": "kor_pair_train.csv", "test": "kor_Pair_test.csv"}
    if split not in names:
        raise ValueError(f"split must be train or test; got {split!r}")
    spec = get_spec("question_pair")
    found = locate("question_pair", names[split], path, cache=cache, base_url=base_url)
    try:
        df = pd.read_csv(io.StringIO(_text(found.path, spec, found)), dtype=str, keep_default_na=False,
                         quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{found.path.name} is not a well-formed CSV ({exc}). {_fix(spec, found)}") from exc
    need = ["question1", "question2", "is_duplicate"]
    if any(c not in df.columns for c in need):
        raise DataError(f"{found.path.name} lacks {need}; found {list(df.columns)}. {_fix(spec, found)}")
    if df.empty:
        raise DataError(f"{found.path.name} has a header but no rows. {_fix(spec, found)}")
    df = df[need].copy()
    df["question1"] = df["question1"].str.strip()
    df["question2"] = df["question2"].str.strip()
    label = df["is_duplicate"].str.strip()
    if not label.isin(["0", "1"]).all():
        raise DataError(f"{found.path.name}: is_duplicate must be 0 or 1; found "
                        f"{sorted(set(label) - {'0', '1'})[:3]}. {_fix(spec, found)}")
    df["is_duplicate"] = label.astype(int)
    return _finish(df, spec, found, {"rows": int(len(df)), "same_question": int((df["is_duplicate"] == 0).sum())})


def load_parakqc(path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                 base_url: str | None = None) -> pd.DataFrame:
    """ParaKQC v1: ``set_id`` (0–999, ten paraphrases each), ``topic``, ``type``, ``sentence``.

    The file has no header and CRLF line ends; consecutive blocks of 10 lines are one set, so the
    row count must be a multiple of 10.
    """
    spec = get_spec("parakqc")
    found = locate("parakqc", None, path, cache=cache, base_url=base_url)
    rows = _tsv_rows(found.path, 3, spec, found)
    if len(rows) % 10:
        raise DataError(f"{found.path.name} has {len(rows)} lines, not a multiple of 10, so the paraphrase sets "
                        f"cannot be recovered. {_fix(spec, found)}")
    df = pd.DataFrame(rows, columns=["topic", "type", "sentence"])
    df["sentence"] = df["sentence"].str.strip()
    df.insert(0, "set_id", [i // 10 for i in range(len(df))])
    return _finish(df, spec, found, {"rows": int(len(df)), "sets": int(len(df) // 10)})


def load_klue_ner(path: str | os.PathLike | None = None, *, cache: str | os.PathLike | None = None,
                  base_url: str | None = None) -> pd.DataFrame:
    """KLUE-NER v1.1 dev: one row per sentence, ``guid``, ``sentence``, ``chars`` (list), ``tags`` (BIO list).

    Tags are ``O`` or ``B-``/``I-`` with one of PS, LC, OG, DT, TI, QT; anything else is an error.
    """
    spec = get_spec("klue_ner")
    found = locate("klue_ner", None, path, cache=cache, base_url=base_url)
    text = _text(found.path, spec, found)
    allowed = {"O"} | {f"{p}-{t}" for p in "BI" for t in NER_TYPES}
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        guid, chars, tags = None, [], []
        for line in block.split("\n"):
            if line.startswith("## klue-ner"):
                guid = line[3:].split("\t")[0]
            elif line.startswith("##") or line == "":
                continue
            else:
                parts = line.split("\t")
                if len(parts) != 2 or parts[1] not in allowed:
                    raise DataError(f"KLUE-NER line {line!r} is not CHAR<TAB>TAG with a BIO tag over "
                                    f"{', '.join(NER_TYPES)}. {_fix(spec, found)}")
                chars.append(parts[0])
                tags.append(parts[1])
        if chars:
            out.append({"guid": guid, "sentence": "".join(chars), "chars": chars, "tags": tags})
    if not out:
        raise DataError(f"{found.path.name} holds no sentences. {_fix(spec, found)}")
    df = pd.DataFrame(out, columns=["guid", "sentence", "chars", "tags"])
    entities = sum(t.startswith("B-") for tags in df["tags"] for t in tags)
    return _finish(df, spec, found, {"sentences": int(len(df)), "entities": int(entities),
                                     "missing_guid": int(df["guid"].isna().sum())})
