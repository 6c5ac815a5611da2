"""Gradients of the weight matrices as images (study S8), one panel per matrix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError
from ._base import (
    DEFAULT_DPI,
    DIVERGING,
    as_array,
    check_title,
    finish,
    grid_shape,
    new_figure,
    start,
    styled,
    suptitle,
    symmetric_limit,
)

if TYPE_CHECKING:
    from jaxtyping import Float
    from matplotlib.figure import Figure

GRADIENT_COLS = 3


@styled
def _draw_gradient_images(grads: Mapping[str, Float[np.ndarray, "rows cols"]], *, title: str):
    from matplotlib.ticker import MaxNLocator

    check_title(title)
    if not isinstance(grads, Mapping) or not grads:
        raise ConfigError(
            "grads must be a non-empty mapping of layer name -> 2-D gradient array; "
            f"got {type(grads).__name__} {'(empty)' if isinstance(grads, Mapping) else ''}".rstrip()
        )
    arrays = {}
    for name, g in grads.items():
        a = as_array(f"grads[{name!r}]", g, tuple(range(2, 9)), "(inputs, outputs)")
        # Higher-dimensional kernels (convolutions) read as (everything but the last axis) x outputs.
        arrays[str(name)] = (a.reshape(-1, a.shape[-1]), a.shape)
    nrows, ncols = grid_shape(len(arrays), GRADIENT_COLS)
    width, height = 4.4 * ncols, 3.7 * nrows + 0.6
    fig = new_figure(width, height)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(arrays):
            ax.set_visible(False)
            continue
        name, (g, shape) = list(arrays.items())[i]
        m = symmetric_limit(g)  # each matrix on its own scale: gradients differ by orders of magnitude
        image = ax.imshow(g, cmap=DIVERGING, vmin=-m, vmax=m, aspect="auto", interpolation="nearest")
        ax.set_title(f"{name}  {' × '.join(str(s) for s in shape)}")
        ax.set_xlabel("output unit")
        ax.set_ylabel("input")
        # Ticks on whole units only: a single output column would otherwise get ticks at -0.4 ... 0.4.
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
        fig.colorbar(image, ax=ax, label="∂loss/∂w", fraction=0.08, pad=0.02)
    suptitle(fig, title, width)
    return fig


def gradient_images(
    grads: Mapping[str, Float[np.ndarray, "rows cols"]],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """The gradient of each weight matrix as an image (study S8), one panel per matrix. Returns the
    Figure, saved to ``path`` only when one is given.

    ``grads`` maps a layer name to its ``(inputs, outputs)`` gradient (arrays with more axes, such as
    convolution kernels, are shown as (all but the last axis) x last axis). Each panel has its own
    symmetric diverging scale and colour bar (gradients of different layers differ by orders of
    magnitude) and is titled with the layer's name and shape.

    Size: up to 3 panels a row, 4.4 in wide and 3.7 in high each, plus 0.6 in for the title:
    1320 x 430 px at ``dpi=100`` for three matrices, 1320 x 800 for four to six. One panel per
    matrix: no ``ax``.
    """
    path, dpi = start(path, dpi)
    return finish(_draw_gradient_images(grads, title=title), path, dpi)
