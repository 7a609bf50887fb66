"""Lesson 04's chat widget, used the way a student uses it: JupyterLab in a real (headless) browser.

JupyterLab is started like ``make lab`` does (``jupyter lab notebooks/``, ``--allow-root`` as root)
plus ``--no-browser``, a free port and a random token. Headless Chromium (Debian's
``/usr/bin/chromium``, driven by Playwright; no browser download) opens
``04_bert_chatbot.ipynb``, runs it with Run > Run All Cells and waits for the kernel to be idle.
Then it types a question into the widget's text box, clicks the button and checks that the
answer appears in the widget's output and that it is the answer ``helpers.chatbot`` gives for
that question with the notebook's default method (computed here, in the test process, from the
same cache). A screenshot is saved to ``build/browser/chat_widget.png`` (path printed). The answer
must also be visible, not only in the DOM: two of its Hangul syllables, drawn in the output's font,
must be real glyphs and not the empty box of a browser without a Korean font (tests/browser/
hangul_check.py; the answer is saved to ``chat_widget_answer.png``, the sample to ``chat_widget_hangul.png``).

The notebook runs on ``BERT_MODEL`` (default ``tiny-ko-bert``, as in CI). Autosave is off in the
lab's settings (a test-only settings folder) and the notebook file is checked to be unchanged.
JupyterLab, its kernels and the browser are always shut down.

Skipped, with the reason, when ``/usr/bin/chromium``, the ``playwright`` package or a Korean font is missing
(``apt-get install -y chromium fonts-nanum``; ``pip install -e .[dev]``), unless ``BROWSER_CHECK=required``
(``.ci/run`` sets it when chromium is installed), which makes that a failure. Part of ``make test``;
run alone: ``make browser``.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from hangul_check import assert_hangul_renders, missing_korean_font

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "04_bert_chatbot.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
OUT_DIR = ROOT / "build" / "browser"
QUESTION = "오늘 너무 피곤해"
RUN_TIMEOUT = float(os.environ.get("CHAT_WIDGET_TIMEOUT", "2400"))  # seconds for Run All (cold cache: fine-tune + indexes)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]



def _missing() -> str | None:
    """Why the check cannot run here (None if it can)."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing: apt-get install -y chromium"
    if __import__("importlib").util.find_spec("playwright") is None:
        return "the playwright package is missing: pip install -e '.[dev]'"
    return missing_korean_font()


# Skipped where it cannot run, unless BROWSER_CHECK=required (.ci/run sets it when chromium is there):
# then a missing piece is a failure, not a silent skip.
REQUIRED = os.environ.get("BROWSER_CHECK", "").lower() == "required"
pytestmark = [pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=str(_missing()))]

# JupyterLab settings for the test's own (temporary) settings folder: never write the notebook
# back, and no news / update checks (no network).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """PIDs of all processes below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture()
def jupyter_lab(tmp_path, sigterm_cleans_up):
    """A JupyterLab serving notebooks/ like ``make lab``; yields (base URL, token). Always shut down."""
    port, token = _free_port(), secrets.token_hex(24)
    settings = tmp_path / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values), encoding="utf-8")
    argv = [str(Path(sys.executable).parent / "jupyter"), "lab", "notebooks/"]
    if os.geteuid() == 0:
        argv.append("--allow-root")  # as the Makefile's LAB_ROOT
    argv += ["--no-browser", f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.token={token}", f"--LabApp.user_settings_dir={settings}",
             f"--LabApp.workspaces_dir={tmp_path / 'lab-workspaces'}"]
    log_path = tmp_path / "jupyterlab.log"
    checkpoints_existed = (NOTEBOOK.parent / ".ipynb_checkpoints").exists()
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                _api(base, token, "/api/status")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 180 s:\n{log_path.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        yield base, token
    finally:
        # kernels first (they run in their own sessions), then the server, then anything left below it
        leftovers = set(_descendants(server.pid))
        try:
            for kernel in _api(base, token, "/api/kernels") or []:
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass
        leftovers |= set(_descendants(server.pid))
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)
        for pid in leftovers:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not checkpoints_existed:
            shutil.rmtree(NOTEBOOK.parent / ".ipynb_checkpoints", ignore_errors=True)


