"""Shared figure plumbing. Matplotlib is imported only when a figure is drawn, always with the Agg backend,
so ``import mnistlab`` stays fast and works on machines without a display."""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import ConfigError
from .._fs import temp_beside

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
