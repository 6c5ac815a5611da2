"""Image grids: dataset samples, labelled predictions, example galleries."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError, check_int
from ._base import (
    DEFAULT_DPI,
    RIGHT,
    WRONG,
    check_title,
    finish,
    new_figure,
    start,
    styled,
    title_inches,
    wrap_title,
)

if TYPE_CHECKING:
    from jaxtyping import Int, Shaped
    from matplotlib.figure import Figure

GRID_CELL = (1.1, 1.3)  # inches per image in sample_grid, its title included
GRID_IMAGE = 0.95
GRID_TOP = 0.5  # inches above the grid for the figure's title
EXAMPLE_COLS = 10
EXAMPLE_TOP = 0.5  # inches above the first row for the figure's title
EXAMPLE_TILE = 1.25  # inches per image column in example_rows
EXAMPLE_LINE = 1.4  # inches per line of images, caption included
EXAMPLE_HEADER = 0.32  # inches for each row's label
EXAMPLE_EMPTY = 0.4  # inches for the "none" of an empty row


def _check_images(param: str, images, *, allow_empty: bool = False) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 and not (allow_empty and images.size == 0):
        raise ConfigError(f"{param} must be an array of shape (n, height, width); got shape {images.shape}")
    if len(images) == 0 and not allow_empty:
        raise ConfigError(f"{param} must hold at least one image; got 0")
    return images


def _check_length(param: str, values, n: int) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (n,):
        raise ConfigError(f"{param} must have one entry per image, shape ({n},); got shape {values.shape}")
    return values


def _canvas(fig):
    """One axes covering ``fig``, in inches from the top-left corner (y grows downwards)."""
    w, h = fig.get_size_inches()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    return ax


def _place(ax, image, left: float, top: float, side: float, *, frame: str | None = None) -> None:
    """Draw ``image`` into the canvas as a ``side``-inch square with its top-left corner at (left, top)."""
    ax.imshow(
        image,
        cmap="gray_r",
        interpolation="nearest",
        extent=(left, left + side, top + side, top),
        aspect="auto",
    )
    if frame is not None:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((left, top), side, side, fill=False, edgecolor=frame, linewidth=1.5))


@styled
def _draw_sample_grid(
    images: Shaped[np.ndarray, "n h w"],
    labels: Int[np.ndarray, " n"],
    class_names: Sequence[str],
    *,
    title: str,
    predictions: Int[np.ndarray, " n"] | None = None,
    confidences: Shaped[np.ndarray, " n"] | None = None,
    ncols: int = 10,
):
    check_title(title)
    images = _check_images("images", images)
    n = len(images)
    labels = _check_length("labels", labels, n)
    if predictions is not None:
        predictions = _check_length("predictions", predictions, n)
    if confidences is not None:
        confidences = _check_length("confidences", confidences, n)
    ncols = max(1, min(check_int("ncols", ncols), n))
    nrows = math.ceil(n / ncols)
    width, height = GRID_CELL[0] * ncols, GRID_CELL[1] * nrows + GRID_TOP
    # One canvas axes in inches with every image drawn into it: one axes per image made a
    # 40-image grid take seconds to draw and save.
    fig = new_figure(width, height, layout=None)
    ax = _canvas(fig)
    side = GRID_IMAGE
    for i in range(n):
        r, c = divmod(i, ncols)
        left = c * GRID_CELL[0] + (GRID_CELL[0] - side) / 2
        top = GRID_TOP + r * GRID_CELL[1] + 0.2  # the image's title goes in the 0.2 in above it
        _place(ax, images[i], left, top, side)
        label = class_names[int(labels[i])]
        if predictions is None:
            text, size, color = label, 8, "#24292f"
        else:
            pred = int(predictions[i])
            text, size = f"{label} → {class_names[pred]}", 7
            if confidences is not None:
                text += f" {float(confidences[i]):.0%}"
            color = RIGHT if pred == int(labels[i]) else WRONG
        ax.text(left + side / 2, top - 0.04, text, fontsize=size, color=color, ha="center", va="bottom")
    # A narrow grid (a handful of images) wraps its title rather than cutting it off.
    title_inches(fig, wrap_title(title, width, fontsize=10), fontsize=10)
    return fig


def sample_grid(
    images: Shaped[np.ndarray, "n h w"],
    labels: Int[np.ndarray, " n"],
    class_names: Sequence[str],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    predictions: Int[np.ndarray, " n"] | None = None,
    confidences: Shaped[np.ndarray, " n"] | None = None,
    ncols: int = 10,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """A grid of images, each titled with its label; with ``predictions``, also the prediction
    and its confidence, right in green and wrong in red. Returns the Figure, saved to ``path``
    (PNG, SVG or PDF by its suffix) only when one is given.

    Size: 1.1 in per column (``min(ncols, n)`` columns) by 1.3 in per row plus 0.5 in:
    1100 x 570 px at ``dpi=100`` for 40 images in 10 columns. The images and their captions are
    placed in inches on the whole figure (captions keep their point size), so it takes no ``ax``.
    """
    path, dpi = start(path, dpi)
    fig = _draw_sample_grid(
        images,
        labels,
        class_names,
        title=title,
        predictions=predictions,
        confidences=confidences,
        ncols=ncols,
    )
    return finish(fig, path, dpi)


def _check_rows(rows, colors) -> dict[str, tuple[np.ndarray, list[str]]]:
    if not isinstance(rows, Mapping) or not rows:
        raise ConfigError(
            "rows must be a non-empty mapping of row label -> (images (n, h, w), captions); "
            f"got {type(rows).__name__}{' (empty)' if isinstance(rows, Mapping) else ''}"
        )
    out = {}
    for label, entry in rows.items():
        if not isinstance(entry, tuple | list) or len(entry) != 2:
            raise ConfigError(
                f"rows[{label!r}] must be a pair (images, captions); got {type(entry).__name__}"
            )
        images = _check_images(f"rows[{label!r}] images", entry[0], allow_empty=True)
        captions = [str(c) for c in entry[1]]
        if len(captions) != len(images):
            raise ConfigError(
                f"rows[{label!r}] must have one caption per image: {len(images)} images; "
                f"got {len(captions)} captions"
            )
        out[str(label)] = (images, captions)
    if colors is not None:
        if not isinstance(colors, Mapping):
            raise ConfigError(f"colors must map row labels to colours; got {type(colors).__name__}")
        unknown = [str(k) for k in colors if str(k) not in out]
        if unknown:
            raise ConfigError(f"colors must name rows of rows ({', '.join(out)}); got unknown {unknown}")
    return out


def _row_height(n: int, ncols: int) -> float:
    return EXAMPLE_HEADER + (EXAMPLE_LINE * math.ceil(n / ncols) if n else EXAMPLE_EMPTY)


def example_rows_size(lengths: Sequence[int], max_cols: int = EXAMPLE_COLS) -> tuple[float, float, int]:
    """``(width, height, columns)`` in inches of an :func:`example_rows` figure with rows of these lengths."""
    ncols = max(1, min(max(lengths, default=1), max_cols))
    width = max(EXAMPLE_TILE * ncols + 0.3, 4.0)
    height = sum(_row_height(n, ncols) for n in lengths) + EXAMPLE_TOP
    return width, height, ncols


@styled
def _draw_example_rows(
    rows: Mapping[str, tuple[Shaped[np.ndarray, "n h w"], Sequence[str]]],
    *,
    title: str,
    colors: Mapping[str, str] | None = None,
    max_cols: int = EXAMPLE_COLS,
):
    check_title(title)
    max_cols = check_int("max_cols", max_cols)
    if max_cols < 1:
        raise ConfigError(f"max_cols must be at least 1; got {max_cols}")
    checked = _check_rows(rows, colors)
    colors = {str(k): v for k, v in (colors or {}).items()}
    lengths = [len(images) for images, _ in checked.values()]
    width, height, ncols = example_rows_size(lengths, max_cols)
    # One canvas axes in inches with every image drawn into it (one axes per image took seconds
    # for ten rows); every row's label sits right above its images.
    fig = new_figure(width, height, layout=None)
    ax = _canvas(fig)
    side = EXAMPLE_TILE - 0.15
    x0 = (width - (ncols * EXAMPLE_TILE - 0.15)) / 2
    y = EXAMPLE_TOP
    for label, (images, captions) in checked.items():
        color = colors.get(label, "#24292f")
        ax.text(x0, y + 0.24, label, fontsize=10, fontweight="bold", color=color, va="baseline")
        y += EXAMPLE_HEADER
        if len(images) == 0:
            ax.text(x0, y + 0.2, "none", fontsize=9, style="italic", color="#57606a", va="baseline")
            y += EXAMPLE_EMPTY
            continue
        for i, image in enumerate(images):
            line, c = divmod(i, ncols)
            left, top = x0 + c * EXAMPLE_TILE, y + line * EXAMPLE_LINE + 0.04
            # A coloured frame ties each image to its row's colour; plain rows get none.
            _place(ax, image, left, top, side, frame=color if label in colors else None)
            ax.text(
                left + side / 2,
                top + side + 0.04,
                captions[i],
                fontsize=8,
                color=color,
                ha="center",
                va="top",
            )
        y += EXAMPLE_LINE * math.ceil(len(images) / ncols)
    title_inches(fig, wrap_title(title, width), top=0.08)
    return fig


def example_rows(
    rows: Mapping[str, tuple[Shaped[np.ndarray, "n h w"], Sequence[str]]],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    colors: Mapping[str, str] | None = None,
    max_cols: int = EXAMPLE_COLS,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """A gallery: one labelled row of images per entry of ``rows``, a caption under each image.
    Returns the Figure, saved to ``path`` only when one is given.

    ``rows`` maps a row label (e.g. "clear positives") to ``(images (n, h, w), captions)`` with one
    caption per image; rows may differ in length, and an empty row shows "none". A row longer than
    ``max_cols`` wraps onto further lines. ``colors`` maps row labels to a colour for the label,
    captions and image frames (e.g. ``{"confusing positives": WRONG}``).

    Size: columns = the longest row, at most ``max_cols``; width max(1.25 x columns + 0.3, 4.0) in,
    height 0.5 in plus, per row, 0.32 in and 1.4 in per line of images (0.4 in for an empty row):
    655 x 738 px at ``dpi=100`` for S8's four rows of 5 images. Laid out in inches on the whole
    figure, like :func:`sample_grid`: no ``ax``.
    """
    path, dpi = start(path, dpi)
    return finish(_draw_example_rows(rows, title=title, colors=colors, max_cols=max_cols), path, dpi)
