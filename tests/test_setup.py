"""helpers.setup (the function of helpers.lesson): the opening call of every notebook."""
from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import helpers  # noqa: E402


def test_setup_prints_model_and_data_without_paths(capsys, csv_path, monkeypatch):
    monkeypatch.setenv("CHATBOT_DATA", str(csv_path))
    monkeypatch.setenv("BERT_MODEL", "tiny-ko-bert")
    info = helpers.setup("01")
    line = capsys.readouterr().out.strip()
    assert "model: tiny-ko-bert" in line and "11,823 rows" in line and "official" in line
    assert line.endswith(f"| seed 42 | {helpers.runtime.status_line()}")  # device, precision, threads
    assert not re.search(r"/(root|home|tmp|work)/", line)
    assert info.model == "tiny-ko-bert" and torch.get_num_threads() == info.threads
    a = np.random.rand(3)
    helpers.setup("01")
    capsys.readouterr()
    assert np.allclose(a, np.random.rand(3))  # seeds reset


def test_hangul_font_renders_without_missing_glyphs(tmp_path, recwarn):
    family = helpers.lesson.use_korean_font()
    assert family == "NanumGothic"
    fig, ax = plt.subplots()
    ax.set_title("오늘 하루 어떻게 보냈나요? -1")
    fig.savefig(tmp_path / "t.png")
    plt.close(fig)
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
