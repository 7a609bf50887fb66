"""Lesson 06's stored outputs: the verdict sentences it prints agree with the table it prints.

The lesson prints its conclusions from the results (``helpers.verdict``) instead of stating them in
prose; this reads the stored notebook (no execution) and checks that the printed sentences match the
printed tables (the test table, the learning-rate grid, validation against test), and that the
model-independent figures (TF-IDF, majority class, the validation split by question, how the train and
test files were built: the same on any checkpoint) have not moved.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_sentence_pairs.ipynb"


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


def _table() -> dict[str, tuple[float, float]]:
    rows = {}
    for line in _output("summary = pd.DataFrame(results)").splitlines():
        m = re.match(r"^(\S.*?)\s+(\d\.\d{3})\s+(\d\.\d{3})$", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return rows


@pytest.fixture(scope="module")
def table():
    rows = _table()
    assert {"lexical (TF-IDF)", "majority class"} <= set(rows) and len(rows) == 4, rows
    return rows


def test_model_independent_baselines_are_unchanged(table):
    assert table["lexical (TF-IDF)"] == (0.750, 0.755)
    assert table["majority class"] == (0.522, 0.686)


def test_ranking_sentences_name_the_best_of_the_table(table):
    text = _output("verdict.ranking_sentence(accuracy")
    for i, metric in enumerate(["정확도 (accuracy)", "F1 (같은 질문)"]):
        best = max(table, key=lambda name: table[name][i])
        assert f"이번 실행의 {metric} 1위: {best} {table[best][i]:.3f}" in text, text


def test_cross_encoder_against_the_majority_baseline_is_reported(table):
    ce = next(name for name in table if name.startswith("cross-encoder"))
    text = _output("ce_boot, maj_boot = bootstrap")
    for i, metric in enumerate(["정확도", "F1"]):
        m = re.search(rf"^{metric}: .* = ([+-]\d\.\d{{3}}) \(95 % 구간 ([+-]\d\.\d{{3}}) ~ ([+-]\d\.\d{{3}})\) → (.*)$", text, re.M)
        assert m, text
        gap, lo = float(m.group(1)), float(m.group(2))
        assert abs(gap - (table[ce][i] - table["majority class"][i])) <= 0.0015
        assert m.group(4) == ("기준선보다 낫습니다." if lo > 0 else "기준선보다 낫다고 말할 수 없습니다.")
    not_above = "다수 클래스 기준선을 분명히 넘지 못했습니다" in text
    assert not_above == ("낫다고 말할 수 없습니다" in text)


def test_validation_split_is_by_question_and_leak_free():
    text = _output("splits.split_pairs_by_question(train)")
    assert "by question: 6,232 fitting pairs, 656 validation pairs (69% same)" in text, text
    assert re.search(r"split by row: +\{'test_pairs': 689, 'both_questions_seen': 5, 'one_question_seen': 21,", text), text
    assert re.search(r"split by question: \{'test_pairs': 656, 'both_questions_seen': 0, 'one_question_seen': 0,", text), text


def _grid() -> tuple[dict[float, float], float, str]:
    text = _output("for lr in LEARNING_RATES")
    rows = {float(m.group(1)): float(m.group(4))
            for m in re.finditer(r"^(\d\.\d+)\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})$", text, re.M)}
    chosen = float(re.search(r"chosen on validation: lr (\S+)", text).group(1))
    return rows, chosen, text


def test_learning_rate_is_the_best_on_validation():
    rows, chosen, text = _grid()
    assert len(rows) == 3, text
    best = max(rows.values())
    assert chosen == min(lr for lr, acc in rows.items() if acc == best)  # ties: the smaller learning rate
    assert "6,232 training pairs, 390 steps per candidate" in text
    boot = _output("ce_boot, maj_boot = bootstrap")
    assert f"검증 (질문 단위로 뗀 train의 쌍 656개) {rows[chosen]:.3f}, test " in boot, boot


def _profile() -> dict[str, tuple[float, ...]]:
    text = _output("pairs.pair_profile(")
    return {m.group(1): tuple(float(v) for v in m.group(2).split())
            for m in re.finditer(r"^(\S.*?)((?:\s+\d\.\d{3}){3})$", text, re.M)}


def test_how_the_files_were_built_is_model_independent():
    prof = _profile()  # columns: train, validation, test
    assert prof["same share"] == (0.690, 0.686, 0.522)
    assert prof["same: tf-idf cos"] == (0.603, 0.613, 0.356)
    assert prof["same: identical"] == (0.197, 0.193, 0.019)
    assert prof["different: same 1st char"] == (0.620, 0.631, 0.198)
    assert prof["in ChatbotData"] == (0.887, 0.886, 0.090)


def test_validation_against_test_sentences_follow_the_printed_numbers(table):
    text = _output("pairs.pair_profile(")
    seen = {}
    for m in re.finditer(r"^(.+?): 정확도 검증 (\d\.\d{3}) → test (\d\.\d{3}) \| .*같은 질문 쌍에서 (\d+)% → (\d+)%, "
                         r"다른 질문 쌍에서 (\d+)% → (\d+)%$", text, re.M):
        seen[m.group(1)] = [float(v) for v in m.groups()[1:]]
    ce = next(name for name in table if name.startswith("cross-encoder"))
    assert set(seen) == {"lexical (TF-IDF)", ce}, text
    for name, (_, test_acc, *_rest) in seen.items():
        assert test_acc == table[name][0]
    rows, chosen, _ = _grid()
    assert seen[ce][0] == rows[chosen]  # the validation accuracy of the chosen candidate
    drop = seen[ce][0] - seen[ce][1]
    m = re.search(r"cross-encoder의 정확도가 (\d\.\d{3}) 떨어졌습니다 \(TF-IDF: ([+-]\d\.\d{3})\)", text)
    assert (m is not None) == (drop > 0.05), text
    if m:
        assert abs(float(m.group(1)) - drop) <= 0.0015
        assert abs(float(m.group(2)) + seen["lexical (TF-IDF)"][0] - seen["lexical (TF-IDF)"][1]) <= 0.0015
    gap = seen[ce][5] - seen[ce][4]  # percentage points ("same" answers on different pairs: test - validation)
    if abs(gap - 10) > 1:  # away from the printed rounding of the lesson's 0.1 threshold
        assert (gap > 10) == ("prior만으로는 설명되지 않습니다" in text)
