"""helpers.plots: similarity heatmap, top-k bars, loss curve; Hangul must render with the bundled font."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers import plots  # noqa: E402
from helpers.lesson import use_korean_font  # noqa: E402

SENTENCES = ["오늘 하루 어떻게 보냈나요?", "오늘은 어떤 하루를 보내셨나요?", "이순신은 조선 중기의 무신이다.",
             "깟뻬뜨랑 리뿔이 뜨럽거 므리커럭이 케쇽 냐왜쇼 우뤼갸 쳥쇼섀료다혀뚜여"]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _render_without_missing_glyphs(fig):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    return missing


def test_wrap_label():
    assert plots.wrap_label("짧음") == "짧음"
    wrapped = plots.wrap_label(SENTENCES[3], width=10, max_lines=2)
    lines = wrapped.split("\n")
    assert len(lines) == 2 and all(len(line) <= 10 for line in lines) and lines[-1].endswith("…")
    with pytest.raises(ValueError):
        plots.wrap_label("x", width=1)


def test_plot_similarity_labels_and_annotations():
    use_korean_font()
    m = np.array([[1, 0.9, 0.2, 0.5], [0.9, 1, 0.3, 0.4], [0.2, 0.3, 1, 0.1], [0.5, 0.4, 0.1, 1.0]])
    ax = plots.plot_similarity(SENTENCES, m, title="제목", fmt=".2f")
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [plots.wrap_label(s, 14) for s in SENTENCES]
    annotations = [t.get_text() for t in ax.texts]
    assert annotations[:2] == ["1.00", "0.90"] and len(annotations) == 16
    assert ax.get_title() == "제목"
    assert _render_without_missing_glyphs(ax.figure) == []


def test_plot_similarity_accepts_torch_and_checks_shapes():
    import torch

    ax = plots.plot_similarity(["가", "나"], torch.eye(2))
    assert len(ax.texts) == 4
    with pytest.raises(ValueError, match="square"):
        plots.plot_similarity(["가", "나"], np.ones((2, 3)))
    with pytest.raises(ValueError, match="labels"):
        plots.plot_similarity(["가"], np.eye(2))


def test_plot_top_k_orders_bars():
    use_korean_font()
    table = pd.DataFrame({"token": ["영화", "밥", "##를"], "probability": [0.5, 0.3, 0.1]})
    ax = plots.plot_top_k(table, title="같이 [MASK] 보러 갈래?")
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [0.1, 0.3, 0.5]  # drawn bottom-up: highest on top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["##를", "밥", "영화"]
    assert _render_without_missing_glyphs(ax.figure) == []
    with pytest.raises(ValueError, match="columns"):
        plots.plot_top_k(pd.DataFrame({"a": [1]}))


def test_plot_loss_draws_raw_and_smoothed():
    losses = list(np.linspace(8, 4, 50))
    ax = plots.plot_loss(losses, window=5)
    lines = ax.get_lines()
    assert len(lines) == 2
    assert np.allclose(lines[0].get_ydata(), losses)
    assert lines[1].get_ydata()[-1] == pytest.approx(np.mean(losses[-5:]))
    with pytest.raises(ValueError, match="No losses"):
        plots.plot_loss([])
