"""Shared fixtures: the real data file, a private cache, a local HTTP server, the reference model."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = ROOT.parent / "shared" / "data" / "ChatbotData.csv"


def real_csv() -> Path:
    """The local copy of ChatbotData.csv that tests read (CHATBOT_DATA, else ../shared/data)."""
    path = Path(os.environ.get("CHATBOT_DATA") or SHARED_CSV)
    if not path.is_file():
        pytest.skip("no local ChatbotData.csv: set CHATBOT_DATA=/path/to/ChatbotData.csv")
    return path


@pytest.fixture(scope="session")
def csv_path() -> Path:
    return real_csv()


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
def reference_dir(csv_path) -> Path:
    """The full tiny-ko-bert build (built once into the run's cache, reused by the notebooks)."""
    os.environ.setdefault("CHATBOT_DATA", str(csv_path))
    from helpers.reference import ensure_reference_model

    return ensure_reference_model(log=lambda *a: None)


@pytest.fixture(scope="session")
def fast_build(tmp_path_factory, csv_path) -> Path:
    """A seconds-long reference build (same code path, tiny config) in a temporary directory."""
    from helpers.reference import ReferenceConfig, build_reference_model

    out = tmp_path_factory.mktemp("fast") / "model"
    build_reference_model(out, ReferenceConfig.fast(), data_path=csv_path, log=lambda *a: None)
    return out
