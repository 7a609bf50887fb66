"""Lesson 06's stored outputs: the verdict sentences it prints agree with the table it prints.

The lesson prints its conclusions from the results (``helpers.verdict``) instead of stating them in
prose; this reads the stored notebook (no execution) and checks that the printed sentences match the
printed table, and that the model-independent figures (TF-IDF, majority class: same on any
checkpoint) have not moved.
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
