"""The one call that opens every notebook: :func:`setup` (``helpers.setup("01")``).

It fixes seeds and the thread count, silences library logs and progress bars (always for
transformers' load reports; all progress bars under CI), registers a Hangul-capable
matplotlib font (NanumGothic, shipped by the ``koreanize-matplotlib`` package) and prints one
line saying which model and data are in use and what the lesson runs on (device, precision and
threads, from :mod:`helpers.runtime`), without machine paths.

Used by every lesson, 01–10 (first code cell); the package hands :func:`setup` on as ``helpers.setup``.
The library's version lives here too (``helpers.__version__``), since this status line prints it.
"""
from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from .data import load_chatbot_data
from .models import display_name, resolve_model_name

__version__ = "0.1.0"
SEED = 42
THREADS = 2
FONT_FAMILY = "NanumGothic"


@dataclass(frozen=True)
class LessonInfo:
    """What :func:`setup` chose; ``model`` is what the notebook's parameters cell uses."""

    lesson: str
    model: str
    data_rows: int
    data_official: bool
    seed: int
    threads: int
    ci: bool


def running_in_ci() -> bool:
    """True under CI (``CI`` set to a true value) — then progress bars and warnings are off."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def seed_everything(seed: int = SEED, threads: int = THREADS) -> None:
    """Seed ``random``, NumPy, torch and every GPU (``transformers.set_seed``), and fix torch's thread
    count for the session (:func:`helpers.runtime.set_threads`; results depend on it)."""
    from transformers import set_seed

    from .runtime import set_threads

    set_seed(seed)
    set_threads(threads)


def quiet_libraries(ci: bool | None = None) -> None:
    """Turn off transformers' load reports and (under CI) every progress bar and warning."""
    ci = running_in_ci() if ci is None else ci
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for name in ("transformers", "huggingface_hub", "kiwipiepy", "matplotlib.font_manager"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if ci:
        os.environ["TQDM_DISABLE"] = "1"
        warnings.filterwarnings("ignore")


def font_path() -> Path:
    """Path of the bundled NanumGothic TTF (from ``koreanize-matplotlib``)."""
    import koreanize_matplotlib

    return Path(koreanize_matplotlib.__file__).parent / "fonts" / "NanumGothic.ttf"


def use_korean_font() -> str:
    """Register NanumGothic with matplotlib and make it the default font; return its family name."""
    import matplotlib
    from matplotlib import font_manager

    path = font_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"Hangul font not found at {path}. Fix: pip install koreanize-matplotlib==0.1.1"
        )
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = family
    matplotlib.rcParams["axes.unicode_minus"] = False  # NanumGothic has no U+2212 minus
    return family


def setup(lesson: str = "", model: str | None = None, *, seed: int = SEED, threads: int = THREADS,
          data_path=None) -> LessonInfo:
    """Open a lesson: seeds, threads, quiet logs, Hangul font, and one printed status line.

    ``model`` defaults to ``$BERT_MODEL`` or ``tiny-ko-bert``. The data is loaded (and
    downloaded once if needed) to report its size and whether it is the official file. The device
    and precision are :mod:`helpers.runtime`'s (an impossible ``$KO_BERT_DEVICE`` stops here, with the fix).
    """
    from .runtime import status_line

    ci = running_in_ci()
    quiet_libraries(ci)
    seed_everything(seed, threads)
    runtime = status_line()
    use_korean_font()
    name = resolve_model_name(model)
    df = load_chatbot_data(data_path)
    data = f"ChatbotData.csv ({len(df):,} rows, {'official sha256' if df.attrs['official'] else 'NOT the official file'})"
    print(f"helpers {__version__} | lesson {lesson or '-'} | model: {display_name(name)} | data: {data} "
          f"| seed {seed} | {runtime}")
    return LessonInfo(lesson=lesson, model=name, data_rows=len(df), data_official=bool(df.attrs["official"]),
                      seed=seed, threads=threads, ci=ci)
