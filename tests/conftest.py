"""Shared fixtures: the real data file, a private cache, a local HTTP server, the reference model."""
from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = ROOT.parent / "shared" / "data" / "ChatbotData.csv"


def real_csv() -> Path:
    """The local copy of ChatbotData.csv that tests read: ``$CHATBOT_DATA``, else
    ``$KO_BERT_DATA/ChatbotData.csv``, else ``../shared/data`` (the loader's own order)."""
    if os.environ.get("CHATBOT_DATA"):
        path = Path(os.environ["CHATBOT_DATA"])
    elif os.environ.get("KO_BERT_DATA"):
        path = Path(os.environ["KO_BERT_DATA"]) / "ChatbotData.csv"
    else:
        path = SHARED_CSV
    if not path.is_file():
        pytest.skip(f"no local ChatbotData.csv at {path}: set KO_BERT_DATA=/path/to/data "
                    "(a folder laid out like shared/data) or CHATBOT_DATA=/path/to/ChatbotData.csv")
    return path


@pytest.fixture(scope="session")
def csv_path() -> Path:
    return real_csv()


@pytest.fixture(autouse=True)
def normal_plans(monkeypatch):
    """Unit tests see the normal training plans: FAST mode (KO_BERT_FAST, helpers.runtime.plans) is for
    the smoke test's notebook kernels, which get their own environment."""
    monkeypatch.delenv("KO_BERT_FAST", raising=False)


@pytest.fixture()
def private_cache(tmp_path, monkeypatch) -> Path:
    """An empty cache root for the test (KO_BERT_CACHE)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("KO_BERT_CACHE", str(cache))
    return cache


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture()
def http_root(tmp_path):
    """Serve ``tmp_path/www`` over real HTTP on 127.0.0.1; yields (directory, base_url)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The shipped tiny-ko-bert (models/tiny-ko-bert), checked against its checksums."""
    from helpers.reference import ensure_reference_model

    return ensure_reference_model()


def shared_data() -> Path:
    """The folder of local data copies (KO_BERT_DATA, else ../shared/data); skip if absent."""
    path = Path(os.environ.get("KO_BERT_DATA") or ROOT.parent / "shared" / "data")
    if not (path / "nsmc" / "raw").is_dir():
        pytest.skip("no local data copies: set KO_BERT_DATA=/path/to/data (laid out like shared/data)")
    return path


@pytest.fixture(scope="session")
def data_root(csv_path) -> Path:
    root = shared_data()
    os.environ.setdefault("KO_BERT_DATA", str(root))
    os.environ.setdefault("CHATBOT_DATA", str(csv_path))
    return root


@pytest.fixture(scope="session")
def tiny_work(tmp_path_factory, data_root) -> Path:
    """A complete seconds-long pretraining build (tiny recipe, same code path as tiny-ko-bert)."""
    from helpers.pretrain import PretrainConfig, build

    work = tmp_path_factory.mktemp("pretrain") / "work"
    build(work, PretrainConfig.tiny(), log=lambda *a: None)
    return work


@pytest.fixture(scope="session")
def fast_build(tiny_work) -> Path:
    """A small saved BERT checkpoint (the tiny build's final folder) for the helpers' unit tests."""
    return tiny_work / "final"


@pytest.fixture(scope="module")
def sigterm_cleans_up():
    """Turn SIGTERM into KeyboardInterrupt while a module's tests run, so that ``finally`` blocks still
    shut down kernels, JupyterLab and the browser when the run is terminated (smoke and browser tests)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def benchmark_module():
    """Import a script of ``benchmarks/`` by name (``benchmark_module("sbert_bench")``), for tests of its pieces."""
    import importlib
    import sys

    def load(name: str):
        sys.path.insert(0, str(ROOT / "benchmarks"))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.pop(0)

    return load
