"""Hangul in the browser: is a Korean font installed, and does the page really draw Hangul glyphs?

A browser without a Korean font draws every Hangul syllable as the same empty box ("tofu"), while
the DOM still holds the right text, so a check that reads the DOM passes. ``assert_hangul_renders``
reads pixels instead: it draws two different syllables (and a code point that no font has, the
tofu reference) in the font the page uses, takes an element screenshot of each and asserts that the
two syllables have ink and differ from each other and from the tofu box. Without a Korean font the
two syllables are identical boxes and the assertion fails (tests/browser/test_hangul.py shows it).

Debian/Ubuntu: ``apt-get install fonts-nanum`` (or ``fonts-noto-cjk``); ``.ci/run`` installs
fonts-nanum when ``fc-list :lang=ko`` finds no font.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FONT_PACKAGE = "fonts-nanum"
TOFU = "\u0378"  # an unassigned code point: no font has it, every browser draws its missing-glyph box
SIZE_PX = 40


def korean_fonts() -> list[str]:
    """Font families that fontconfig (which Chromium uses on Linux) says cover Korean."""
    if shutil.which("fc-list") is None:
        return []
    result = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, timeout=60)
    return sorted({line.split(",")[0].strip() for line in result.stdout.splitlines() if line.strip()})


def missing_korean_font() -> str | None:
    """Why Hangul cannot render here (None if a Korean font is installed)."""
    if shutil.which("fc-list") is None:
        return "fc-list (fontconfig) is missing, so no font can be found: apt-get install -y fontconfig"
    if not korean_fonts():
        return (f"no Korean font (fc-list :lang=ko is empty), Hangul would render as empty boxes: "
                f"apt-get install -y {FONT_PACKAGE}")
    return None


def hangul_syllables(text: str, count: int = 2) -> list[str]:
    """The first ``count`` distinct Hangul syllables of ``text`` (U+AC00..U+D7A3)."""
    found: list[str] = []
    for ch in text:
        if "\uac00" <= ch <= "\ud7a3" and ch not in found:
            found.append(ch)
    return found[:count]


def _pixels(png: bytes):
    from PIL import Image  # Pillow: a dependency of matplotlib

    image = Image.open(io.BytesIO(png)).convert("L")
    return image.size, image.tobytes()


def _ink(png: bytes) -> int:
    """Number of dark pixels (the glyph's strokes) in a black-on-white element screenshot."""
    _, data = _pixels(png)
    return sum(1 for value in data if value < 128)


def assert_hangul_renders(page, font_family: str | None, text: str, shot: Path | None = None) -> dict:
    """Draw two different syllables of ``text`` in ``font_family`` (the page's font if None) and prove
    by their pixels that they are real glyphs, not the missing-glyph box. Saves the sample to ``shot``.
    Returns what was compared (for the test's log)."""
    syllables = hangul_syllables(text)
    assert len(syllables) == 2, f"need two different Hangul syllables in {text!r}"
    samples = syllables + [TOFU]
    page.evaluate(
        """([samples, family, size]) => {
            const box = document.createElement('div');
            box.id = 'hangul-proof';
            box.setAttribute('style', 'position:fixed;left:0;top:0;z-index:2147483647;background:#fff;'
                + 'color:#000;padding:8px;border:1px solid #888;');
            if (family) box.style.fontFamily = family;
            box.style.fontSize = size + 'px';
            for (const s of samples) {
                const span = document.createElement('span');
                span.textContent = s;
                span.setAttribute('style', 'display:inline-block;padding:4px;margin:0 6px;background:#fff;'
                    + 'color:#000;line-height:1.3;white-space:pre;');
                box.appendChild(span);
            }
            document.body.appendChild(box);
        }""", [samples, font_family, SIZE_PX])
    try:
        spans = page.locator("#hangul-proof span")
        pngs = [spans.nth(i).screenshot() for i in range(len(samples))]
        if shot is not None:
            page.locator("#hangul-proof").screenshot(path=str(shot))
        used = page.evaluate("() => getComputedStyle(document.querySelector('#hangul-proof')).fontFamily")
    finally:
        page.evaluate("() => document.querySelector('#hangul-proof')?.remove()")
    first, second, tofu = pngs
    where = f" (font-family {used!r}; sample: {shot})" if shot else f" (font-family {used!r})"
    assert _ink(first) > 0 and _ink(second) > 0, f"{syllables} drew no ink{where}"
    assert _pixels(first) != _pixels(second), (
        f"{syllables[0]!r} and {syllables[1]!r} render to identical pixels: the browser has no Korean font "
        f"and draws empty boxes{where}; apt-get install -y {FONT_PACKAGE}")
    for syllable, png in zip(syllables, (first, second)):
        assert _pixels(png) != _pixels(tofu), (
            f"{syllable!r} renders as the missing-glyph box{where}; apt-get install -y {FONT_PACKAGE}")
    return {"syllables": syllables, "font_family": used, "ink": [_ink(first), _ink(second)]}


REQUIRED = os.environ.get("BROWSER_CHECK", "").lower() == "required"  # .ci/run sets it when chromium is there


def check_or_skip(missing: str | None) -> None:
    """Skip a browser check that cannot run here (``missing`` says why), or fail it under
    ``BROWSER_CHECK=required``, where a skip would hide a broken setup."""
    if missing is None:
        return
    if REQUIRED:
        pytest.fail(f"BROWSER_CHECK=required but {missing}", pytrace=False)
    pytest.skip(missing)
