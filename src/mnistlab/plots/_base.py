"""Shared figure plumbing. Matplotlib is imported only when a figure is drawn, so ``import mnistlab``
stays fast.

Figures are built with Matplotlib's object-oriented API (``matplotlib.figure.Figure``), never
through pyplot: drawing one registers nothing with pyplot and never selects or switches the
backend, so a notebook's backend (inline, widget, qt) is exactly what its user chose, and a machine
without a display needs no special setup. ``Figure.savefig`` picks the Agg, SVG or PDF writer by
the file's suffix on its own.

Figures are made at a fixed size with ``layout="constrained"`` and saved without ``bbox_inches="tight"``,
so an image is exactly ``round(width_in * dpi) x round(height_in * dpi)`` pixels whatever its contents:
the HTML report can lay figures out before they exist, and tests can check the size.
"""

from __future__ import annotations

import functools
import math
import numbers
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .._checks import Interval, TypeOf, check
from .._errors import ConfigError
from .._fs import temp_beside

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
RIGHT, WRONG = "#1a7f37", "#cf222e"
# Matplotlib's tab10 order, so colours match what users see in their own plots.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#d62728",
)
DIVERGING = "RdBu_r"  # weights and gradients: red positive, blue negative, white zero
SEQUENTIAL = "Blues"
DEFAULT_DPI = 100

# One look for every figure. Applied while a figure is drawn (fonts and spines are fixed when the
# artists are made), so it never changes the user's own matplotlib defaults.
STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "#d0d7de",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#57606a",
    "axes.titlepad": 5.0,
    "grid.color": "#d0d7de",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.8,
    "lines.markersize": 4,
}

F = TypeVar("F", bound=Callable[..., Any])


def styled(draw: F) -> F:
    """Run a ``_draw_*`` function with :data:`STYLE` in force (only while it draws: the user's own
    rcParams, the backend among them, are as they were afterwards)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float, height: float, *, layout: str | None = "constrained", **kwargs):
    """A new Matplotlib ``Figure`` of ``width x height`` inches, by default with constrained layout.

    Made directly, not through pyplot: it is not registered with pyplot (nothing to close, no
    open-figure warning after hundreds, no leak if it is never saved) and the backend is left
    alone. Saved with :func:`save` at ``dpi``, its PNG is exactly ``round(width * dpi) x
    round(height * dpi)`` pixels. Grids of many small images pass ``layout=None`` and place their
    axes in inches themselves: constrained layout of a hundred axes takes seconds. Other keyword
    arguments go to ``Figure`` (e.g. ``facecolor``).

    >>> fig = new_figure(6.0, 4.0)
    >>> ax = fig.add_subplot()
    """
    from matplotlib.figure import Figure

    # Sizes are rounded to 0.01 in and nudged up by far less than a pixel: Agg truncates
    # width * dpi to an integer, and 9.4 * 100 may come out as 939.9999.
    size = (round(width, 2) + 1e-6, round(height, 2) + 1e-6)
    return Figure(figsize=size, layout=layout, **kwargs)


def root_figure(fig):
    """The top-level Figure of ``fig`` (itself, or the figure holding a SubFigure): the one saved."""
    from matplotlib.figure import Figure

    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def check_ax(ax):
    """``ax`` if it is a Matplotlib Axes the caller wants drawn into, else a ConfigError."""
    from matplotlib.axes import Axes

    return check("ax", ax, [TypeOf(Axes, "a Matplotlib Axes (e.g. from fig.add_subplot())")])


def one_axes(ax, width: float, height: float):
    """``(figure, axes, own)``: a new ``width x height`` in figure with one axes (``own``), or the
    caller's axes and its figure (checked), for the plots that are one panel."""
    if ax is None:
        fig = new_figure(width, height)
        return fig, fig.add_subplot(), True
    check_ax(ax)
    return ax.figure, ax, False


def panel_title(ax, title: str, detail: str = "") -> None:
    """The title of a figure drawn into a caller's axes: the figure-level title belongs to the
    caller's figure, so ``title`` goes above the axes, with ``detail`` (the panel's own subtitle,
    e.g. the accuracy) on a second line."""
    ax.set_title(f"{title}\n{detail}" if detail else title)


def add_axes_inches(fig, left: float, top: float, width: float, height: float):
    """An axes placed by its top-left corner and size in inches from the figure's top-left corner."""
    fw, fh = fig.get_size_inches()
    return fig.add_axes((left / fw, 1 - (top + height) / fh, width / fw, height / fh))


