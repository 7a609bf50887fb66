"""Validating what users type, and the checksum of the corpus an index is built from (lesson 04)."""
from __future__ import annotations

import hashlib

MAX_QUERY_CHARS = 200  # longer queries are truncated (and the caller is told)


class ChatbotError(ValueError):
    """Bad input for the chatbot; the message says how to fix it."""


# --------------------------------------------------------------------------- inputs
def clean_query(query, max_chars: int = MAX_QUERY_CHARS) -> tuple[str, bool]:
    """Validate a user query: returns ``(text, truncated)``.

    Raises :class:`ChatbotError` for a non-string or an empty / whitespace-only query.
    A query longer than ``max_chars`` characters is cut to ``max_chars`` (``truncated=True``).
    """
    if not isinstance(query, str):
        raise ChatbotError(f"The query must be a string, got {type(query).__name__}. Fix: pass text, e.g. '오늘 너무 피곤해'.")
    text = " ".join(query.split())
    if not text:
        raise ChatbotError("The query is empty. Fix: type a question, e.g. '오늘 너무 피곤해'.")
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


def corpus_checksum(questions: list[str], answers: list[str]) -> str:
    """sha256 of the (question, answer) rows the index is built from."""
    digest = hashlib.sha256()
    for q, a in zip(questions, answers):
        digest.update(q.encode("utf-8") + b"\t" + a.encode("utf-8") + b"\n")
    return digest.hexdigest()

