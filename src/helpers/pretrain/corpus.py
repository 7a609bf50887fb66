"""Stages 1-2 of the build: the pretraining corpus with its held-out set, and the WordPiece.

What is held out (movies, chatbot questions) is decided by :mod:`helpers.splits`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..data import load_chatbot_data, load_korsts, load_nsmc_raw, load_parakqc, load_question_pair
from ..splits import movie_is_heldout, split_heldout
from ..wordpiece import make_bert_tokenizer, train_wordpiece
from .config import PretrainConfig


# --------------------------------------------------------------------------- stage 1: corpus
def _sources(config: PretrainConfig):
    nsmc = load_nsmc_raw()
    nsmc = nsmc[nsmc["review"] != ""]
    if config.max_reviews:
        nsmc = nsmc.iloc[: config.max_reviews]
    held = nsmc["movie_id"].map(lambda m: movie_is_heldout(m, config.heldout_movie_percent))
    chat_train, held_questions = split_heldout(load_chatbot_data(), config.heldout_questions, config.seed)
    return nsmc, held, chat_train, held_questions


def heldout_texts(config: PretrainConfig | None = None) -> tuple[list[str], list[str]]:
    """``(reviews, questions)`` that no pretraining step saw: every distinct review of the held-out
    movies, and the held-out chatbot questions. Used by the model card's benchmark."""
    nsmc, held, _, held_questions = _sources(config or PretrainConfig())
    return sorted(set(nsmc.loc[held, "review"])), held_questions


def build_corpus(config: PretrainConfig, work: Path, log=print) -> None:
    """Write ``corpus.jsonl`` (training groups) and ``heldout.jsonl`` (evaluation sentences)."""
    nsmc, held, chat_train, held_questions = _sources(config)
    held_q = set(held_questions)
    heldout_reviews = sorted(set(nsmc.loc[held, "review"]))
    held_text = set(heldout_reviews) | held_q
    seen: set[str] = set()

    def fresh(text: str) -> bool:
        text = text.strip()
        if not text or text in held_text or text in seen:
            return False
        seen.add(text)
        return True

    groups = []  # each: {"kind": ..., "texts": [...]} — texts that belong together, in order
    for movie, reviews in nsmc.loc[~held].groupby("movie_id", sort=True)["review"]:
        texts = [r for r in reviews if fresh(r)]
        if texts:
            groups.append({"kind": "review", "texts": texts})
    for q, a in zip(chat_train["question"], chat_train["answer"]):
        if q in held_q:
            continue
        groups.append({"kind": "pair", "texts": [q, a]})  # answers repeat on purpose: Q -> A pairs
    sts = load_korsts("train")
    for s1, s2 in zip(sts["sentence1"], sts["sentence2"]):
        if s1 not in held_text and s2 not in held_text:
            groups.append({"kind": "pair", "texts": [s1, s2]})
    qp = load_question_pair("train")
    for q1, q2 in zip(qp["question1"], qp["question2"]):
        if q1 not in held_q and q2 not in held_q and q1 and q2:
            groups.append({"kind": "pair", "texts": [q1, q2]})
    para = load_parakqc()
    for _, block in para.groupby("set_id", sort=True)["sentence"]:
        texts = [t for t in block if t and t not in held_text]
        for i in range(0, len(texts) - 1, 2):
            groups.append({"kind": "pair", "texts": [texts[i], texts[i + 1]]})

    rng = np.random.default_rng(config.seed)
    pick = rng.permutation(len(heldout_reviews))[: max(0, config.eval_sentences - len(held_questions))]
    heldout = [{"source": "nsmc", "text": heldout_reviews[i]} for i in sorted(pick)]
    heldout += [{"source": "chatbot", "text": q} for q in held_questions]
    _write_jsonl(work / "corpus.jsonl", groups)
    _write_jsonl(work / "heldout.jsonl", heldout)
    stats = {
        "nsmc_reviews_used": int(sum(len(g["texts"]) for g in groups if g["kind"] == "review")),
        "nsmc_movies_used": int(sum(1 for g in groups if g["kind"] == "review")),
        "nsmc_heldout_movies": int(nsmc.loc[held, "movie_id"].nunique()),
        "nsmc_heldout_reviews": len(heldout_reviews),
        "pair_groups": int(sum(1 for g in groups if g["kind"] == "pair")),
        "characters": int(sum(len(t) for g in groups for t in g["texts"])),
        "heldout_eval_sentences": len(heldout),
    }
    _write_json(work / "corpus_stats.json", stats)
    log(f"[pretrain] corpus: {stats}")


def _write_jsonl(path: Path, rows) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def _read_jsonl(path: Path) -> list:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def corpus_texts(work: Path) -> list[str]:
    """Every distinct training text of a built corpus (sorted)."""
    return sorted({t for g in _read_jsonl(work / "corpus.jsonl") for t in g["texts"]})


# --------------------------------------------------------------------------- stage 2: tokenizer
def build_tokenizer(config: PretrainConfig, work: Path, log=print):
    """Train the WordPiece on the corpus texts and save it as a BERT tokenizer in ``work/tokenizer``."""
    texts = corpus_texts(work)
    wp = train_wordpiece(texts, config.vocab_size, min_char_count=config.min_char_count)
    tokenizer = make_bert_tokenizer(wp.get_vocab(), config.max_len)
    tokenizer.save_pretrained(work / "tokenizer")
    log(f"[pretrain] tokenizer: {len(tokenizer)} word pieces")
    return tokenizer
