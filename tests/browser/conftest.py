"""Headless Chromium for the book and Hangul checks (the chat widget test keeps its own fixture)."""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture()
def open_chromium(tmp_path, sigterm_cleans_up):
    """``open_chromium(env=None)`` -> a page of a fresh headless Chromium (own profile; ``env``: the
    browser's environment, default this process's). Pages that ask for anything but file:// or
    127.0.0.1 get an error instead (offline, as in CI); ``page.outside_requests`` lists them.
    Every browser is closed at the end of the test."""
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        playwright = stack.enter_context(sync_playwright())
        count = 0

        def launch(env: dict | None = None):
            nonlocal count
            count += 1
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / f"chromium-profile-{count}"), executable_path=str(CHROMIUM), headless=True,
                args=BROWSER_ARGS, viewport={"width": 1400, "height": 1000}, locale="ko-KR", env=env)
            stack.callback(context.close)
            page = context.pages[0] if context.pages else context.new_page()
            page.outside_requests = []

            def offline(route):
                url = route.request.url
                if url.startswith(("file:", "data:", "http://127.0.0.1", "about:")):
                    route.continue_()
                else:
                    page.outside_requests.append(url)
                    route.abort()

            context.route("**/*", offline)
            return page

        yield launch
