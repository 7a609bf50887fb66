"""Lesson 09's stored outputs: the figure its prose used to assert inside the lesson.

On the default checkpoint the lesson used to check, inside the notebook, that tiny-ko-bert's own
vocabulary (built from a much larger corpus) leaves fewer [UNK] in the gibberish sentence than the
lesson's "WordPiece 8k"; the lesson now prints that comparison (``helpers.verdict.versus``) and the
regression check lives here. Reads the stored notebook (no execution).
"""
from __future__ import annotations

import re
from pathlib import Path

import stored_outputs

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_korean_tokenization.ipynb"


def _output(marker: str) -> str:
    return stored_outputs.cell_text(NOTEBOOK, marker)


def test_stored_run_is_the_default_checkpoint():
    assert "model: tiny-ko-bert" in _output('helpers.setup("09")')


def test_model_vocabulary_leaves_fewer_unk_in_the_gibberish_sentence():
    text = _output("own_table = tokenization.comparison_table")
    m = re.search(r"외계어 문장의 \[UNK\] 비율: tiny-ko-bert (\d\.\d{3}), WordPiece 8k (\d\.\d{3}) → (.*)$", text, re.M)
    assert m, text
    assert float(m.group(1)) < float(m.group(2))
    assert "더 나은 쪽: tiny-ko-bert" in m.group(3)
