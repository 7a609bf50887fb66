"""Lesson 07's stored outputs: the per-type findings it prints agree with the report it prints.

The lesson prints which entity type is weakest (and whether it is the rarest) from seqeval's report
instead of asserting it in prose; this reads the stored notebook (no execution) and checks the
printed findings against the printed report, and that the data-only figures (entities per type
in the seeded split) have not moved.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_token_classification.ipynb"
TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


@pytest.fixture(scope="module")
def report() -> dict[str, tuple[float, int]]:
    rows = {}
    for line in _output("report = ner.entity_report(gold, pred)").splitlines():
        m = re.match(r"^([A-Z]{2}) .*?\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d\.\d{3})\s+(\d+)$", line)
        if m:
            rows[m.group(1)] = (float(m.group(4)), int(m.group(5)))
    assert set(rows) == set(TYPES), rows
    return rows


def test_entities_per_type_in_the_test_split(report):
    assert {t: n for t, (_, n) in report.items()} == {"PS": 955, "LC": 326, "OG": 406, "DT": 484, "TI": 104, "QT": 638}


def test_printed_findings_follow_the_report(report):
    text = _output("error_breakdown(gold, pred)")
    worst = min(TYPES, key=lambda t: (report[t][0], t))
    rarest = min(TYPES, key=lambda t: (report[t][1], t))
    best = max(TYPES, key=lambda t: (report[t][0], t))
    assert re.search(rf"유형별 F1 1위(는 동률)?: .*{best}", text), text
    assert f"가장 낮은 F1: {worst} " in text and f"{report[worst][0]:.3f} (test 개체 {report[worst][1]:,}개)" in text
    assert f"가장 드문 유형: {rarest} " in text
    same = "가장 낮은 유형이 가장 드문 유형이기도 합니다." in text
    assert same == (worst == rarest)
