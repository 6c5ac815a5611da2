"""Weights and gradients as images: class templates (S1), first-layer tiles, CNN filters, gradients (S8)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError, check_int
from ._base import (
    DEFAULT_DPI,
    DIVERGING,
    as_array,
    check_title,
    finish,
    grid_shape,
    new_figure,
    one_axes,
    panel_title,
    start,
    styled,
    suptitle,
    symmetric_limit,
    wrap_title,
)

if TYPE_CHECKING:
    from jaxtyping import Float
    from matplotlib.figure import Figure

TEMPLATE_COLS, TILE_COLS, FILTER_COLS = 5, 8, 8


def _check_image_shape(image_shape) -> tuple[int, int]:
    try:
        h, w = (check_int("image_shape", v) for v in image_shape)
    except (TypeError, ValueError):
        raise ConfigError(
            f"image_shape must be (height, width), e.g. (28, 28); got {image_shape!r}"
        ) from None
    if h < 1 or w < 1:
        raise ConfigError(f"image_shape must be (height, width) of positive sizes; got {image_shape!r}")
    return h, w


def _check_rows(param: str, kernel: np.ndarray, image_shape: tuple[int, int], cols: str) -> None:
    h, w = image_shape
    if kernel.shape[0] != h * w:
        raise ConfigError(
            f"{param} must have one row per pixel, shape ({h * w}, {cols}) for {h}x{w} images; "
            f"got shape {kernel.shape}"
        )


def _plain_image_axes(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _mosaic_labels(fig, ax, own: bool, title: str, caption: str, width: float) -> None:
    """Title and caption: the figure's own when it is ours; in a caller's axes, the title above the
    axes and the caption in small print below it (the axes is switched off, so an x label would
    not show)."""
    if own:
        fig.supxlabel(caption, fontsize=9)
        suptitle(fig, title, width)
    else:
        ax.text(0.5, -0.01, caption, transform=ax.transAxes, ha="center", va="top", fontsize=8, wrap=True)
        panel_title(ax, title)


@styled
def _draw_class_templates(
    kernel: Float[np.ndarray, "pixels classes"],
    class_names: Sequence[str],
    *,
    title: str,
    image_shape: tuple[int, int] = (28, 28),
):
    check_title(title)
    kernel = as_array("kernel", kernel, 2, "(H*W, K)")
    image_shape = _check_image_shape(image_shape)
    _check_rows("kernel", kernel, image_shape, "K")
    k = kernel.shape[1]
    names = [str(c) for c in class_names]
    if len(names) != k:
        raise ConfigError(
            f"class_names must name the kernel's {k} columns (one template per class); got {len(names)} names"
        )
    nrows, ncols = grid_shape(k, TEMPLATE_COLS)
    width, height = 1.7 * ncols + 0.9, 1.85 * nrows + 0.95
    fig = new_figure(width, height)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    m = symmetric_limit(kernel)  # ONE scale for every class: templates are compared with each other
    image = None
    for i, ax in enumerate(axes.flat):
        _plain_image_axes(ax)
        if i >= k:
            ax.set_visible(False)
            continue
        image = ax.imshow(
            kernel[:, i].reshape(image_shape), cmap=DIVERGING, vmin=-m, vmax=m, interpolation="nearest"
        )
        ax.set_title(names[i])
    fig.colorbar(image, ax=axes, shrink=0.85, label="weight")
    fig.supxlabel("red: pixel ink raises the class's score; blue: lowers it (one colour scale)", fontsize=9)
    suptitle(fig, title, width)
    return fig


def class_templates(
    kernel: Float[np.ndarray, "pixels classes"],
    class_names: Sequence[str],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    image_shape: tuple[int, int] = (28, 28),
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Softmax regression's weight vectors as images, one panel per class (study S1). Returns the
    Figure, saved to ``path`` (PNG, SVG or PDF by its suffix) only when one is given.

    ``kernel`` is ``(H*W, K)``: column k holds class k's weight per pixel. Every panel uses the same
    symmetric scale (``vmin=-m, vmax=m`` with ``m = max |w|``, a diverging colormap: white is zero),
    with one shared colour bar, so templates compare with each other.

    Size: up to 5 panels a row; (1.7 x columns + 0.9) x (1.85 x rows + 0.95) in: 940 x 465 px at
    ``dpi=100`` for 10 classes. One panel per class: it takes no ``ax``.
    """
    path, dpi = start(path, dpi)
    fig = _draw_class_templates(kernel, class_names, title=title, image_shape=image_shape)
    return finish(fig, path, dpi)


