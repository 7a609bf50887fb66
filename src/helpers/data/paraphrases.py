"""The chatbot's evaluation files (lesson 04): a query / expected-answer TSV, and the two paraphrase sets shipped here.

- :func:`load_eval_tsv` reads any TSV whose header holds ``query`` and ``expected_answer`` (``python -m
  helpers.chatbot eval FILE.tsv``); each query is checked like a typed one (:func:`clean_query`);
- :data:`PARAPHRASE_SETS`, :func:`paraphrase_path`, :func:`load_paraphrases`: the held-out sets
  ``paraphrases.tsv`` (``hard``) and ``paraphrases_natural.tsv`` (``natural``) in this folder.

They sit below both of their readers: :mod:`helpers.chatbot` scores its methods on them, and
:func:`helpers.splits.held_out` keeps them out of tiny-ko-sbert's training. The query rule
(:class:`ChatbotError`, :data:`MAX_QUERY_CHARS`, :func:`clean_query`) is here because reading these
files needs it; :mod:`helpers.chatbot` re-exports every name.
"""
from __future__ import annotations

from pathlib import Path

from ..textfiles import read_rows

MAX_QUERY_CHARS = 200  # longer queries are truncated (and the caller is told)


class ChatbotError(ValueError):
    """Bad input for the chatbot; the message says how to fix it."""


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


def load_eval_tsv(path) -> tuple[list[str], list[str]]:
    """Read a TSV with a header containing ``query`` and ``expected_answer`` (other columns ignored)."""
    rows = read_rows(path, ("query", "expected_answer"), ChatbotError,
                     "Fix: give a UTF-8 tab-separated file whose header contains query and expected_answer.")
    queries, expected = [], []
    for line, row in rows:
        if not row["query"] or not row["expected_answer"]:
            raise ChatbotError(f"{Path(path).name} line {line}: empty query or expected_answer. "
                               "Fix: fill or remove the line.")
        queries.append(clean_query(row["query"])[0])
        expected.append(row["expected_answer"])
    return queries, expected


PARAPHRASE_SETS = {
    # 70 queries written to replace every content word of a stored question (컴퓨터가 켜지질 않아 for
    # 노트북 부팅 안돼): a test of meaning beyond shared words, deliberately hard for lexical methods
    "hard": "paraphrases.tsv",
    # 90 queries written the way another user would say the same thing (words kept or changed as
    # natural), for 90 rows drawn at random (seed 2026, questions of 2+ words, sources of "hard"
    # excluded), by a writer who never saw any method's results
    "natural": "paraphrases_natural.tsv",
}


def paraphrase_path(kind: str = "hard") -> Path:
    """A held-out paraphrase set shipped with the package (``helpers/data/``); see :data:`PARAPHRASE_SETS`."""
    if kind not in PARAPHRASE_SETS:
        raise ChatbotError(f"unknown paraphrase set {kind!r}. Fix: use one of {', '.join(PARAPHRASE_SETS)}.")
    return Path(__file__).resolve().parent / PARAPHRASE_SETS[kind]


def load_paraphrases(kind: str = "hard") -> tuple[list[str], list[str]]:
    """Queries and expected answers of a held-out paraphrase set, ``hard`` or ``natural`` (lesson 04)."""
    return load_eval_tsv(paraphrase_path(kind))