def title_inches(fig, text: str, *, top: float = 0.08, fontsize: float = 12, **kwargs) -> None:
    """The figure's title with its top ``top`` inches below the edge (figures without a layout engine)."""
    fig.suptitle(text, y=1 - top / fig.get_size_inches()[1], va="top", fontsize=fontsize, **kwargs)


def pixel_size(fig, dpi: int = DEFAULT_DPI) -> tuple[int, int]:
    """``(width, height)`` in pixels of ``fig`` saved as PNG at ``dpi``."""
    w, h = fig.get_size_inches()
    return int(w * dpi), int(h * dpi)


def wrap_title(text: str, width_in: float, fontsize: float = 12) -> str:
    """``text`` broken into lines that fit ``width_in`` inches: a figure's size is fixed, so a long
    title must wrap rather than run off the edge."""
    chars = max(20, int(width_in * 72 / (0.63 * fontsize)))  # bold DejaVu Sans averages ~0.6 em
    return "\n".join(textwrap.wrap(str(text), chars)) or str(text)


def suptitle(fig, title: str, width_in: float) -> None:
    fig.suptitle(wrap_title(title, width_in))


def check_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"title must be a non-empty string; got {title!r}")
    return title


def check_dpi(dpi) -> int:
    return int(check("dpi", dpi, [Interval(int, 10, 1200)]))


def check_fraction(param: str, value, *, optional: bool = True) -> float | None:
    """``value`` as a float in [0, 1] (``None`` passes when ``optional``), else a ConfigError."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise ConfigError(f"{param} must be a fraction between 0 and 1; got {value!r}")
    return float(value)


def as_array(
    param: str, value, ndim: int | tuple[int, ...], expected: str, *, allow_empty: bool = False
) -> np.ndarray:
    """``value`` as a float NumPy array of ``ndim`` dimensions, else a ConfigError naming ``param``,
    what was ``expected`` (e.g. "(784, K)") and what was got."""
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{param} must be a numeric array of shape {expected}; got {type(value).__name__}"
        ) from None
    if a.ndim not in ndims:
        raise ConfigError(f"{param} must be an array of shape {expected}; got shape {a.shape}")
    if a.size == 0 and not allow_empty:
        raise ConfigError(f"{param} must not be empty: expected shape {expected}; got shape {a.shape}")
    return a


def symmetric_limit(a: np.ndarray) -> float:
    """The largest finite |value|: the colour scale runs from -m to m, so zero is always white."""
    finite = np.abs(a[np.isfinite(a)])
    m = float(finite.max()) if finite.size else 0.0
    return m if m > 0 else 1.0  # all-zero weights: any scale shows them as white


def grid_shape(n: int, max_cols: int) -> tuple[int, int]:
    ncols = max(1, min(n, max_cols))
    return math.ceil(n / ncols), ncols


def check_figure_path(path: str | os.PathLike, param: str = "--out") -> Path:
    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ConfigError(
            f"{param} must end in {', '.join(FIGURE_SUFFIXES)}; got {str(path)!r} (add a suffix)"
        )
    if not path.parent.is_dir():
        raise ConfigError(f"{param}: folder {str(path.parent)!r} does not exist; create it first")
    return path


def save(fig, path: str | os.PathLike, *, dpi: int = DEFAULT_DPI) -> Path:
    """Save ``fig`` to ``path`` as PNG, SVG or PDF (by the suffix), atomically; returns the path.

    Atomic: written to a temporary file beside ``path`` and renamed into place, so an interrupted
    save leaves the previous file (or none), never half of one. The image has exactly the figure's
    size (no ``bbox_inches="tight"`` cropping): lay figures out with ``layout="constrained"`` so
    nothing falls off the edge. ``fig`` may be any Matplotlib Figure (or SubFigure: its whole
    figure is saved), also one made with pyplot; it stays open and can be drawn on and saved again.
    """
    path = check_figure_path(path, "path")
    dpi = check_dpi(dpi)
    with temp_beside(path, suffix=path.suffix) as tmp:  # the suffix tells savefig the format
        root_figure(fig).savefig(tmp, dpi=dpi)
        os.replace(tmp, path)
    return path


save_figure = (
    save  # its earlier name, kept for callers (it used to close the figure too: nothing to close now)
)


def start(path, dpi) -> tuple[Path | None, int]:
    """Check a plot function's ``path`` (None: do not save) and ``dpi`` before anything is drawn."""
    return (None if path is None else check_figure_path(path, "path")), check_dpi(dpi)


def finish(fig, path: Path | None, dpi: int):
    """What every plot function returns: ``fig``, saved first when it was given a ``path``."""
    if fig is not None and path is not None:
        save(fig, path, dpi=dpi)
    return fig
