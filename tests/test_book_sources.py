"""book/build.py's sources for ``make book``: the landing page lists exactly the notebooks present.

No Sphinx needed (the site itself is built and opened in Chromium by tests/browser/test_book.py).
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _notebook(path: Path, first_markdown: str) -> None:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": first_markdown.splitlines(keepends=True)},
             {"cell_type": "code", "metadata": {}, "source": "1 + 1", "outputs": [], "execution_count": None}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")


def test_landing_page_lists_every_notebook_in_the_tree(builder):
    notebooks = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    found = builder.lessons()
    assert [lesson.path for lesson in found] == notebooks
    page = builder.landing_page((ROOT / "book" / "index.md").read_text(encoding="utf-8"), found)
    for lesson in found:
        assert f"]({lesson.path.name})" in page and f"\n{lesson.page}\n" in page  # table row and toctree entry
        assert lesson.title and not lesson.title.startswith(lesson.number), lesson.title
    assert "<!-- lessons" not in page


def test_titles_numbers_and_a_renamed_lesson(builder, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "01_a.ipynb", "# 01 — 첫 수업: `add_tokens` | 파이프\n\n본문")
    _notebook(notebooks / "02_b.ipynb", "제목 없는 수업")
    (notebooks / "README.md").write_text("not a lesson", encoding="utf-8")
    found = builder.lessons(notebooks)
    assert [(lesson.number, lesson.title) for lesson in found] == [("01", "첫 수업: `add_tokens` | 파이프"), ("02", "02_b")]
    page = builder.landing_page("# 제목\n\n<!-- lessons -->\n\n끝\n", found)
    assert "| 01 | [첫 수업: `add_tokens` \\| 파이프](01_a.ipynb) | `01_a.ipynb` |" in page

    src = tmp_path / "src"
    builder.stage(src, notebooks)
    (notebooks / "02_b.ipynb").rename(notebooks / "03_b.ipynb")  # as when a lesson is renumbered
    builder.stage(src, notebooks)
    assert sorted(p.name for p in src.glob("*.ipynb")) == ["01_a.ipynb", "03_b.ipynb"]
    assert "03_b.ipynb" in (src / "index.md").read_text(encoding="utf-8")


def test_index_without_marker_is_an_error(builder):
    with pytest.raises(ValueError, match="lessons"):
        builder.landing_page("# 제목\n", [])
