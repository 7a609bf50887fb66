"""pytest plugin for the notebook run of ``make test`` (loaded with ``-p nbval_ci``).

nbval compares every output of a re-executed cell with the stored one, stderr included: a
stream the stored cell does not have fails the cell ("Unexpected output fields ... stderr").
What a lesson writes to stderr depends on the machine and the moment, not on the lesson:
without ``CI``, :func:`helpers.setup` leaves tqdm bars (text on stderr, or a widget in a
notebook kernel) and warnings on, as they should be for someone working through a lesson;
first-use work (a data download on a cold cache) logs to stderr. The stored outputs come from
``CI=true`` runs with warm data and hold none of it.

So this plugin leaves out of nbval's comparison, on both sides, with or without ``CI``:

- stderr streams;
- tqdm's notebook progress bars (a display of a widget whose text form is a tqdm bar).

stdout, results and every other display are compared as always: what a lesson *prints* must
not depend on the environment or on a warm cache. What was left out is listed at the end of
the run (notebook and cell), so a new warning is seen in the log. That stored notebooks hold no
stderr, no error and no progress bar is checked by ``tests/test_notebooks_stored.py``.
"""
from __future__ import annotations

import re

# tqdm's bar text: "desc:  40%|████      | 4/10 [00:01<00:02, 3.1it/s]" or, without a total, "12it [00:01, 9.8it/s]"
TQDM_BAR = re.compile(r"\d{1,3}%\|.*\|\s*\S+\s*\[|\d+(?:\.\d+)?[kMG]?it \[\d")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def is_volatile(output) -> str | None:
    """``"stderr"`` or ``"progress bar"`` if nbval should not compare ``output``, else None."""
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") == "stderr":
        return "stderr"
    if kind in ("display_data", "execute_result", "update_display_data"):
        data = output.get("data") or {}
        if WIDGET in data and TQDM_BAR.search(_text(data.get("text/plain"))):
            return "progress bar"
    return None


def drop_volatile(outputs, counts: dict | None = None) -> list:
    """``outputs`` without the stderr streams and tqdm bars (counted into ``counts`` by kind)."""
    kept = []
    for output in outputs:
        kind = is_volatile(output)
        if kind is None:
            kept.append(output)
        elif counts is not None:
            counts[kind] = counts.get(kind, 0) + 1
    return kept


_LEFT_OUT: list = []  # (cell name, kind, first line of the text)


def pytest_configure(config):
    if not config.pluginmanager.hasplugin("nbval"):
        return
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell.compare_outputs, "_nbval_ci", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        counts: dict = {}
        kept = drop_volatile(test, counts)
        for kind, n in counts.items():
            _LEFT_OUT.append((self.nodeid, kind, n))
        return original(self, kept, drop_volatile(ref), skip_compare)

    compare_outputs._nbval_ci = True
    IPyNbCell.compare_outputs = compare_outputs


def pytest_report_header(config):
    return "nbval_ci: stderr and tqdm progress bars are left out of nbval's comparison (tests/nbval_ci.py)"


def pytest_terminal_summary(terminalreporter):
    if _LEFT_OUT:
        terminalreporter.write_sep("-", "nbval_ci: outputs left out of the comparison")
        for nodeid, kind, n in _LEFT_OUT:
            terminalreporter.write_line(f"{nodeid}: {n} {kind} output(s)")
