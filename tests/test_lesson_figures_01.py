"""Lesson 01's stored outputs: the figures its prose used to assert inside the lesson.

The lesson prints its comparisons from the results (``helpers.verdict``); what a run on the default
checkpoint showed (tiny-ko-bert, ``PRETRAIN_STEPS = 300``) is a regression check and lives here. This
reads the stored notebook (no execution): the fill-mask candidates change with the context, the
short mini pretraining reaches the frequency baseline's top-1 and no more, and tiny-ko-bert is far
above it; and the verdict sentences agree with the printed table.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_mlm_intuition.ipynb"


def _cell(marker: str) -> dict:
    return stored_outputs.code_cell(NOTEBOOK, marker)


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


@pytest.fixture(scope="module", autouse=True)
def stored_run_is_the_default():
    setup = _output('helpers.setup("01")')
    steps = re.search(r"PRETRAIN_STEPS = (\d+)", "".join(_cell("PRETRAIN_STEPS = ")["source"]))
    if "model: tiny-ko-bert " not in setup or not steps or steps.group(1) != "300":
        pytest.skip("the stored outputs are not from tiny-ko-bert with PRETRAIN_STEPS = 300")


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, float]]:
    rows = {}
    for line in _output("scores[name] = {").splitlines():
        m = re.match(r"^(\S.*?)\s+(\d\.\d+)\s+(\d\.\d+)\s+(\d\.\d+)$", line)
        if m:
            rows[m.group(1)] = dict(zip(("top-1", "top-5", "shared top-5"), map(float, m.groups()[1:])))
    assert set(rows) == {"mini, before", "mini, after", "tiny-ko-bert", "frequency baseline"}, rows
    return rows


def test_candidates_change_with_the_context():
    text = _output("trained_tables = {q: mlm.fill_mask")
    share = re.search(r"share (\d+)% of their top-5 tokens", text)
    assert share and int(share.group(1)) < 50, text
    top1 = dict(re.findall(r"^(.+?): top-1 (\S+) \(", text, re.M))
    assert top1["나는 학교[MASK] 갔다"] != top1["학교[MASK] 너무 멀어"], top1  # the right-hand context picks the particle
    verdicts = _output("school_1, school_2 = top1[")
    assert "서로 다릅니다" in verdicts and "대체로 다릅니다" in verdicts, verdicts


def test_mini_pretraining_learns_frequencies_first(scores):
    untrained, mini, base = scores["mini, before"], scores["mini, after"], scores["frequency baseline"]
    assert untrained["top-5"] == 0 and untrained["shared top-5"] < 0.5
    assert abs(mini["top-1"] - base["top-1"]) < 0.02 and mini["shared top-5"] >= 0.5


def test_tiny_ko_bert_is_far_above_the_frequency_baseline(scores):
    trained, mini, base = scores["tiny-ko-bert"], scores["mini, after"], scores["frequency baseline"]
    assert trained["top-1"] > 3 * base["top-1"] and trained["top-5"] > base["top-5"] + 0.2
    assert trained["shared top-5"] < mini["shared top-5"]


def test_verdict_sentences_agree_with_the_table(scores):
    text = _output("verdict.ranking_sentence({k: v[\"top-1\"]")
    best = max(scores, key=lambda k: scores[k]["top-1"])
    assert f"1위: {best} {scores[best]['top-1']:.3f}" in text, text
    assert "held-out top-5: tiny-ko-bert" in text and "tiny-ko-bert 쪽이" in text and "높습니다" in text, text
