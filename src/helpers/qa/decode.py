"""Start/end logits -> the answer text: the best span over every window of a question (lesson 08).

The model gives every piece of a window a start score and an end score. The answer is the span
``(s, e)`` of *context* pieces with ``s <= e`` and at most ``max_answer_len`` pieces that maximises

    log p_start(s) + log p_end(e)

where ``p_start`` and ``p_end`` are softmaxes over the window's context pieces *and its [CLS] piece*.
[CLS] is where training points when a window does not hold the answer, so a window that "says" the answer
is elsewhere gives all its spans a low probability; that makes scores comparable across the windows of
a long paragraph. It is the rule transformers' question-answering pipeline used
(``select_starts_ends`` in ``transformers.pipelines.document_question_answering``, which the lesson
checks against), written out in NumPy. Ties go to the earliest window, then the earliest start, then
the shortest span, so the result never depends on sort stability. The span's pieces are mapped back to
characters with the window's offsets: the answer is a slice of the context, never re-assembled pieces.
"""
from __future__ import annotations

import numpy as np

MAX_ANSWER_LEN = 30  # word pieces; KorQuAD's longest dev answer is 31 pieces with tiny-ko-bert's vocabulary


def log_softmax_masked(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """log-softmax of ``logits`` over the ``allowed`` positions; ``-inf`` elsewhere."""
    x = np.where(allowed, logits.astype(np.float64), -np.inf)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))


def window_best(start_logits, end_logits, offsets, cls_index: int = 0, max_answer_len: int = MAX_ANSWER_LEN):
    """``(score, s, e)`` of the best span in one window (see the module docstring), or ``None`` if the window
    holds no context piece. ``offsets`` has ``None`` for pieces that are not context."""
    if max_answer_len < 1:
        raise ValueError(f"max_answer_len={max_answer_len} must be at least 1.")
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    context = np.array([o is not None for o in offsets] + [False] * (len(start_logits) - len(offsets)))
    if not context.any():
        return None
    allowed = context.copy()
    allowed[cls_index] = True
    ls, le = log_softmax_masked(start_logits, allowed), log_softmax_masked(end_logits, allowed)
    idx = np.flatnonzero(context)
    pair = ls[idx][:, None] + le[idx][None, :]  # [start, end] over context pieces only
    gap = idx[None, :] - idx[:, None]  # end - start in piece positions
    pair = np.where((gap >= 0) & (gap < max_answer_len), pair, -np.inf)
    if not np.isfinite(pair).any():
        return None
    best = np.argmax(pair)  # first maximum in row-major order: earliest start, then shortest span
    s, e = np.unravel_index(best, pair.shape)
    return float(pair[s, e]), int(idx[s]), int(idx[e])


def decode(features: dict, start_logits, end_logits, contexts, n_examples: int | None = None,
           max_answer_len: int = MAX_ANSWER_LEN) -> list[dict]:
    """The best answer of each question over all its windows.

    ``features`` is :func:`helpers.qa.make_features`'s output, ``start_logits``/``end_logits`` one row per
    window, ``contexts`` one text per question. Returns, per question, ``{"answer", "start", "end", "score",
    "window"}``: the text ``contexts[q][start:end]``, its characters, the log-probability score and which of
    the question's windows it came from (0 = the first).
    """
    n = len(contexts) if n_examples is None else n_examples
    best: list[dict | None] = [None] * n
    seen = [0] * n
    for i, ex in enumerate(features["example"]):
        k = seen[ex]
        seen[ex] += 1
        found = window_best(start_logits[i], end_logits[i], features["offsets"][i], features["cls_index"][i],
                            max_answer_len)
        if found is None:
            continue
        sc, s, e = found
        if best[ex] is None or sc > best[ex]["score"]:  # strict: ties keep the earlier window
            start, end = features["offsets"][i][s][0], features["offsets"][i][e][1]
            best[ex] = {"answer": contexts[ex][start:end], "start": start, "end": end, "score": sc, "window": k}
    return [b if b is not None else {"answer": "", "start": 0, "end": 0, "score": float("-inf"), "window": -1}
            for b in best]


def pipeline_decode(features: dict, start_logits, end_logits, contexts, max_answer_len: int = MAX_ANSWER_LEN):
    """The same decision made by transformers' own span decoder, ``select_starts_ends`` (the question-answering
    pipeline's; kept in ``transformers.pipelines.document_question_answering`` after v5 removed the pipeline):
    per window, top-1 span with the pipeline's masks, then the best probability over windows. For checking
    :func:`decode`; returns one answer text per question."""
    from transformers.pipelines.document_question_answering import select_starts_ends

    best: dict[int, tuple[float, str]] = {}
    for i, ex in enumerate(features["example"]):
        p_mask = np.array([0 if o is not None else 1 for o in features["offsets"][i]] +
                          [1] * (len(start_logits[i]) - len(features["offsets"][i])))
        p_mask[features["cls_index"][i]] = 0  # as the pipeline did: [CLS] takes part in the softmax
        attention = np.array(features["attention_mask"][i])[None]
        starts, ends, scores, _ = select_starts_ends(np.asarray(start_logits[i])[None], np.asarray(end_logits[i])[None],
                                                      p_mask[None], attention, max_answer_len=max_answer_len)
        if len(starts) == 0 or features["offsets"][i][starts[0]] is None:
            continue
        s, e = int(starts[0]), int(ends[0])
        text = contexts[ex][features["offsets"][i][s][0]:features["offsets"][i][e][1]]
        if ex not in best or float(scores[0]) > best[ex][0]:
            best[ex] = (float(scores[0]), text)
    return [best.get(q, (0.0, ""))[1] for q in range(len(contexts))]
