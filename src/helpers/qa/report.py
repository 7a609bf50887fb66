"""Lesson 08's results: the table beside published figures, verdicts printed from the numbers, answers to read.

The lesson's prose never states which method won: the model can be swapped with ``BERT_MODEL``, so every
comparison is a sentence built here from the predictions (:func:`verdicts`), with the paired standard error of
the per-question F1 differences so that a gap within noise is called so, and nbval keeps the stored sentences
true for tiny-ko-bert. :data:`PUBLISHED` holds figures from the literature on the same dev set, each with its
source; they were trained on KorQuAD 1.0's 60,407-question training set, which is not available offline.
"""
from __future__ import annotations

import pandas as pd

from ..splits import text_key
from .metric import char_f1, exact_match, score_frame

KORQUAD_TRAIN_QUESTIONS = 60_407
KORQUAD_DEV_QUESTIONS = 5_774
BASE_MODEL_PARAMETERS = 110_000_000  # klue/bert-base, bert-base-multilingual-cased: ~110 M (12 layers, hidden 768)
PUBLISHED = pd.DataFrame([
    {"method": "사람 (human performance)", "exact_match": 80.17, "f1": 91.20,
     "source": "Lim, Kim, Lee (2018), KorQuAD: Korean QA Dataset for Machine Reading Comprehension"},
    {"method": "BERT-base multilingual cased (110 M)", "exact_match": 78.96, "f1": 88.69,
     "source": "CLaF toolkit (naver/claf), KorQuAD 1.0 results table"},
    {"method": "3-layer Korean character BERT", "exact_match": 77.14, "f1": 86.75,
     "source": "MrBananaHuman/KoreanCharacterBert README"},
])


def results_table(results: dict, setup: dict | None = None) -> pd.DataFrame:
    """Our rows (``results``: name -> ``{"exact_match", "f1"}``) above the published ones, with how each was
    trained and tested (``setup``: name -> one line; published rows: the full training set, all dev questions)."""
    setup = setup or {}
    ours = pd.DataFrame([{"method": name, "exact_match": r["exact_match"], "f1": r["f1"],
                          "setup": setup.get(name, ""), "source": "this run"} for name, r in results.items()])
    full = f"KorQuAD 1.0 train ({KORQUAD_TRAIN_QUESTIONS:,}) / dev ({KORQUAD_DEV_QUESTIONS:,})"
    published = PUBLISHED.assign(setup=full)[["method", "exact_match", "f1", "setup", "source"]]
    table = pd.concat([ours, published], ignore_index=True).set_index("method")
    table[["exact_match", "f1"]] = table[["exact_match", "f1"]].astype(float).round(1)
    return table


def paired_gap(df: pd.DataFrame, preds_a: dict, preds_b: dict) -> tuple[float, float]:
    """Mean per-question difference of KorQuAD F1 (x100), ``a - b``, and its standard error: the same test
    questions answered by two methods, so the noise is that of the paired differences."""
    import numpy as np

    diff = np.array([max(char_f1(preds_a.get(q, ""), g) for g in gold) - max(char_f1(preds_b.get(q, ""), g) for g in gold)
                     for q, gold in zip(df["id"], df["answers"])]) * 100
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("inf")
    return float(diff.mean()), se


def compare(df: pd.DataFrame, predictions: dict, a: str, b: str) -> tuple[str, bool]:
    """One Korean sentence on ``a`` against ``b`` (KorQuAD F1 on the questions of ``df``, :func:`helpers.verdict.versus`)
    with the paired standard error; and whether the gap is at least twice that (more than noise)."""
    from ..verdict import versus

    fa, fb = (score_frame(df, predictions[k])["f1"] for k in (a, b))
    gap, se = paired_gap(df, predictions[a], predictions[b])
    clear = abs(gap) >= 2 * se
    line = versus(a, fa, b, fb, "F1", digits=1) + f" 질문별 차이의 표준오차는 {se:.1f}점입니다"
    if clear:
        return line + ".", True
    return line + f": 그 2배보다 작은 차이라 test 질문 {len(df):,}개로는 우연과 구별되지 않습니다.", False


