"""Question + context -> model inputs (windows), with character offsets and answer labels (lesson 08).

A fast tokenizer encodes the pair ``[CLS] question [SEP] context [SEP]`` (the question first, as BERT was
trained on sentence pairs). A paragraph longer than the model's window is cut into several windows that
overlap by ``stride`` word pieces (``return_overflowing_tokens=True``, ``truncation="only_second"``: only
the context is cut, every window repeats the question). ``return_offsets_mapping=True`` gives each piece
its ``(start, end)`` characters in the context, so a predicted span of pieces maps back to text.

:func:`make_features` returns one row per window (a dict of lists): the model inputs (``input_ids``,
``attention_mask`` and ``token_type_ids`` *only if the tokenizer makes them*: RoBERTa-style tokenizers do
not), ``example`` (which question the window belongs to), ``offsets`` (``None`` for every piece that is
not context, so decoding can only pick context), ``cls_index`` and, when answers are given,
``start_positions`` / ``end_positions``: the answer's first and last piece, or ``cls_index`` for a window
that does not hold the whole answer (the usual SQuAD convention: "not in this window").
"""
from __future__ import annotations

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def _check_fast(tokenizer) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("Question answering needs a fast tokenizer (return_offsets_mapping). "
                        "Fix: load it with AutoTokenizer.from_pretrained(..., use_fast=True).")


def cut_question(tokenizer, question: str, max_tokens: int) -> str:
    """``question`` cut to at most ``max_tokens`` word pieces (at a piece boundary), so a long question can
    never leave no room for the context (the tokenizer would raise)."""
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= max_tokens:
        return question
    return question[: enc["offset_mapping"][max_tokens - 1][1]]


def make_features(tokenizer, questions, contexts, answer_starts=None, answer_texts=None, *, max_length: int = 128,
                  stride: int = 32, padding: str | bool = "max_length") -> dict:
    """Windows for every (question, context) pair; see the module docstring for the keys.

    ``answer_starts`` / ``answer_texts`` (character offset and text of each answer) add the training labels.
    ``stride`` is the overlap between consecutive windows, in word pieces; it must be smaller than the room
    left for the context. Questions longer than half the window are cut (:func:`cut_question`).
    """
    _check_fast(tokenizer)
    questions, contexts = list(questions), list(contexts)
    if len(questions) != len(contexts):
        raise ValueError(f"{len(questions)} questions but {len(contexts)} contexts.")
    if not questions:
        raise ValueError("make_features needs at least one question.")
    pad_right = tokenizer.padding_side == "right"  # question first (BERT); a left-padding model reads context first
    questions = [cut_question(tokenizer, q.strip(), max_length // 2) for q in questions]
    room = max_length - max(len(tokenizer(q, add_special_tokens=False)["input_ids"]) for q in questions) \
        - tokenizer.num_special_tokens_to_add(pair=True)
    if stride >= room:
        raise ValueError(f"stride={stride} must be smaller than the room left for the context ({room} pieces at "
                         f"max_length={max_length}). Fix: a smaller stride or a larger max_length.")
    first, second = (questions, contexts) if pad_right else (contexts, questions)
    enc = tokenizer(first, second, truncation="only_second" if pad_right else "only_first", max_length=max_length,
                    stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True, padding=padding)
    context_id = 1 if pad_right else 0
    out = {key: enc[key] for key in INPUT_KEYS if key in enc}
    out["example"] = list(enc["overflow_to_sample_mapping"])
    out["offsets"], out["cls_index"] = [], []
    labels = answer_starts is not None
    if labels:
        answer_starts, answer_texts = list(answer_starts), list(answer_texts)
        out["start_positions"], out["end_positions"] = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        seq = enc.sequence_ids(i)
        ids = enc["input_ids"][i]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
        ctx = [tuple(o) if s == context_id else None for o, s in zip(offsets, seq)]
        out["offsets"].append(ctx)
        out["cls_index"].append(cls)
        if labels:
            ex = out["example"][i]
            start_char = answer_starts[ex]
            end_char = start_char + len(answer_texts[ex])
            inside = [k for k, o in enumerate(ctx) if o is not None]
            if not inside or not (ctx[inside[0]][0] <= start_char and ctx[inside[-1]][1] >= end_char):
                out["start_positions"].append(cls)
                out["end_positions"].append(cls)
                continue
            start_tok = next(k for k in inside if ctx[k][1] > start_char)
            end_tok = next(k for k in reversed(inside) if ctx[k][0] < end_char)
            out["start_positions"].append(start_tok)
            out["end_positions"].append(end_tok)
    return out


def window_length(model, wanted: int) -> int:
    """The longest window ``model`` can read, at most ``wanted`` pieces: its position embeddings, minus the
    ``padding id + 1`` positions a RoBERTa-style model skips (its positions start after the padding id)."""
    config = model.config
    positions = int(getattr(config, "max_position_embeddings", wanted) or wanted)
    if config.model_type in ("roberta", "xlm-roberta", "camembert"):
        positions -= int(config.pad_token_id or 0) + 1
    return max(8, min(wanted, positions))


def n_windows(features: dict) -> int:
    return len(features["example"])


def model_inputs(features: dict, rows=None) -> list[dict]:
    """One dict per window with only what the model takes (inputs, and labels when present)."""
    keys = [k for k in (*INPUT_KEYS, "start_positions", "end_positions") if k in features]
    rows = range(n_windows(features)) if rows is None else rows
    return [{k: features[k][j] for k in keys} for j in rows]


def answer_in_window(features: dict, i: int) -> bool:
    """True if window ``i`` holds its whole answer (its labels are not the [CLS] position)."""
    return features["start_positions"][i] != features["cls_index"][i]


def labelled_answers(features: dict, contexts) -> list[str]:
    """For each question, the text its training labels point at (pieces ``start..end`` of its first window that
    holds the answer, cut from the context by the offsets; "" if no window holds it). When an answer ends
    inside a word piece (a particle glued to it: ``서울에서`` as one piece), the labelled text is longer than
    the answer: scored against the gold answers it is the best a piece-level model can do (a ceiling)."""
    out: list[str | None] = [None] * len(contexts)
    for i, ex in enumerate(features["example"]):
        if out[ex] is None and answer_in_window(features, i):
            s, e = features["start_positions"][i], features["end_positions"][i]
            offsets = features["offsets"][i]
            out[ex] = contexts[ex][offsets[s][0]:offsets[e][1]]
    return [t or "" for t in out]


def window_table(tokenizer, features: dict, context: str, example: int = 0):
    """One row per window of question ``example``: its context characters, pieces and whether it holds the answer."""
    import pandas as pd

    rows = []
    for i in [j for j, e in enumerate(features["example"]) if e == example]:
        spans = [o for o in features["offsets"][i] if o is not None]
        row = {"window": len(rows), "pieces": int(sum(features["attention_mask"][i])),
               "context pieces": len(spans), "chars": f"{spans[0][0]}–{spans[-1][1]}",
               "starts with": context[spans[0][0]:spans[0][0] + 12] + "…"}
        if "start_positions" in features:
            row["holds the answer"] = answer_in_window(features, i)
        rows.append(row)
    return pd.DataFrame(rows).set_index("window")
