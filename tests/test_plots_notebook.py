"""Figures in a notebook: every plot function returns a Matplotlib Figure, writes a file only when
given a path, draws into a caller's axes where it is one panel, and leaves the backend (and pyplot)
alone; ``plots.save`` and ``plots.new_figure`` are the public way to save and make figures."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, plots

DIGITS = [str(i) for i in range(10)]
RNG = np.random.default_rng(1)
RECORDS = [
    {"epoch": e, "train_loss": 1 / e, "test_loss": 1.1 / e, "test_accuracy": 0.5 + 0.1 * e} for e in (1, 2, 3)
]
BINS = [
    {"lower": 0.0, "upper": 0.5, "count": 0, "confidence": None, "accuracy": None},
    {"lower": 0.5, "upper": 1.0, "count": 20, "confidence": 0.8, "accuracy": 0.75},
]
IMAGES = RNG.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)

# Every public plot function, called without a path: name -> call(**extra).
CALLS = {
    "learning_curves": lambda **kw: plots.learning_curves(RECORDS, title="curves", **kw),
    "compare_curves": lambda **kw: plots.compare_curves({"a": RECORDS, "b": RECORDS}, title="cmp", **kw),
    "confusion_heatmap": lambda **kw: plots.confusion_heatmap(
        np.eye(3) * 5 + 1, DIGITS[:3], title="cm", **kw
    ),
    "reliability_diagram": lambda **kw: plots.reliability_diagram(BINS, title="rel", ece=0.05, **kw),
    "accuracy_histogram": lambda **kw: plots.accuracy_histogram([0.4, 0.5, 0.6], title="inits", **kw),
    "roc_plot": lambda **kw: plots.roc_plot([0, 0.2, 1], [0, 0.9, 1], title="ROC", auc=0.9, **kw),
    "sample_grid": lambda **kw: plots.sample_grid(IMAGES, np.arange(6), DIGITS, title="grid", **kw),
    "example_rows": lambda **kw: plots.example_rows({"row": (IMAGES, list("abcdef"))}, title="rows", **kw),
    "class_templates": lambda **kw: plots.class_templates(
        RNG.normal(size=(784, 10)), DIGITS, title="t", **kw
    ),
    "weight_tiles": lambda **kw: plots.weight_tiles(RNG.normal(size=(784, 6)), title="tiles", **kw),
    "conv_filters": lambda **kw: plots.conv_filters(RNG.normal(size=(3, 3, 1, 4)), title="filters", **kw),
    "weight_figure": lambda **kw: plots.weight_figure(
        {"params": {"out": {"kernel": RNG.normal(size=(784, 10))}}}, title="w", class_names=DIGITS, **kw
    ),
    "gradient_images": lambda **kw: plots.gradient_images({"out": RNG.normal(size=(8, 3))}, title="g", **kw),
}
ONE_PANEL = (
    "compare_curves",
    "confusion_heatmap",
    "accuracy_histogram",
    "roc_plot",
    "weight_tiles",
    "conv_filters",
)


def png_size(path: Path) -> tuple[int, int]:
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_every_plot_function_is_covered_here():
    public = {
        n for n in plots.__all__ if callable(getattr(plots, n)) and not n.startswith(("save", "check", "new"))
    }
    assert public == set(CALLS)


@pytest.mark.parametrize("name", list(CALLS))
def test_plot_functions_return_a_figure_and_write_nothing_without_a_path(name, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    fig = CALLS[name]()
    assert isinstance(fig, Figure)
    assert fig.get_suptitle()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ONE_PANEL)
def test_one_panel_functions_draw_into_the_callers_axes(name, tmp_path):
    fig = plots.new_figure(12, 5)
    left, right = fig.subplots(1, 2)
    assert CALLS[name](ax=right) is fig
    assert not left.has_data()
    assert right.has_data()  # lines, bars or images
    assert (
        right.get_title().split("\n")[0]
        == {
            "compare_curves": "cmp",
            "confusion_heatmap": "cm",
            "accuracy_histogram": "inits",
            "roc_plot": "ROC",
            "weight_tiles": "tiles",
            "conv_filters": "filters",
        }[name]
    )
    assert not fig.get_suptitle()  # the caller's figure keeps its own title, if any
    # With a path as well, the caller's whole figure is saved, at its size.
    CALLS[name](ax=left, path=tmp_path / "both.png")
    assert png_size(tmp_path / "both.png") == (1200, 500)


def test_axes_of_a_subfigure_are_drawn_into_and_the_whole_figure_is_saved(tmp_path):
    fig = plots.new_figure(10, 4)
    _, sub_b = fig.subfigures(1, 2)
    ax = sub_b.add_subplot()
    plots.roc_plot([0, 0.2, 1], [0, 0.9, 1], tmp_path / "sub.png", title="ROC", ax=ax)
    assert ax.has_data()
    assert png_size(tmp_path / "sub.png") == (1000, 400)


def test_ax_must_be_a_matplotlib_axes(tmp_path):
    with pytest.raises(ConfigError, match=r"ax must be a Matplotlib Axes.*got 'left'") as info:
        plots.roc_plot([0, 1], [0, 1], tmp_path / "r.png", title="t", ax="left")
    assert "\n" not in str(info.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_writes_the_format_of_the_suffix_atomically(tmp_path, suffix, magic):
    fig = CALLS["roc_plot"]()
    out = plots.save(fig, tmp_path / f"roc{suffix}")
    assert out == tmp_path / f"roc{suffix}"
    assert out.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind
    # The figure stays open: it can be changed and saved again.
    fig.axes[0].set_xlabel("changed")
    plots.save(fig, tmp_path / "again.png", dpi=50)
    assert png_size(tmp_path / "again.png") == (280, 290)


def test_save_refuses_a_path_it_cannot_write(tmp_path):
    fig = CALLS["roc_plot"]()
    with pytest.raises(ConfigError, match=r"path must end in \.png, \.svg, \.pdf"):
        plots.save(fig, tmp_path / "roc.jpg")
    with pytest.raises(ConfigError, match="does not exist; create it first"):
        plots.save(fig, tmp_path / "missing" / "roc.png")
    with pytest.raises(ConfigError, match=r"dpi must be an integer in \[10, 1200\]; got 5"):
        plots.save(fig, tmp_path / "roc.png", dpi=5)
    assert not list(tmp_path.iterdir())


def test_new_figure_has_the_documented_pixel_size(tmp_path):
    from matplotlib.figure import Figure

    fig = plots.new_figure(9.4, 3.3)  # 9.4 * 100 is 939.999... in floating point
    assert isinstance(fig, Figure)
    fig.add_subplot().plot([1, 2, 3])
    assert png_size(plots.save(fig, tmp_path / "f.png")) == (940, 330)


def test_plotting_leaves_the_users_backend_and_pyplot_alone(tmp_path):
    """A notebook user's backend (here 'svg', not Agg) is what it was after drawing and saving, and
    pyplot, whose global state a notebook shares, is never imported."""
    code = textwrap.dedent(
        f"""
        import sys
        import matplotlib
        matplotlib.use("svg")
        import numpy as np
        from mnistlab import plots
        before = matplotlib.get_backend()
        fig = plots.confusion_heatmap(np.eye(3), ["a", "b", "c"], title="cm")
        plots.save(fig, {str(tmp_path / "cm.png")!r})
        plots.roc_plot([0, 0.2, 1], [0, 0.9, 1], {str(tmp_path / "roc.pdf")!r}, title="ROC")
        plots.learning_curves([{{"epoch": 1, "test_loss": 1.0}}], title="c")
        assert matplotlib.get_backend() == before == "svg", matplotlib.get_backend()
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert png_size(tmp_path / "cm.png") == (542, 492)
    assert (tmp_path / "roc.pdf").read_bytes().startswith(b"%PDF")


def test_plotting_in_process_does_not_change_rcparams_backend(tmp_path):
    import matplotlib

    before = dict.__getitem__(matplotlib.rcParams, "backend")
    for name in ("learning_curves", "confusion_heatmap", "sample_grid"):
        plots.save(CALLS[name](), tmp_path / f"{name}.png")
    assert dict.__getitem__(matplotlib.rcParams, "backend") == before
