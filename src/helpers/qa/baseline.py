"""A lexical baseline for KorQuAD: no model, only characters shared with the question (lesson 08).

Three steps, each a plain rule a student can check by hand:

1. **the sentence**: split the context into sentences (after ``.``, ``!``, ``?`` or a line break) and
   take the one that shares the most character *bigrams* (two adjacent characters, spaces removed)
   with the question; ties go to the earlier sentence. Bigrams rather than words because Korean glues
   particles to words (``시위를`` in the question, ``시위를`` or ``시위가`` in the text): ``시위`` still matches.
2. **the span**: in that sentence a word (eojeol) is *in the question* if its stem (the word without a
   trailing particle) occurs in the question or it shares 2+ bigrams with it. The answer is rarely in the
   question, so the candidates are runs of 1-3 consecutive words that are all *not* in the question; the
   chosen run has the most question words within 2 words on either side (the answer sits next to what the
   question repeats), then the longest, then the earliest.
3. **the particle**: a trailing particle (은/는/이/가/을/를/에/의/로/에서 ...) is cut from the run's last word,
   since KorQuAD's answers are noun phrases without it.

The step-2 choices (window 2, at most 3 words, ties) were picked on the *training* articles only
(``benchmarks/qa_bench.py`` reports the test articles). On the train articles the chosen sentence holds
the answer for about 4 questions in 5; the span rule is what loses most.
"""
from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_WORD = re.compile(r"\S+")
_PUNCT = ".,;:!?\"'()[]{}《》〈〉<>‘’“”·"
# longest first, so 으로 is cut before 로
PARTICLES = tuple(sorted(
    ("은 는 이 가 을 를 에 의 로 으로 에서 에게 와 과 도 만 까지 부터 이다 였다 이었다 인 라는 이라는 "
     "으로써 로써 으로서 로서 에는 에서는 한테 께서 이며 이고 과의 와의 에서의 라고 이라고").split(),
    key=len, reverse=True))
MAX_WORDS = 3
WINDOW = 2


def bigrams(text: str) -> set[str]:
    """The character bigrams of ``text`` with white space removed."""
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)}


def strip_particle(word: str) -> str:
    """``word`` without surrounding punctuation and one trailing particle (``서울에서`` -> ``서울``)."""
    word = word.strip(_PUNCT)
    for p in PARTICLES:
        if word.endswith(p) and len(word) > len(p):
            return word[: -len(p)].strip(_PUNCT)
    return word


def sentences(context: str) -> list[tuple[int, str]]:
    """``(start character, text)`` of every sentence of ``context``."""
    return [(m.start(), m.group()) for m in _SENTENCE.finditer(context) if m.group().strip()]


def best_sentence(question: str, context: str) -> tuple[int, str]:
    """The sentence sharing the most character bigrams with ``question`` (earliest on ties)."""
    qb = bigrams(question)
    found = sentences(context) or [(0, context)]
    return max(found, key=lambda s: (len(bigrams(s[1]) & qb), -s[0]))


def lexical_answer(question: str, context: str) -> dict:
    """The baseline's answer: ``{"answer", "start", "end", "sentence"}`` (characters of ``context``)."""
    start, sentence = best_sentence(question, context)
    words = [(m.start() + start, m.group()) for m in _WORD.finditer(sentence)]
    if not words:
        return {"answer": "", "start": start, "end": start, "sentence": sentence.strip()}
    qb, qtext = bigrams(question), re.sub(r"\s+", "", question)
    in_q = []
    for _, w in words:
        stem = strip_particle(w)
        in_q.append((stem != "" and stem in qtext) or len(bigrams(w) & qb) >= 2)
    best = None
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + MAX_WORDS) + 1):
            if in_q[j - 1]:
                break
            near = sum(in_q[max(0, i - WINDOW): min(len(words), j + WINDOW)])
            key = (near, j - i, -i)
            if best is None or key > best[0]:
                best = (key, i, j)
    if best is None:  # every word is in the question: the first word, stripped
        i, j = 0, 1
    else:
        _, i, j = best
    first_char = words[i][0]
    last_start, last = words[j - 1]
    stem = strip_particle(last)
    offset = last.find(stem) if stem else 0
    end = last_start + offset + len(stem)
    lead = len(words[i][1]) - len(words[i][1].lstrip(_PUNCT)) if j - 1 > i else offset
    first_char += lead
    return {"answer": context[first_char:end], "start": first_char, "end": end, "sentence": sentence.strip()}


def predict_lexical(df) -> dict:
    """``{id: answer}`` for every question of a question table (``id``, ``question``, ``context``)."""
    return {qid: lexical_answer(q, c)["answer"] for qid, q, c in zip(df["id"], df["question"], df["context"])}