def _tile_mosaic(ax, tiles: np.ndarray, ncols: int, limits: np.ndarray, labels: Sequence[str]):
    """Draw ``tiles`` (n, h, w) as a grid of images inside ONE axes, each with its own colour limits
    and a small label above it. One axes instead of one per tile: constrained layout of 64 axes
    takes seconds, this takes milliseconds, and looks the same."""
    n, h, w = tiles.shape
    tile_w, tile_h = 1.0, h / w
    gap_x, gap_y = 0.12, 0.3  # the gap above each tile holds its label
    image = None
    for i in range(n):
        r, c = divmod(i, ncols)
        x0 = c * (tile_w + gap_x)
        y0 = r * (tile_h + gap_y) + gap_y
        image = ax.imshow(
            tiles[i],
            cmap=DIVERGING,
            vmin=-limits[i],
            vmax=limits[i],
            interpolation="nearest",
            extent=(x0, x0 + tile_w, y0 + tile_h, y0),
        )
        ax.text(x0 + tile_w / 2, y0 - 0.04, labels[i], ha="center", va="bottom", fontsize=7, color="#57606a")
    nrows = -(-n // ncols)
    ax.set_xlim(-gap_x / 2, ncols * (tile_w + gap_x) - gap_x / 2)
    ax.set_ylim(nrows * (tile_h + gap_y) + gap_y / 4, 0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return image


@styled
def _draw_weight_tiles(
    kernel: Float[np.ndarray, "pixels units"],
    *,
    title: str,
    n: int = 64,
    image_shape: tuple[int, int] = (28, 28),
    ax=None,
):
    check_title(title)
    kernel = as_array("kernel", kernel, 2, "(H*W, units)")
    image_shape = _check_image_shape(image_shape)
    _check_rows("kernel", kernel, image_shape, "units")
    n = check_int("n", n)
    if n < 1:
        raise ConfigError(f"n must be at least 1 (the number of tiles); got {n}")
    units = kernel.shape[1]
    shown = min(n, units)
    nrows, ncols = grid_shape(shown, TILE_COLS)
    width, height = 1.05 * ncols + 0.6, 1.25 * nrows + 1.1
    fig, ax, own = one_axes(ax, width, height)
    tiles = kernel[:, :shown].T.reshape(shown, *image_shape)
    # Each unit on its own scale: units differ in norm, and one scale would blank out most of them.
    limits = np.array([symmetric_limit(t) for t in tiles])
    _tile_mosaic(ax, tiles, ncols, limits, [f"unit {i}" for i in range(shown)])
    which = f"all {units} units" if shown == units else f"the first {shown} of {units} units"
    caption = f"{which}: each one's incoming weights as an image, on its own symmetric scale (red +, blue −)"
    _mosaic_labels(fig, ax, own, title, wrap_title(caption, width, 9) if own else caption, width)
    return fig


def weight_tiles(
    kernel: Float[np.ndarray, "pixels units"],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    n: int = 64,
    image_shape: tuple[int, int] = (28, 28),
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """The first layer of an MLP as image tiles: each hidden unit's incoming weights as an image.
    Returns the Figure, saved to ``path`` only when one is given.

    ``kernel`` is ``(H*W, units)`` (Flax's Dense layout); the first ``n`` units are shown, each on its
    own symmetric diverging scale (units differ in norm; one scale would blank out the small ones).

    Size: up to 8 tiles a row; (1.05 x columns + 0.6) x (1.25 x rows + 1.1) in: 900 x 1110 px at
    ``dpi=100`` for 64 tiles.

    ``ax``: draw the tiles into this Matplotlib Axes of the caller's figure instead (they form one
    mosaic in one axes), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    fig = _draw_weight_tiles(kernel, title=title, n=n, image_shape=image_shape, ax=ax)
    return finish(fig, path, dpi)


@styled
def _draw_conv_filters(kernel: Float[np.ndarray, "kh kw cin cout"], *, title: str, ax=None):
    check_title(title)
    kernel = as_array("kernel", kernel, 4, "(kh, kw, in_channels, out_channels) (Flax's HWIO)")
    kh, kw, cin, cout = kernel.shape
    filters = np.moveaxis(kernel[:, :, 0, :], -1, 0)
    nrows, ncols = grid_shape(cout, FILTER_COLS)
    width, height = 1.0 * ncols + 1.6, 1.2 * nrows + 1.1
    fig, ax, own = one_axes(ax, width, height)
    m = symmetric_limit(filters)  # one scale: filters of one layer are compared with each other
    image = _tile_mosaic(ax, filters, ncols, np.full(cout, m), [f"filter {i}" for i in range(cout)])
    fig.colorbar(image, ax=ax, shrink=0.9, label="weight")
    channel = "" if cin == 1 else f" (input channel 0 of {cin})"
    caption = f"{cout} filters of {kh}×{kw}{channel}, one colour scale (red +, blue −)"
    _mosaic_labels(fig, ax, own, title, caption, width)
    return fig


def conv_filters(
    kernel: Float[np.ndarray, "kh kw cin cout"],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """A CNN's first-layer filters, one tile per output channel, on one symmetric scale. Returns
    the Figure, saved to ``path`` only when one is given.

    ``kernel`` is ``(kh, kw, in_channels, out_channels)``, Flax's HWIO layout; only the first input
    channel is drawn (MNIST images have one).

    Size: up to 8 tiles a row; (1.0 x columns + 1.6) x (1.2 x rows + 1.1) in: 960 x 590 px at
    ``dpi=100`` for 32 filters, 960 x 350 for 16 or 12.

    ``ax``: draw the filters into this Matplotlib Axes of the caller's figure instead (the colour
    bar takes room beside it), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    return finish(_draw_conv_filters(kernel, title=title, ax=ax), path, dpi)


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _kernels(params: Any) -> dict[str, np.ndarray]:
    """Every ``kernel`` leaf of a Flax parameter tree, keyed by its layer's path ("hidden_0")."""
    if isinstance(params, Mapping) and isinstance(params.get("params"), Mapping):
        params = params["params"]  # Flax variables: other collections (batch_stats) hold no kernels
    found: dict[str, np.ndarray] = {}

    def walk(node, prefix):
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "kernel" and not isinstance(value, Mapping):
                    found[prefix or "kernel"] = np.asarray(value)
                else:
                    walk(value, f"{prefix}/{key}" if prefix else str(key))

    walk(params, "")
    # Layers are numbered (hidden_0, conv_1): natural order puts the first layer first even when a
    # checkpoint stores keys sorted as strings.
    return dict(sorted(found.items(), key=lambda kv: _natural_key(kv[0])))


def _pick_weight_figure(params, class_names, image_shape):
    """``(kind, layer name, kernel)`` of the figure that fits ``params``, or None."""
    kernels = _kernels(params)
    pixels = image_shape[0] * image_shape[1]
    convs = {k: v for k, v in kernels.items() if v.ndim == 4}
    if convs:
        # The first convolution is the one that reads the image: a single input channel.
        first = next((k for k, v in convs.items() if v.shape[2] == 1), next(iter(convs)))
        return "conv", first, convs[first]
    flat = {k: v for k, v in kernels.items() if v.ndim == 2 and v.shape[0] == pixels}
    if not flat:
        return None
    name, kernel = next(iter(flat.items()))
    classes = len(class_names)
    # One layer from pixels straight to the outputs (one per class, or one logit for two classes).
    if len(kernels) == 1 and (kernel.shape[1] == classes or (kernel.shape[1] == 1 and classes == 2)):
        return "templates", name, kernel
    return "tiles", name, kernel


@styled
def _draw_weight_figure(
    params: Mapping[str, Any],
    *,
    title: str,
    class_names: Sequence[str],
    image_shape: tuple[int, int] = (28, 28),
):
    check_title(title)
    image_shape = _check_image_shape(image_shape)
    if not isinstance(params, Mapping):
        raise ConfigError(
            "params must be a Flax parameter tree (a dict such as {'params': {'out': {'kernel': ...}}}); "
            f"got {type(params).__name__}"
        )
    names = [str(c) for c in class_names]
    picked = _pick_weight_figure(params, names, image_shape)
    if picked is None:
        return None
    kind, _layer, kernel = picked
    if kind == "conv":
        return _draw_conv_filters(kernel, title=title)
    if kind == "templates":
        if kernel.shape[1] == 1:  # a binary logistic regression: one template, for the positive class
            names = [f"{names[1]} (vs {names[0]})"]
        return _draw_class_templates(kernel, names, title=title, image_shape=image_shape)
    return _draw_weight_tiles(kernel, title=title, image_shape=image_shape)


def weight_figure(
    params: Mapping[str, Any],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    class_names: Sequence[str],
    image_shape: tuple[int, int] = (28, 28),
    dpi: int = DEFAULT_DPI,
) -> Figure | None:
    """The first-layer weights of ONE seed's parameter tree, drawn the way that suits the model;
    returns the Figure, saved to ``path`` only when one is given.

    - any 4-D (convolution) kernel: :func:`conv_filters` of the convolution that reads the image
      (the one with a single input channel; cnn, cnn-s3, cnn-s7);
    - a single dense layer from the ``H*W`` pixels to the classes (``(H*W, K)`` with K class names,
      or ``(H*W, 1)`` with two): :func:`class_templates` (softmax regression, S1);
    - otherwise the first ``(H*W, units)`` kernel: :func:`weight_tiles` (mlp, binary-mlp, and the
      autoencoder's encoder).

    Layers are taken in natural order of their names (``hidden_2`` before ``hidden_10``).
    Returns None, writing nothing, when no kernel fits: no 4-D kernel and no 2-D kernel with
    ``H*W`` rows (images of another size than ``image_shape``, or a tree of several seeds whose
    kernels carry a leading seed axis: pass one seed, ``jax.tree.map(lambda a: a[0], params)``).

    Size: that of the function it dispatches to. Class templates take several panels, so it takes
    no ``ax``.
    """
    path, dpi = start(path, dpi)
    fig = _draw_weight_figure(params, title=title, class_names=class_names, image_shape=image_shape)
    return finish(fig, path, dpi)
