"""The stored notebooks are what a clean CI run leaves, and nbval_ci leaves out only what it should.

nbval (``make notebooks``) re-executes every notebook and compares outputs with the stored
ones; these tests check the stored side: each notebook was run top to bottom in one kernel
(execution counts 1..n), holds no error, no stderr (progress bars and warnings are off under
CI, see ``helpers.setup``), no progress bar and no machine path, opens with
``helpers.setup("NN")`` for its own number, and every ``# NBVAL_IGNORE_OUTPUT`` cell is backed
by an assertion. Any number of notebooks (a new lesson is picked up by its file name).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import nbval_ci

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MACHINE_PATH = re.compile(r"/(root|home|tmp|work|Users)/")


def _code_cells(path: Path) -> list[tuple[int, dict]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_come_from_a_clean_ci_run(notebook):
    cells = _code_cells(notebook)
    counts = [c.get("execution_count") for _, c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{notebook.name}: execution counts {counts}: re-run it top to bottom in a fresh kernel "
        f"(CI=true jupyter nbconvert --to notebook --execute --inplace {notebook.relative_to(ROOT)})")
    problems = []
    for index, cell in cells:
        source = _text(cell["source"])
        if "NBVAL_IGNORE_OUTPUT" in source and "assert" not in source:
            problems.append(f"cell {index}: # NBVAL_IGNORE_OUTPUT without an assertion that backs it")
        for output in cell.get("outputs", []):
            kind = nbval_ci.is_volatile(output)
            if output["output_type"] == "error":
                problems.append(f"cell {index}: stored error {output.get('ename')}: {output.get('evalue', '')[:100]}")
            elif kind:
                text = _text(output.get("text", "")) or _text(output.get("data", {}).get("text/plain", ""))
                problems.append(f"cell {index}: stored {kind} output {text[:100]!r}")
            if MACHINE_PATH.search(json.dumps({k: v for k, v in output.items() if k != "data"} | {
                    "data": {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}},
                    ensure_ascii=False)):
                problems.append(f"cell {index}: a machine path in the output")
    assert not problems, f"{notebook.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_opens_with_setup_of_its_own_number(notebook):
    number = notebook.name.split("_")[0]
    first = _text(_code_cells(notebook)[0][1]["source"])
    assert re.search(rf"""helpers\.setup\(\s*["']{number}["']""", first), (
        f"{notebook.name}: its first code cell should call helpers.setup({number!r}); it is:\n{first}")


def _stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


def _widget(text):
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": text, nbval_ci.WIDGET: {"model_id": "x", "version_major": 2, "version_minor": 0}}}


def test_nbval_ci_leaves_out_only_stderr_and_progress_bars():
    bars = ["Batches:  40%|████      | 4/10 [00:01<00:02,  3.10it/s]", "  0%|          | 0/600 [00:00<?, ?it/s]",
            "12it [00:01,  9.80it/s]"]
    for bar in bars:
        assert nbval_ci.is_volatile(_widget(bar)) == "progress bar", bar
    assert nbval_ci.is_volatile(_stream("stderr", "UserWarning: something\n")) == "stderr"
    kept = [_stream("stdout", "100% of the rows | 3/4 [ok]\n"),                       # stdout is always compared
            _widget("VBox(children=(Text(value=''), Button(description='묻기'), Output()))"),  # the chat widget
            {"output_type": "execute_result", "execution_count": 1, "metadata": {},
             "data": {"text/plain": "  0%|          | 0/600 [00:00<?, ?it/s]"}}]   # text that is not a widget
    for output in kept:
        assert nbval_ci.is_volatile(output) is None, output
    counts = {}
    assert nbval_ci.drop_volatile(kept + [_stream("stderr", "x"), _widget(bars[0])], counts) == kept
    assert counts == {"stderr": 1, "progress bar": 1}


def test_nbval_ci_patches_nbval_comparison(pytestconfig):
    """Loaded into a pytest run, the plugin wraps nbval's comparison and drops only the volatile outputs."""
    from nbval.plugin import IPyNbCell

    seen = {}
    original = IPyNbCell.compare_outputs
    try:
        IPyNbCell.compare_outputs = lambda self, test, ref, skip_compare=None: seen.update(test=test, ref=ref) or True
        nbval_ci.pytest_configure(pytestconfig)
        cell = type("Cell", (), {"nodeid": "lesson.ipynb::Cell 0"})()
        stdout, stderr = _stream("stdout", "same\n"), _stream("stderr", "a warning\n")
        assert IPyNbCell.compare_outputs(cell, [stdout, stderr], [stdout]) is True
        assert seen == {"test": [stdout], "ref": [stdout]}
        assert ("lesson.ipynb::Cell 0", "stderr", 1) in nbval_ci._LEFT_OUT
    finally:
        IPyNbCell.compare_outputs = original