@pytest.fixture()
def browser_page(tmp_path):
    """A page of a fresh headless Chromium (own user-data-dir). Always closed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS,
            viewport={"width": 1400, "height": 1000}, locale="ko-KR")
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _notebook_errors(page) -> list[str]:
    """Texts of the error outputs (tracebacks) shown in the notebook."""
    return [t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "Traceback (most recent call last)" in t]


def _wait_for_kernel(page, base: str, token: str, timeout: float) -> None:
    """Wait until the notebook's kernel has started, is idle and the page is connected to it."""
    deadline = time.monotonic() + timeout
    toolbar = page.locator(".jp-NotebookPanel-toolbar").first
    while time.monotonic() < deadline:
        kernels = _api(base, token, "/api/kernels") or []
        status = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        if any(k.get("execution_state") == "idle" for k in kernels) and status == "idle" \
                and "No Kernel" not in toolbar.inner_text():
            return
        time.sleep(1)
    pytest.fail(f"the kernel of lesson 04 was not ready in {timeout:.0f} s")


def _wait_until_run(page, timeout: float) -> None:
    """Wait until no cell is queued or running and the kernel is idle (Run All stops at an error)."""
    deadline = time.monotonic() + timeout
    seen_busy = False
    while time.monotonic() < deadline:
        running = page.locator(".jp-InputArea-prompt", has_text="[*]").count()
        status = page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        seen_busy = seen_busy or running > 0 or status == "busy"
        if seen_busy and running == 0 and status == "idle":
            return
        time.sleep(2)
    errors = _notebook_errors(page)
    pytest.fail(f"lesson 04 did not finish running in {timeout:.0f} s (CHAT_WIDGET_TIMEOUT)"
                + (f"; error shown:\n{errors[0][-2000:]}" if errors else ""))


@pytest.fixture(autouse=True)
def _can_run():
    if _missing() is not None:  # only reached with BROWSER_CHECK=required
        pytest.fail(f"BROWSER_CHECK=required but {_missing()}", pytrace=False)


def test_chat_widget_answers_in_browser(jupyter_lab, browser_page, capsys):
    from helpers import chatbot
    from helpers.models import resolve_model_name

    base, token = jupyter_lab
    page = browser_page
    model = resolve_model_name()  # the lab (and its kernel) inherit this process's BERT_MODEL
    before = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shot = OUT_DIR / "chat_widget.png"
    start = time.perf_counter()
    try:
        page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=120_000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=120_000)
        _wait_for_kernel(page, base, token, timeout=180)
        opened = time.perf_counter()

        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        _wait_until_run(page, RUN_TIMEOUT)
        ran = time.perf_counter()

        text_box = page.locator(".widget-text input[type='text']").first
        button = page.locator("button.jupyter-button", has_text="묻기").first
        if not text_box.count() or not button.count():
            errors = _notebook_errors(page)
            pytest.fail("the chat widget (Text + 묻기 button) is not shown after running lesson 04"
                        + (f"; the notebook shows an error:\n{errors[0][-2000:]}" if errors else ""))
        text_box.scroll_into_view_if_needed()
        text_box.fill("")
        text_box.press_sequentially(QUESTION)  # typed like a user; the click below moves the focus away
        button.click()
        widget = text_box.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
        output = widget.locator(".widget-output")
        output.get_by_text("챗봇:").first.wait_for(timeout=60_000)
        shown = output.inner_text()
        answered = time.perf_counter()
        widget.scroll_into_view_if_needed()
        page.screenshot(path=str(shot))
        output.screenshot(path=str(OUT_DIR / "chat_widget_answer.png"))
        answer_font = output.evaluate("el => getComputedStyle(el.querySelector('pre') || el).fontFamily")
        hangul = assert_hangul_renders(page, answer_font, shown, OUT_DIR / "chat_widget_hangul.png")
    except BaseException:
        try:
            page.screenshot(path=str(OUT_DIR / "chat_widget_failure.png"))
        except Exception:
            pass
        raise

    expected = chatbot.load_or_build_index(chatbot.default_method(model), model).answer(QUESTION)
    with capsys.disabled():
        print(f"\n[browser] lesson 04 on {model}: opened in {opened - start:.1f} s, Run All {ran - opened:.1f} s, "
              f"answer shown {answered - ran:.1f} s after typing | screenshot: {shot}")
        print(f"[browser] widget output: {shown.strip()!r}")
        print(f"[browser] Hangul {hangul['syllables']} drawn as glyphs in {hangul['font_family']!r} (ink {hangul['ink']})")
    assert f"챗봇: {expected.answer}" in shown, (
        f"the widget shows {shown!r} for {QUESTION!r}; helpers.chatbot ({chatbot.default_method(model)}) "
        f"answers {expected.answer!r} (matched question {expected.question!r})")
    assert expected.question in shown
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == before, \
        f"{NOTEBOOK.name} changed on disk during the test (autosave is off, so something else wrote it)"
