"""Figures. Matplotlib is imported only when a figure is drawn, always with the Agg backend,
so ``import mnistlab`` stays fast and works on machines without a display.

Every function draws one figure from plain arrays and saves it (PNG, SVG or PDF by the path's
suffix) atomically, returning the path. Figures have a fixed size in inches (each docstring says
which), so a PNG is exactly ``width x dpi`` by ``height x dpi`` pixels; ``dpi`` defaults to 100.
"""

from ._base import FIGURE_SUFFIXES, RIGHT, WRONG, check_figure_path, save_figure
from ._curves import compare_curves, learning_curves
from ._diagnostics import accuracy_histogram, confusion_heatmap, reliability_diagram, roc_plot
from ._samples import example_rows, sample_grid
from ._weights import class_templates, conv_filters, gradient_images, weight_figure, weight_tiles

__all__ = [
    "FIGURE_SUFFIXES",
    "RIGHT",
    "WRONG",
    "accuracy_histogram",
    "check_figure_path",
    "class_templates",
    "compare_curves",
    "confusion_heatmap",
    "conv_filters",
    "example_rows",
    "gradient_images",
    "learning_curves",
    "reliability_diagram",
    "roc_plot",
    "sample_grid",
    "save_figure",
    "weight_figure",
    "weight_tiles",
]
