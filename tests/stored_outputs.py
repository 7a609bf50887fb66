"""Reading a stored notebook's outputs, for the tests that check a lesson's printed figures
(``tests/test_lesson_figures_*.py``): the regression checks that do not belong in the lesson."""
from __future__ import annotations

import json
from pathlib import Path


def code_cells(notebook: Path) -> list[dict]:
    """The notebook's code cells, in order."""
    return [c for c in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]


def code_cell(notebook: Path, marker: str) -> dict:
    """The one code cell whose source contains ``marker`` (fails if none or several do)."""
    found = [c for c in code_cells(notebook) if marker in "".join(c["source"])]
    assert len(found) == 1, f"{Path(notebook).name}: {len(found)} code cells contain {marker!r}"
    return found[0]


def cell_text(notebook: Path, marker: str) -> str:
    """All stored text output (stream text or ``text/plain``) of the cell :func:`code_cell` finds."""
    parts = []
    for out in code_cell(notebook, marker).get("outputs", []):
        text = out.get("text") or out.get("data", {}).get("text/plain", "")
        parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)
