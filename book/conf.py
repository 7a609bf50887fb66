"""Sphinx configuration of the lessons' static site (``make book``; sources staged by book/build.py).

Sphinx + myst-nb (the engine of Jupyter Book 1.x) with sphinx-book-theme. Notebooks are rendered
from their STORED outputs: nothing is executed. Nothing is downloaded, at build time or by the
pages: no MathJax (the lessons have no math) and no ipywidgets JavaScript from a CDN.
"""
project = "한국어 BERT 실습"
author = "ko-bert-lessons"
copyright = "ko-bert-lessons (MIT)"
language = "ko"  # <html lang="ko">: the browser picks a Korean font for Hangul

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Stored outputs only: the site shows exactly what the notebooks in git show.
nb_execution_mode = "off"
nb_merge_streams = True
# The chat widget (lesson 04) needs a kernel; a static page shows its stored text instead of
# loading require.js and the widget manager from a CDN.
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]

html_theme = "sphinx_book_theme"
html_title = "한국어 BERT 실습"
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "launch_buttons": {},
    "footer_content_items": ["copyright"],
}
