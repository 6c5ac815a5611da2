"""examples/live_plot.py runs as a script: as in a terminal (prints) and as in a notebook (redraws)."""

from __future__ import annotations

import runpy
import sys
import types
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("compilation_cache")  # both runs train the same program


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "live_plot.py"


def _run(monkeypatch, tmp_path) -> int:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE)])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    return exit_.value.code


def test_as_a_script_it_prints_each_epoch_and_saves_the_figure(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "IPython", None)  # a plain Python, without IPython
    assert _run(monkeypatch, tmp_path) == 0
    out = capsys.readouterr().out
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert epochs
    assert epochs[0].startswith("epoch 1: train loss ")
    # It stops at 90% test accuracy (a status of its own) or runs all 8 epochs.
    assert (f"stopped: stopped by callback stop_at_accuracy after epoch {len(epochs)}" in out) or (
        len(epochs) == 8 and "completed: all epochs done" in out
    )
    assert (tmp_path / "live_plot.png").read_bytes().startswith(b"\x89PNG")


def test_in_a_notebook_it_redraws_one_figure_in_place_after_every_epoch(tmp_path, monkeypatch, capsys):
    calls = []
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: object()  # "running under IPython"
    display = types.ModuleType("IPython.display")
    display.display = lambda obj: calls.append(("display", type(obj).__name__))
    display.clear_output = lambda wait=False: calls.append(("clear", wait))
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert _run(monkeypatch, tmp_path) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert calls
    assert calls == [("clear", True), ("display", "Figure")] * (len(calls) // 2)
