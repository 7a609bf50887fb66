"""Where the suite keeps its caches (data copy, the built reference model, chatbot indexes).

Used by every lesson through :mod:`helpers.data`, :mod:`helpers.reference` and
:mod:`helpers.chatbot`.
"""
from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ko-bert-lessons"


def cache_dir() -> Path:
    """Return the cache root, creating it if needed.

    Order: ``$KO_BERT_CACHE``, then ``$XDG_CACHE_HOME/ko-bert-lessons``, then
    ``~/.cache/ko-bert-lessons``.
    """
    root = os.environ.get("KO_BERT_CACHE")
    if root:
        path = Path(root).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        path = base / APP_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path
