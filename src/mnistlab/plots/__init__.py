"""Figures, for files and for notebooks. Matplotlib is imported only when a figure is drawn, so
``import mnistlab`` stays fast.

Every function draws one figure from plain arrays and RETURNS it, a Matplotlib ``Figure`` (in a
notebook it shows itself); it writes a file only when given ``path`` (PNG, SVG or PDF by the
suffix, atomically). Functions whose figure is one panel also take ``ax=``: they then draw into
that axes of the caller's figure and return that figure. Figures are made with Matplotlib's
object-oriented API, never through pyplot, so plotting never selects or switches the backend.

Figures have a fixed size in inches (each docstring says which), so a PNG is exactly
``width x dpi`` by ``height x dpi`` pixels; ``dpi`` defaults to 100.

>>> from mnistlab import plots
>>> fig = plots.roc_plot([0, 0.2, 1], [0, 0.9, 1], title="ROC")        # a Figure, nothing written
>>> plots.save(fig, "roc.png")                                          # PNG, SVG or PDF by suffix
>>> plots.roc_plot([0, 0.2, 1], [0, 0.9, 1], "roc.svg", title="ROC")    # draw and save at once
>>> fig = plots.new_figure(8, 4); ax1, ax2 = fig.subplots(1, 2)         # your own layout
>>> plots.accuracy_histogram(accs, title="inits", ax=ax1)
"""

from ._base import FIGURE_SUFFIXES, RIGHT, WRONG, check_figure_path, new_figure, save, save_figure
from ._calibration import reliability_diagram
from ._curves import compare_curves, learning_curves
from ._diagnostics import accuracy_histogram, confusion_heatmap, roc_plot
from ._gradients import gradient_images
from ._samples import example_rows, sample_grid
from ._weights import class_templates, conv_filters, weight_figure, weight_tiles

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
    "new_figure",
    "reliability_diagram",
    "roc_plot",
    "sample_grid",
    "save",
    "save_figure",
    "weight_figure",
    "weight_tiles",
]