def verdicts(df: pd.DataFrame, predictions: dict, *, baseline: str, pretrained: str, random_init: str,
             parameters: int, model_name: str, train_questions: int) -> list[str]:
    """The lesson's conclusions, in Korean, computed from the predictions on ``df`` (see the module docstring)."""
    from ..verdict import ranking_sentence

    results = {name: score_frame(df, p) for name, p in predictions.items()}
    lines = [ranking_sentence({name: r["f1"] for name, r in results.items()}, "F1", digits=1)]
    line, clear = compare(df, predictions, pretrained, random_init)
    lines.append(line)
    if clear and results[pretrained]["f1"] > results[random_init]["f1"]:
        lines.append("구조, 학습 질문, epoch, learning rate가 모두 같으므로 이 차이는 사전학습 (pretraining)에서 옵니다.")
    else:
        lines.append("이 예산에서는 사전학습의 이점이 분명하게 보이지 않았습니다: 같은 구조의 무작위 초기화 모델보다 "
                     "확실히 낫다고 말할 수 없습니다.")
    line, _ = compare(df, predictions, pretrained, baseline)
    lines.append(line)
    if results[pretrained]["f1"] <= results[baseline]["f1"]:
        size = f"{parameters / 1e6:.1f} M"
        extra = ", 2코어 CPU에서 2시간 이내로 사전학습한" if model_name == "tiny-ko-bert" else ""
        lines.append(f"솔직히 말하면: 사전학습된 {model_name}는 모델 없는 글자 규칙을 넘지 못했습니다. 이 모델은 파라미터 "
                     f"{size}개{extra} 작은 BERT이고, klue/bert-base는 약 {BASE_MODEL_PARAMETERS / 1e6:.0f} M개를 "
                     f"대규모 말뭉치로 사전학습했습니다. 독해는 질문과 지문의 단어를 멀리까지 맞춰 봐야 하는 과제라 "
                     f"작은 모델과 {train_questions:,}개의 학습 질문으로는 부족합니다.")
    published = PUBLISHED.set_index("method")["f1"]
    top = published.drop("사람 (human performance)").max()
    lines.append(f"공개 수치와의 거리: {pretrained}의 F1은 공개된 최고 BERT 수치 ({top:.1f})보다 "
                 f"{top - results[pretrained]['f1']:.1f}점 낮습니다. 그 모델들은 {KORQUAD_TRAIN_QUESTIONS:,}개 질문으로 "
                 f"학습했고, 여기서는 {train_questions:,}개입니다 (약 {KORQUAD_TRAIN_QUESTIONS / max(1, train_questions):.0f}분의 1).")
    return lines


def answer_examples(df: pd.DataFrame, predictions: dict, focus: str, n_right: int = 3, n_wrong: int = 3,
                    seed: int = 42) -> pd.DataFrame:
    """A few questions ``focus`` answered exactly and a few it missed entirely (F1 0), chosen by a seeded
    hash of the id (not by position), with every method's answer beside the gold one."""
    right, wrong = [], []
    for qid, gold in sorted(zip(df["id"], df["answers"]), key=lambda t: text_key(seed, t[0])):
        pred = predictions[focus].get(qid, "")
        if max(exact_match(pred, g) for g in gold) == 1.0 and len(right) < n_right:
            right.append(qid)
        elif max(char_f1(pred, g) for g in gold) == 0.0 and len(wrong) < n_wrong:
            wrong.append(qid)
    by_id = df.set_index("id")
    rows = []
    for kind, ids in (("맞음 (exact)", right), ("틀림 (F1 0)", wrong)):
        for qid in ids:
            row = {"": kind, "question": by_id.at[qid, "question"], "gold": by_id.at[qid, "answer"]}
            row.update({name: preds.get(qid, "") for name, preds in predictions.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def error_kinds(df: pd.DataFrame, predictions: dict) -> pd.DataFrame:
    """For each method, the share of questions that are exact, partly right (0 < F1, not exact), wrong but in
    the gold answer's sentence, or wrong elsewhere in the paragraph (where the answer text first occurs):
    where the errors are, counted rather than read."""
    from .baseline import sentences

    def sentence_of(context: str, pos: int) -> int:
        spans = sentences(context)
        return max((k for k, (s, _) in enumerate(spans) if s <= pos), default=0)

    rows = {}
    for name, preds in predictions.items():
        counts = {"exact": 0, "partial": 0, "wrong, same sentence": 0, "wrong, other sentence": 0}
        for qid, ctx, start, gold in zip(df["id"], df["context"], df["answer_start"], df["answers"]):
            pred = preds.get(qid, "")
            if max(exact_match(pred, g) for g in gold):
                counts["exact"] += 1
            elif max(char_f1(pred, g) for g in gold) > 0:
                counts["partial"] += 1
            else:
                at = ctx.find(pred) if pred else -1
                same = at >= 0 and sentence_of(ctx, at) == sentence_of(ctx, start)
                counts["wrong, same sentence" if same else "wrong, other sentence"] += 1
        rows[name] = {k: round(v / len(df), 3) for k, v in counts.items()}
    return pd.DataFrame(rows).T
