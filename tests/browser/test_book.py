"""The lessons' static site (``make book``) in a real browser: landing page, lesson 02's heatmaps, Hangul.

The test builds the book first, exactly as ``make book`` does (book/build.py into build/book/;
incremental, a few seconds), so it always shows the notebooks in the tree. Headless Chromium
(Debian's ``/usr/bin/chromium``, driven by Playwright) opens the pages from disk with every
outside request refused (the site must need no network). Checked:

- the landing page links every ``notebooks/NN_*.ipynb`` under its title, and each link opens;
- lesson 02's page shows every figure stored in the notebook (same count, each ``<img>`` loaded
  with the stored PNG's width and height); the heatmap is scrolled into view and screenshotted to
  ``build/browser/book_02_heatmap.png``;
- Hangul renders: two syllables of the page's title drawn in the page's font are real glyphs
  (tests/browser/hangul_check.py), sample in ``build/browser/book_02_hangul.png``.

Skipped, with the reason, when chromium, playwright, the book tools (the ``book`` extra) or a
Korean font are missing, unless ``BROWSER_CHECK=required`` (``.ci/run``), which makes that a failure.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
import time
from pathlib import Path

import pytest

from hangul_check import assert_hangul_renders, check_or_skip, missing_korean_font

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
OUT_DIR = ROOT / "build" / "browser"
LESSON = "02"


def _missing() -> str | None:
    """Why the check cannot run here (None if it can)."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    for module, extra in (("playwright", "dev"), ("sphinx", "book"), ("myst_nb", "book"), ("sphinx_book_theme", "book")):
        if importlib.util.find_spec(module) is None:
            return f"the {module} package is missing: pip install -e '.[{extra}]'"
    return missing_korean_font()


@pytest.fixture(autouse=True)
def _can_run():
    check_or_skip(_missing())


def _book_module():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def book():
    """Build the book as ``make book`` does; returns (build module, output folder)."""
    if _missing() is not None:  # only reached with BROWSER_CHECK=required (module fixtures come first)
        pytest.fail(f"BROWSER_CHECK=required but {_missing()}", pytrace=False)
    builder = _book_module()
    start = time.perf_counter()
    out = builder.build()
    print(f"\n[book] built in {time.perf_counter() - start:.1f} s: {out / 'index.html'}")
    return builder, out


def _stored_figures(notebook: Path) -> list[tuple[int, int]]:
    """(width, height) of every PNG stored in the notebook's outputs."""
    from PIL import Image

    sizes = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                png = "".join(png) if isinstance(png, list) else png
                sizes.append(Image.open(io.BytesIO(base64.b64decode(png))).size)
    return sizes


def test_landing_page_lists_every_lesson(book, open_chromium):
    builder, out = book
    page = open_chromium()
    lessons = builder.lessons()
    assert lessons, "no notebooks/NN_*.ipynb"
    page.goto((out / "index.html").as_uri())
    table = page.locator("article table").first
    for lesson in lessons:
        link = table.locator(f"a[href='{lesson.page}.html']")
        assert link.count() == 1, f"the landing page does not link lesson {lesson.path.name}"
        assert (out / f"{lesson.page}.html").is_file(), f"no page for {lesson.path.name}"
    assert table.locator("tbody tr").count() == len(lessons), "the lessons table lists other rows than notebooks/"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT_DIR / "book_index.png"), full_page=True)
    table.locator(f"a[href='{lessons[0].page}.html']").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"{lessons[0].page}.html")
    assert page.outside_requests == [], f"the book asked for outside resources: {page.outside_requests[:5]}"


def test_lesson_02_heatmaps_and_hangul_render(book, open_chromium, capsys):
    builder, out = book
    page = open_chromium()
    matches = [lesson for lesson in builder.lessons() if lesson.number == LESSON]
    assert len(matches) == 1, f"expected one notebooks/{LESSON}_*.ipynb"
    lesson = matches[0]
    stored = _stored_figures(lesson.path)
    assert stored, f"{lesson.path.name} has no stored figure"
    page.goto((out / f"{lesson.page}.html").as_uri())
    page.wait_for_load_state("load")

    figures = page.locator("article .cell_output img")
    assert figures.count() == len(stored), (
        f"{lesson.page}.html shows {figures.count()} figures; {lesson.path.name} stores {len(stored)}")
    shown = []
    for i in range(figures.count()):
        img = figures.nth(i)
        img.scroll_into_view_if_needed()
        loaded = img.evaluate("el => el.complete && el.naturalWidth > 0 ? [el.naturalWidth, el.naturalHeight] : null")
        assert loaded, f"figure {i + 1} ({img.get_attribute('src')}) did not load"
        shown.append(tuple(loaded))
    assert sorted(shown) == sorted(stored), f"figure sizes in the page {shown} != stored {stored}"

    # the heatmap: the first figure drawn by plots.plot_similarity (else the first figure)
    heatmap_cell = page.locator("article div.cell", has_text="plot_similarity").locator(".cell_output img")
    heatmap = heatmap_cell.first if heatmap_cell.count() else figures.first
    heatmap.scroll_into_view_if_needed()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shot = OUT_DIR / f"book_{LESSON}_heatmap.png"
    page.screenshot(path=str(shot))

    title = page.locator("article h1").first.inner_text()
    body_font = page.locator("article p").first.evaluate("el => getComputedStyle(el).fontFamily")
    proof = assert_hangul_renders(page, body_font, title, OUT_DIR / f"book_{LESSON}_hangul.png")
    assert page.outside_requests == [], f"the book asked for outside resources: {page.outside_requests[:5]}"
    with capsys.disabled():
        print(f"\n[book] {lesson.page}.html: {len(shown)} figures loaded {shown} | screenshot: {shot}")
        print(f"[book] Hangul {proof['syllables']} drawn as glyphs in {proof['font_family']!r} (ink {proof['ink']})")
