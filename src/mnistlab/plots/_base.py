"""Shared figure plumbing. Matplotlib is imported only when a figure is drawn, always with the Agg backend,
so ``import mnistlab`` stays fast and works on machines without a display.

Figures are made at a fixed size with ``layout="constrained"`` and saved without ``bbox_inches="tight"``,
so an image is exactly ``round(width_in * dpi) x round(height_in * dpi)`` pixels whatever its contents:
the HTML report can lay figures out before they exist, and tests can check the size.
"""

from __future__ import annotations

import functools
import math
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def styled(draw: F) -> F:
    """Run a ``_draw_*`` function with the Agg backend and :data:`STYLE` in force."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        _pyplot()
        import matplotlib

        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def new_figure(width: float, height: float, *, layout: str | None = "constrained", **kwargs):
    """A Figure of ``width x height`` inches, by default with constrained layout, not registered with
    pyplot (tests can draw hundreds without pyplot's open-figure warning, and nothing leaks if a
    test never saves one). Grids of many small images pass ``layout=None`` and place their axes
    in inches themselves: constrained layout of a hundred axes takes seconds."""
    from matplotlib.figure import Figure

    # Sizes are rounded to 0.01 in and nudged up by far less than a pixel: Agg truncates
    # width * dpi to an integer, and 9.4 * 100 may come out as 939.9999.
    size = (round(width, 2) + 1e-6, round(height, 2) + 1e-6)
    return Figure(figsize=size, layout=layout, **kwargs)


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
    if isinstance(dpi, bool) or not isinstance(dpi, int | np.integer) or not 10 <= dpi <= 1200:
        raise ConfigError(f"dpi must be an integer between 10 and 1200; got {dpi!r}")
    return int(dpi)


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


def save_figure(fig, path: str | os.PathLike, *, dpi: int = DEFAULT_DPI) -> Path:
    """Save atomically (temporary file, then rename): an interrupted save leaves nothing behind.

    The image has exactly the figure's size (no ``bbox_inches="tight"`` cropping): lay figures out
    with ``layout="constrained"`` so nothing falls off the edge.
    """
    plt = _pyplot()
    try:
        path = check_figure_path(path, "path")
        dpi = check_dpi(dpi)
        with temp_beside(path, suffix=path.suffix) as tmp:  # the suffix tells savefig the format
            fig.savefig(tmp, dpi=dpi)
            os.replace(tmp, path)
    finally:
        plt.close(fig)
    return path
