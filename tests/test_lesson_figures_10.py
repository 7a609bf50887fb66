"""Lesson 10's stored outputs: what the run on the default checkpoint (tiny-ko-bert) showed.

The lesson prints its readings from the numbers; these checks read the stored notebook (no execution):
the attention-share table and the per-head readings agree, tiny-ko-bert has one head that looks at the
previous piece and one at the next, no head gives [SEP] half its attention, and the [MASK] read at each
layer only reaches the fill-mask answer at the last layer.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "10_inside_bert.ipynb"
NUMBER = r"-?\d+\.\d+"
CATEGORIES = ["self", "[CLS]", "[SEP]", "previous", "next", "other"]


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


@pytest.fixture(scope="module", autouse=True)
def stored_run_is_the_default():
    if "model: tiny-ko-bert " not in _output('helpers.setup("10")'):
        pytest.skip("the stored outputs are not from tiny-ko-bert")


@pytest.fixture(scope="module")
def shares() -> dict[str, dict[str, float]]:
    rows = {}
    for line in _output("shares, even = inside.measure_attention(").splitlines():
        m = re.match(r"^(layer \d head \d|고르게 \(uniform\))" + rf"\s+({NUMBER})" * 6 + r"\s*$", line)
        if m:
            rows[m.group(1)] = dict(zip(CATEGORIES, map(float, m.groups()[1:])))
    assert len(rows) == 5, rows
    return rows


def test_share_rows_sum_to_one(shares):
    for name, row in shares.items():
        assert abs(sum(row.values()) - 1) < 0.004, (name, row)


def test_readings_agree_with_the_table(shares):
    text = _output("for line in inside.head_readings(shares, even):")
    for name, row in shares.items():
        if not name.startswith("layer"):
            continue
        top = max(row, key=row.get)
        line = next(line for line in text.splitlines() if line.startswith(name + ":"))
        assert f"가장 많이 {top} {row[top]:.3f}" in line, line
        assert ("한 곳에 집중" in line) == (row[top] >= 0.5), line
    assert shares["고르게 (uniform)"]["other"] > 0.4  # even attention: most keys are neither special nor adjacent


def test_tiny_ko_bert_heads(shares):
    rows = {k: v for k, v in shares.items() if k.startswith("layer")}
    assert rows["layer 1 head 0"]["previous"] > 0.5 and rows["layer 2 head 1"]["next"] > 0.5
    assert all(row["[SEP]"] < 0.5 for row in rows.values())
    text = _output("for line in inside.head_readings(shares, even):")
    assert "head 4개 가운데 한 범주에 0.5 이상을 주는 head 2개" in text and "[SEP]에 절반 이상을 주는 head 0개" in text


def test_the_answer_forms_at_the_last_layer():
    text = _output("enters = next(layer for layer")
    ranks = {int(layer): [int(r) for r in re.findall(r"(\d+)위", rest)]
             for layer, rest in re.findall(r"^layer (\d+): 마지막 층 1위 후보의 순위 — (.+)$", text, re.M)}
    assert sorted(ranks) == [0, 1, 2] and ranks[2] == [1, 1, 1]
    assert all(r > 5 for r in ranks[0])  # layer 0 sees no context: no final answer is in its top 5 yet
    entered = [int(layer) for layer in re.findall(r"top-5에 처음 드는 층 layer (\d+)", text)]
    assert entered == [next(layer for layer in (0, 1, 2) if ranks[layer][k] <= 5) for k in range(3)], text
    pair = _output('pair = ["같이 [MASK] 보러 갈래?"')
    assert "두 문장에서 다릅니다" in pair
