"""Figures. Matplotlib is imported only when a figure is drawn, always with the Agg backend,
so ``import mnistlab`` stays fast and works on machines without a display.

Every function draws one figure from plain arrays and saves it (PNG, SVG or PDF by the path's
suffix) atomically, returning the path.
"""

from ._base import FIGURE_SUFFIXES, RIGHT, WRONG, check_figure_path, save_figure
from ._samples import sample_grid

__all__ = ["FIGURE_SUFFIXES", "RIGHT", "WRONG", "check_figure_path", "sample_grid", "save_figure"]
