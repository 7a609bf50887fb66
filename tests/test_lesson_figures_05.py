"""Lesson 05's stored outputs: the learning rates it chose, the verdicts it printed and the tables agree.

The lesson chooses each BERT's learning rate on validation and prints its conclusions from the results
(``helpers.verdict``) instead of stating them in prose; this reads the stored notebook (no execution)
and checks that the printed choices and sentences match the printed tables, that the model-independent
figures (TF-IDF, majority class: the same on any checkpoint) have not moved, and that the README's
sentence about the lesson quotes the stored figures.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_sentence_classification.ipynb"
LEARNERS = ("pretrained", "random init")
NUM = r"(\d\.\d{3})"


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


@pytest.fixture(scope="module")
def summary() -> dict[str, tuple[float, float]]:
    rows = {}
    for line in _output('summary = pd.DataFrame({name: {"accuracy"').splitlines():
        m = re.match(rf"^(\S.*?)\s+{NUM}\s+{NUM}$", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))  # accuracy, macro-F1
    assert set(rows) == {"majority class", "TF-IDF + LR", *LEARNERS}, rows
    return rows


@pytest.fixture(scope="module")
def grid() -> dict[str, dict[float, tuple[float, float, bool]]]:
    table = {name: {} for name in LEARNERS}
    text = _output("selection.lr_search(")
    for line in text.splitlines():
        m = re.match(rf"^(\d\.\d+)\s+{NUM}\s+{NUM}\s+(True|False)\s+{NUM}\s+{NUM}\s+(True|False)$", line)
        if m:
            for k, name in enumerate(LEARNERS):
                f1, acc, learned = m.group(2 + 3 * k), m.group(3 + 3 * k), m.group(4 + 3 * k)
                table[name][float(m.group(1))] = (float(f1), float(acc), learned == "True")
    assert all(len(rows) >= 2 for rows in table.values()), text
    return table


def _chosen(text: str) -> dict[str, float]:
    return {name: float(re.search(rf"^{name}: lr ([\d.e-]+) 선택", text, re.M).group(1)) for name in LEARNERS}


def test_model_independent_baselines_are_unchanged(summary):
    assert summary["majority class"] == (0.759, 0.431)
    assert summary["TF-IDF + LR"] == (0.802, 0.762)


def test_each_model_gets_the_rate_with_the_best_validation_macro_f1(grid):
    text = _output("selection.lr_search(")
    chosen = _chosen(text)
    band = 0.5 + 2 * (0.25 / 500) ** 0.5
    for name, rows in grid.items():
        best = max(v[0] for v in rows.values())
        assert chosen[name] == min(lr for lr, v in rows.items() if v[0] == best), (name, rows)
        for lr, (f1, acc, learned) in rows.items():
            assert learned == (acc > band), (name, lr)  # above a coin flip (a constant predictor scores 0.5)
    main = _output("runs[name] = sentiment.run_bert(")
    assert f"lr: pretrained {chosen['pretrained']:g}, random init {chosen['random init']:g}" in main


def test_the_verdicts_name_the_best_and_the_pretraining_gap(summary, grid):
    text = _output("# the verdicts, printed from the table above")
    learned = {name: re.search(rf"^{name}: .*우연보다 높습니다", text, re.M) is not None for name in LEARNERS}
    kept = {name: v for name, v in summary.items() if learned.get(name, True)}
    best = max(kept, key=lambda name: kept[name][1])
    assert f"이번 실행의 test macro-F1 1위: {best} {kept[best][1]:.3f}" in text, text
    if all(learned.values()):
        signed = r"([+-]\d\.\d{3})"
        m = re.search(rf"macro-F1 {signed} \(test 리뷰를 1,000번 다시 뽑은 95 % 구간 {signed} ~ {signed}\)", text)
        assert m, text
        gap, low, high = (float(v) for v in m.groups())
        assert abs(gap - (summary["pretrained"][1] - summary["random init"][1])) <= 0.0015 and low <= gap <= high
        assert ("(pretraining gap)" in text) == (low > 0) and ("구별되지 않습니다" in text) == (low <= 0 <= high)
    elif not learned["random init"]:
        assert "배운 것이 없는 대조군은 증거가 아니므로" in text and "pretraining gap" not in text
        if not any(v[2] for v in grid["random init"].values()):
            assert "격자의 어느 learning rate" in text


def test_the_learning_curve_reuses_the_main_run_and_its_verdicts_match(summary):
    text = _output("curve = sentiment.learning_curve(")
    assert re.search(r"learner TF-IDF \+ LR pretrained random init TF-IDF \+ LR pretrained random init", text), text
    curve = {}
    for line in text.splitlines():
        m = re.match(r"^(\d+)" + rf"\s+{NUM}" * 6 + "$", line)
        if m:
            v = [float(x) for x in m.groups()[1:]]
            curve[int(m.group(1))] = {name: (v[3 + k], v[k]) for k, name in enumerate(("TF-IDF + LR", *LEARNERS))}
    assert len(curve) >= 2, text
    for name, (acc, f1) in curve[max(curve)].items():
        assert summary[name] == (acc, f1), name
    verdicts = _output("# Which runs learned nothing?")
    for size, rows in curve.items():
        line = re.search(rf"^{size:,}개: 이번 실행의 test macro-F1 1위: (.+?) {NUM}", verdicts, re.M)
        assert line, verdicts
        name, value = line.group(1), float(line.group(2))
        assert rows[name][1] == value and value == max(f1 for n, (_, f1) in rows.items()
                                                       if f"{n}, {size:,}개" not in verdicts)


def test_readme_quotes_the_stored_figures(summary, grid):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"Lesson 05 chooses each BERT's learning rate.*?(?:\n\n|$)", readme, re.S)
    assert m, "README: the lesson-05 sentence is missing"
    sentence = " ".join(m.group(0).split())
    chosen = _chosen(_output("selection.lr_search("))
    for name in LEARNERS:
        assert f"{name} {chosen[name]:g}" in sentence, sentence
    for name in ("pretrained", "random init", "TF-IDF + LR"):
        assert f"{name} {summary[name][1]:.3f}" in sentence, (name, sentence)
