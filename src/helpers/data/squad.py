"""The SQuAD v1.1 / KorQuAD 1.0 JSON shape: validation and flattening (lesson 08, ``helpers.qa``).

Lives in the data layer so that both the registry's loader (:func:`helpers.data.load_korquad`) and the
question-answering package (:mod:`helpers.qa`, which re-exports :class:`QAError` and :func:`parse_squad`)
use it without importing each other. :func:`parse_squad` checks every level of the shape and every
answer (``context[answer_start:][:len(text)]`` must be the answer text) and returns one row per question.
"""
from __future__ import annotations

import pandas as pd

from .fetch import DataError

COLUMNS = ["id", "title", "article", "paragraph", "context", "question", "answer", "answer_start", "answers"]
SHAPE = ('{"data": [{"title": ..., "paragraphs": [{"context": ..., "qas": [{"id": ..., "question": ..., '
         '"answers": [{"text": ..., "answer_start": ...}]}]}]}]}')
FIX = f"Fix: give a UTF-8 JSON file in SQuAD v1.1 / KorQuAD 1.0 format: {SHAPE}."


class QAError(DataError):
    """A question-answering input (file, question, context) is unusable; the message says how to fix it."""


def _need(cond: bool, where: str, what: str, fix: str = FIX) -> None:
    if not cond:
        raise QAError(f"{where}: {what}. {fix}")


def _answer_fix(context: str, text: str) -> str:
    found = context.find(text)
    if found < 0:
        return "Fix: the answer text must be copied from its context verbatim (it does not occur in the context)."
    return f"Fix: set answer_start to the character offset of the answer in its context (here {found})."


def parse_squad(obj, source: str = "input", *, require_answers: bool = True) -> pd.DataFrame:
    """Validate a parsed SQuAD-format object and flatten it to one row per question (columns :data:`COLUMNS`).

    Raises :class:`QAError` for: no ``data`` list, an article without ``paragraphs``, a paragraph without a
    non-empty ``context`` or a ``qas`` list, a question without an ``id`` or with an empty ``question``, a
    repeated ``id``, no ``answers`` (when ``require_answers``), an answer without ``text`` or an integer
    ``answer_start``, and an ``answer_start`` that does not point at the answer's text in the context.
    """
    _need(isinstance(obj, dict) and isinstance(obj.get("data"), list),
          source, "the top level must be an object with a \"data\" list")
    _need(len(obj["data"]) > 0, source, "\"data\" is empty")
    rows, seen, n_paragraph = [], set(), 0
    for a, article in enumerate(obj["data"]):
        where_a = f"{source}: data[{a}]"
        _need(isinstance(article, dict) and isinstance(article.get("paragraphs"), list),
              where_a, "an article must be an object with a \"paragraphs\" list")
        title = article.get("title", "")
        _need(isinstance(title, str), where_a, "\"title\" must be a string")
        for p, para in enumerate(article["paragraphs"]):
            where_p = f"{where_a}.paragraphs[{p}]"
            _need(isinstance(para, dict) and isinstance(para.get("context"), str) and para["context"].strip() != "",
                  where_p, "a paragraph needs a non-empty \"context\" string")
            _need(isinstance(para.get("qas"), list), where_p, "a paragraph needs a \"qas\" list")
            context = para["context"]
            for q, qa in enumerate(para["qas"]):
                where_q = f"{where_p}.qas[{q}]"
                _need(isinstance(qa, dict) and isinstance(qa.get("id"), (str, int)) and str(qa["id"]).strip(),
                      where_q, "a question needs an \"id\" (string)")
                qid = str(qa["id"])
                where_q += f" (id {qid!r})"
                _need(qid not in seen, where_q, "this id is used twice", "Fix: give every question its own id.")
                seen.add(qid)
                question = qa.get("question")
                _need(isinstance(question, str) and question.strip() != "", where_q,
                      "the \"question\" is empty or missing", "Fix: write the question text in \"question\".")
                answers = qa.get("answers", [])
                _need(isinstance(answers, list), where_q, "\"answers\" must be a list")
                if require_answers:
                    _need(len(answers) > 0, where_q, "no answers: a question to score needs at least one gold "
                          "answer", "Fix: add {\"text\": ..., \"answer_start\": ...} to \"answers\".")
                texts = []
                for k, ans in enumerate(answers):
                    where_k = f"{where_q}.answers[{k}]"
                    _need(isinstance(ans, dict) and isinstance(ans.get("text"), str) and ans["text"].strip() != "",
                          where_k, "an answer needs a non-empty \"text\"")
                    start = ans.get("answer_start")
                    _need(isinstance(start, int) and not isinstance(start, bool) and start >= 0, where_k,
                          f"\"answer_start\" must be a non-negative integer, not {start!r}",
                          "Fix: give the character offset of the answer in its context.")
                    text = ans["text"]
                    found = context[start:start + len(text)]
                    _need(found == text, where_k, f"answer_start {start} points at {found!r} in the context, not at "
                          f"the answer text {text!r}", _answer_fix(context, text))
                    texts.append(text)
                first = answers[0] if answers else {"text": "", "answer_start": -1}
                rows.append({"id": qid, "title": title, "article": a, "paragraph": n_paragraph, "context": context,
                             "question": question.strip(), "answer": first["text"],
                             "answer_start": int(first["answer_start"]), "answers": tuple(texts)})
            n_paragraph += 1
    _need(len(rows) > 0, source, "the file holds no questions")
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs["paragraphs"] = n_paragraph  # paragraphs in the file, with or without questions
    return df
