"""Build the lessons' static site (``make book``) from the notebooks' STORED outputs into build/book/.

Nothing is executed and nothing is downloaded: Sphinx + myst-nb (the engine of Jupyter Book 1.x,
``nb_execution_mode = "off"``) with sphinx-book-theme, all from the ``book`` extra of
pyproject.toml (part of ``dev``). The sources are staged in build/book-work/src/:

- every ``notebooks/[0-9]*.ipynb`` (found by glob, so a new or renamed lesson needs no edit here),
  copied only when it changed, so that Sphinx's incremental build re-reads only changed lessons;
- ``index.md``: book/index.md with its ``<!-- lessons ... -->`` line replaced by a table of the
  lessons (number, title from the notebook's first ``# `` heading, link) and the hidden toctree
  that makes the sidebar. The landing page therefore always lists exactly the notebooks present.

Run: ``python book/build.py [--out DIR]`` (the Makefile's ``book`` target). Open
build/book/index.html in a browser.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "build" / "book"
WORK = ROOT / "build" / "book-work"
MARKER = re.compile(r"^<!-- lessons\b.*-->\s*$", re.M)


@dataclass(frozen=True)
class Lesson:
    number: str  # "02"
    title: str   # the notebook's first "# " heading, without its "02 — " prefix
    path: Path

    @property
    def page(self) -> str:
        """The page's name in the site (build/book/<page>.html)."""
        return self.path.stem


def notebook_title(path: Path) -> str:
    """The first ``# `` heading of the notebook's first markdown cell (the file name if it has none)."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            for line in source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
            break
    return path.stem


def lessons(notebooks: Path = NOTEBOOKS) -> list[Lesson]:
    """The numbered lessons in ``notebooks`` (``NN_*.ipynb``), in file-name order."""
    found = []
    for path in sorted(notebooks.glob("[0-9]*.ipynb")):
        number = re.match(r"\d+", path.name).group(0)
        title = re.sub(rf"^{number}\s*[—–:.-]\s*", "", notebook_title(path))
        found.append(Lesson(number, title, path))
    return found


def landing_page(template: str, found: list[Lesson]) -> str:
    """book/index.md with the marker line replaced by the lessons table and the hidden toctree."""
    if not MARKER.search(template):
        raise ValueError("book/index.md has no '<!-- lessons ... -->' line to replace with the lessons table")
    rows = ["| # | 수업 (lesson) | 노트북 (notebook) |", "| --- | --- | --- |"]
    for lesson in found:
        title = lesson.title.replace("|", "\\|")
        rows.append(f"| {lesson.number} | [{title}]({lesson.path.name}) | `{lesson.path.name}` |")
    toctree = ["```{toctree}", ":hidden:", ":maxdepth: 1", ""] + [lesson.page for lesson in found] + ["```"]
    block = "\n".join(rows) + "\n\n" + "\n".join(toctree) + "\n"
    return MARKER.sub(lambda _: block, template, count=1)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def stage(src: Path, notebooks: Path = NOTEBOOKS) -> list[Lesson]:
    """Lay out the Sphinx sources in ``src``: the landing page and a copy of every lesson."""
    src.mkdir(parents=True, exist_ok=True)
    found = lessons(notebooks)
    if not found:
        raise SystemExit(f"no lessons (NN_*.ipynb) in {notebooks}")
    wanted = {lesson.path.name for lesson in found}
    for old in src.glob("*.ipynb"):  # a renamed or removed lesson leaves the site too
        if old.name not in wanted:
            old.unlink()
    for lesson in found:
        target = src / lesson.path.name
        if not target.is_file() or not filecmp.cmp(lesson.path, target, shallow=False):
            shutil.copy2(lesson.path, target)
    _write_if_changed(src / "index.md", landing_page((BOOK / "index.md").read_text(encoding="utf-8"), found))
    return found


def build(out: Path = OUT, work: Path = WORK, quiet: bool = True) -> Path:
    """Stage the sources and run Sphinx (incremental: unchanged lessons are not re-read). Returns ``out``."""
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    found = stage(work / "src")
    argv = ["-b", "html", "-c", str(BOOK), "-d", str(work / "doctrees"), str(work / "src"), str(out)]
    code = build_main((["-q"] if quiet else []) + argv)
    if code != 0:
        raise SystemExit(f"sphinx-build failed with exit code {code}")
    print(f"book: {len(found)} lessons -> {out / 'index.html'} in {time.perf_counter() - start:.1f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT.relative_to(ROOT)})")
    parser.add_argument("--verbose", action="store_true", help="Sphinx's progress output")
    args = parser.parse_args(argv)
    build(args.out.resolve(), quiet=not args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
