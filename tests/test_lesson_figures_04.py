"""Lesson 04's stored figures (tiny-ko-bert): the regression checks that used to sit inside the lesson.

The lesson prints its verdicts from the method table ("이번 실행의 top-1 1위: ..."), so its prose stays
true on any checkpoint. What the stored run showed for tiny-ko-bert is checked here instead, from the
stored outputs (no re-execution): on every evaluation set the best raw BERT vector (``cls``,
``pooler``, ``mean``) has a lower top-1 than both the Sentence-BERT ``sbert`` and character TF-IDF.
nbval (``make notebooks``) re-executes the lesson and compares the table itself.
"""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_bert_chatbot.ipynb"
TABLE_SOURCE = "results = pd.DataFrame(rows).T"  # the cell that builds the method table
SETS = ("hard", "natural", "loo")
RAW = ("cls", "pooler", "mean")


class _Table(HTMLParser):
    """The rows of the first HTML table: a list of cell texts per <tr>."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@pytest.fixture(scope="module")
def cells():
    return [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def method_table(cells) -> dict[str, dict[str, float]]:
    setup_output = "".join(_text(o.get("text", "")) for o in cells[0].get("outputs", []))
    if "model: tiny-ko-bert" not in setup_output:
        pytest.skip("the stored outputs of lesson 04 come from another checkpoint than tiny-ko-bert")
    cell = next(c for c in cells if TABLE_SOURCE in _text(c["source"]))
    html = next(_text(o["data"]["text/html"]) for o in cell["outputs"] if "text/html" in o.get("data", {}))
    parser = _Table()
    parser.feed(html)
    header, *body = [row for row in parser.rows if row]
    columns = [h for h in header if h]
    return {row[0]: dict(zip(columns, map(float, row[1:]))) for row in body}


def test_the_stored_table_has_every_method_and_metric(method_table):
    assert {"cls", "pooler", "mean", "tfidf", "sbert", "ensemble"} <= set(method_table)
    for row in method_table.values():
        for s in SETS:
            assert 0 <= row[f"{s}_top1"] <= row[f"{s}_mrr"] + 1e-3 and row[f"{s}_top1"] <= row[f"{s}_top5"] <= 1


@pytest.mark.parametrize("eval_set", SETS)
def test_tiny_ko_bert_raw_vectors_stay_below_sbert_and_tfidf(method_table, eval_set):
    col = f"{eval_set}_top1"
    best_raw = max(method_table[m][col] for m in RAW)
    assert best_raw < method_table["sbert"][col], (eval_set, best_raw, method_table["sbert"][col])
    assert best_raw < method_table["tfidf"][col], (eval_set, best_raw, method_table["tfidf"][col])
