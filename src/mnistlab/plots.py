"""Figures. Matplotlib is imported only when a figure is drawn, always with the Agg backend,
so ``import mnistlab`` stays fast and works on machines without a display."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jaxtyping import Int, Shaped

from ._errors import ConfigError
from ._fs import temp_beside

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
RIGHT, WRONG = "#1a7f37", "#cf222e"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def check_figure_path(path: str | os.PathLike, param: str = "--out") -> Path:
    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise ConfigError(
            f"{param} must end in {', '.join(FIGURE_SUFFIXES)}; got {str(path)!r} (add a suffix)"
        )
    if not path.parent.is_dir():
        raise ConfigError(f"{param}: folder {str(path.parent)!r} does not exist; create it first")
    return path


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 100) -> Path:
    """Save atomically (temporary file, then rename): an interrupted save leaves nothing behind."""
    plt = _pyplot()
    path = check_figure_path(path, "path")
    try:
        with temp_beside(path, suffix=path.suffix) as tmp:  # the suffix tells savefig the format
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
            os.replace(tmp, path)
    finally:
        plt.close(fig)
    return path


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
