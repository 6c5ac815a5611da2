"""Image grids: dataset samples, labelled predictions, example galleries."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jaxtyping import Int, Shaped

from .._errors import ConfigError
from ._base import RIGHT, WRONG, _pyplot, save_figure


def sample_grid(
    images: Shaped[np.ndarray, "n h w"],
    labels: Int[np.ndarray, " n"],
    class_names: Sequence[str],
    path: str | os.PathLike,
    *,
    title: str,
    predictions: Int[np.ndarray, " n"] | None = None,
    confidences: Shaped[np.ndarray, " n"] | None = None,
    ncols: int = 10,
) -> Path:
    """A grid of images, each titled with its label; with ``predictions``, also the prediction
    and its confidence, right in green and wrong in red."""
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ConfigError("images must hold at least one image; got 0")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    plt = _pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.3 * nrows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r", interpolation="nearest")
        label = class_names[int(labels[i])]
        if predictions is None:
            ax.set_title(label, fontsize=8)
        else:
            pred = int(predictions[i])
            text = f"{label} → {class_names[pred]}"
            if confidences is not None:
                text += f" {float(confidences[i]):.0%}"
            ax.set_title(text, fontsize=7, color=RIGHT if pred == int(labels[i]) else WRONG)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)
