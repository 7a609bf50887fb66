"""What the chatbot takes in (lesson 04): the query rule, and the checksum of the corpus an index is built from.

The query rule (:class:`ChatbotError`, :data:`MAX_QUERY_CHARS`, :func:`clean_query`) lives in
:mod:`helpers.data.paraphrases`, beside the evaluation files whose queries it also checks; it is
re-exported here for the chatbot's modules.
"""
from __future__ import annotations

import hashlib

from ..data.paraphrases import MAX_QUERY_CHARS, ChatbotError, clean_query  # noqa: F401 (re-exported)


def corpus_checksum(questions: list[str], answers: list[str]) -> str:
    """sha256 of the (question, answer) rows the index is built from."""
    digest = hashlib.sha256()
    for q, a in zip(questions, answers):
        digest.update(q.encode("utf-8") + b"\t" + a.encode("utf-8") + b"\n")
    return digest.hexdigest()

