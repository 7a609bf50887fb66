"""The Hangul check itself: it passes with the machine's Korean font and FAILS without one.

Chromium is started twice on the same small Korean page: once as it is, once with fontconfig limited
to DejaVu (a Latin font, as on a machine without fonts-nanum). The first must draw real glyphs;
the second must be caught drawing the same empty box for two different syllables, so a green
Hangul check in the other browser tests means the pixels really are Hangul. A few seconds.
Skipped like the other browser tests (chromium, playwright or a Korean font missing).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from hangul_check import assert_hangul_renders, check_or_skip, missing_korean_font

CHROMIUM = Path("/usr/bin/chromium")
LATIN_ONLY = Path("/usr/share/fonts/truetype/dejavu")
PAGE = "<html lang='ko'><body><p style='font-size:20px'>챗봇: 푹 쉬세요.</p></body></html>"


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return missing_korean_font()


@pytest.fixture(autouse=True)
def _can_run():
    check_or_skip(_missing())


def test_hangul_check_tells_glyphs_from_boxes(open_chromium, tmp_path):
    page = open_chromium()
    page.set_content(PAGE)
    assert_hangul_renders(page, None, page.inner_text("p"), tmp_path / "with_font.png")

    conf = tmp_path / "fonts.conf"  # fontconfig that sees DejaVu only: no font covers Hangul
    conf.write_text(f"<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
                    f"<dir>{LATIN_ONLY}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>",
                    encoding="utf-8")
    bare = open_chromium(env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    bare.set_content(PAGE)
    with pytest.raises(AssertionError, match="identical pixels|no ink|missing-glyph box"):
        assert_hangul_renders(bare, None, bare.inner_text("p"), tmp_path / "without_font.png")
