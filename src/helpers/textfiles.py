"""The one reader for text files: data-set files (:mod:`helpers.data`) and the tab-separated files a user
passes to an ``eval`` command.

:func:`read_text` checks a file exists, is UTF-8 (a BOM is dropped) and is not blank; used by every
loader in :mod:`helpers.data`. :func:`read_rows` adds a tab-separated table on top; used by ``python -m helpers.similarity eval`` (KorSTS format, lesson 02), ``python -m helpers.chatbot
eval`` (lesson 04) and ``python -m helpers.classify eval`` (NSMC format, lesson 05). Each caller
checks the values of its own columns; this module checks the file itself: it exists, is UTF-8, has a
header naming the required columns, and every row has as many fields as the header. Quoting is off
(a ``"`` is an ordinary character, as in KorSTS's and NSMC's own files); blank lines are skipped.
"""
from __future__ import annotations

import os
from pathlib import Path


def read_text(path: str | os.PathLike, error: type[Exception], fix: str) -> str:
    """The text of ``path`` (UTF-8, a BOM dropped); raises ``error`` with ``fix`` appended if the file is
    missing, not UTF-8 or blank."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file. {fix}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path.name} is not UTF-8 text (bad byte at {exc.start}). {fix}") from exc
    if not text.strip():
        raise error(f"{path.name} is empty. {fix}")
    return text


def read_rows(path: str | os.PathLike, columns: tuple[str, ...], error: type[Exception], fix: str
              ) -> list[tuple[int, dict[str, str]]]:
    """``(line number, {column: stripped cell})`` for each row of ``path``, keeping only ``columns``.

    Raises ``error`` (the caller's exception class) with ``fix`` appended for a missing file, a file
    that is not UTF-8, an empty file, a header without one of ``columns``, a row whose field count
    differs from the header's, or a header with no rows.
    """
    path = Path(path)
    text = read_text(path, error, fix)
    lines = [(number, line) for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1)
             if line.strip()]
    header = [h.strip() for h in lines[0][1].split("\t")]
    missing = [c for c in columns if c not in header]
    if missing:
        raise error(f"{path.name} has no column {', '.join(repr(m) for m in missing)} (header: {header}). {fix}")
    at = {c: header.index(c) for c in columns}
    rows = []
    for number, line in lines[1:]:
        cells = line.split("\t")
        if len(cells) != len(header):
            raise error(f"{path.name} line {number}: {len(cells)} tab-separated fields, the header has "
                        f"{len(header)}. Fix: one tab between fields, no tabs inside a text.")
        rows.append((number, {c: cells[i].strip() for c, i in at.items()}))
    if not rows:
        raise error(f"{path.name} has a header but no rows. {fix}")
    return rows
