"""KorQuAD's metric: exact match and character-level F1 after KorQuAD's normalisation (lesson 08).

Written from the description of KorQuAD 1.0's published ``evaluate-v1.0.py`` (not copied from it):

1. **normalise** (:func:`normalize_answer`): the quotes and brackets ``' " 《 》 < > 〈 〉 ( ) ‘ ’`` become
   spaces, the text is lower-cased, ASCII punctuation (Python's ``string.punctuation``) is removed and runs
   of white space become one space;
2. **exact match** (:func:`exact_match`): the normalised prediction equals the normalised gold answer;
3. **F1** (:func:`char_f1`): precision and recall over the *characters* of the normalised strings with
   spaces removed, counted as multisets (``Counter`` intersection); 0 when nothing is shared;
4. a question with several gold answers takes the best score over them; a question without a prediction
   scores 0 (it still counts in ``n``); both figures are reported x100.

A general-purpose SQuAD metric (SQuAD v1.1's ``evaluate-v1.1.py``, also what ``evaluate.load("squad")``
computes) differs in step 3: F1 over *white-space words* (:func:`word_f1`, with English articles removed).
Korean attaches particles to words (``서울에서`` vs ``서울``), so word F1 gives nothing for a prediction
that is right but for a particle, while character F1 gives most of the credit: :func:`compare_metrics`.
"""
from __future__ import annotations

import re
import string
from collections import Counter

KORQUAD_MARKS = "'\"《》<>〈〉()‘’"  # replaced by spaces before anything else
_TO_SPACE = str.maketrans({ch: " " for ch in KORQUAD_MARKS})
_NO_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """KorQuAD's normalisation: marks to spaces, lower case, no ASCII punctuation, single spaces."""
    text = str(text).translate(_TO_SPACE).lower().translate(_NO_PUNCT)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    """1.0 if the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(pred_units: list[str], gold_units: list[str]) -> float:
    same = sum((Counter(pred_units) & Counter(gold_units)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_units), same / len(gold_units)
    return 2 * precision * recall / (precision + recall)


def char_f1(prediction: str, gold: str) -> float:
    """KorQuAD's F1: overlap of the characters of the normalised strings, spaces removed (0..1)."""
    return _f1(list(normalize_answer(prediction).replace(" ", "")), list(normalize_answer(gold).replace(" ", "")))


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's normalisation: lower case, no ASCII punctuation, no English articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", str(text).lower().translate(_NO_PUNCT)).split())


def word_f1(prediction: str, gold: str) -> float:
    """SQuAD v1.1's (general-purpose) F1: overlap of white-space *words* after :func:`squad_normalize` (0..1)."""
    return _f1(squad_normalize(prediction).split(), squad_normalize(gold).split())


def squad_exact_match(prediction: str, gold: str) -> float:
    """SQuAD v1.1's exact match (its own normalisation)."""
    return float(squad_normalize(prediction) == squad_normalize(gold))


def best_over(metric, prediction: str, golds) -> float:
    """The best score of ``prediction`` against any of the gold answers ``golds``."""
    golds = [golds] if isinstance(golds, str) else list(golds)
    return max((metric(prediction, g) for g in golds), default=0.0)


def score(predictions: dict, golds: dict, *, f1=char_f1, em=exact_match) -> dict:
    """``{"n", "exact_match", "f1"}`` (x100, 2 decimals) of ``predictions`` (id -> text) against ``golds``
    (id -> list of gold texts). Every gold question counts; one without a prediction scores 0."""
    if not golds:
        raise ValueError("score needs at least one gold question.")
    total_em = total_f1 = 0.0
    for qid, answers in golds.items():
        if qid in predictions:
            total_em += best_over(em, predictions[qid], answers)
            total_f1 += best_over(f1, predictions[qid], answers)
    n = len(golds)
    return {"n": n, "exact_match": round(100 * total_em / n, 2), "f1": round(100 * total_f1 / n, 2)}


def score_frame(df, predictions: dict) -> dict:
    """:func:`score` for a question table (``id``, ``answers`` columns, e.g. from :func:`helpers.qa.read_squad`)."""
    return score(predictions, dict(zip(df["id"], df["answers"])))


def compare_metrics(pairs) -> "pd.DataFrame":  # noqa: F821
    """For ``(prediction, gold)`` pairs: KorQuAD's EM and character F1 beside SQuAD's word F1 (0..1, 3 decimals)."""
    import pandas as pd

    rows = [{"prediction": p, "gold": g, "EM": exact_match(p, g), "KorQuAD char F1": round(char_f1(p, g), 3),
             "SQuAD word F1": round(word_f1(p, g), 3)} for p, g in pairs]
    return pd.DataFrame(rows)
