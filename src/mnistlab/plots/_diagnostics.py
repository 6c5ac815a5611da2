"""Diagnostics of a trained classifier: confusion matrix and ROC curve, and the accuracy of many
random initialisations (study S8). The reliability diagram is in ``_calibration``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError, check_int
from ._base import (
    DEFAULT_DPI,
    PALETTE,
    SEQUENTIAL,
    WRONG,
    as_array,
    check_ax,
    check_fraction,
    check_title,
    finish,
    one_axes,
    panel_title,
    start,
    styled,
    suptitle,
)

if TYPE_CHECKING:
    from jaxtyping import Float, Int
    from matplotlib.figure import Figure

MAX_ANNOTATED_CLASSES = 20
HISTOGRAM_SIZE = (6.8, 4.4)
ROC_SIZE = (5.6, 5.8)


# --- confusion matrix -----------------------------------------------------------------------------


def confusion_size(k: int) -> tuple[float, float]:
    side = 0.42 * min(max(k, 6), MAX_ANNOTATED_CLASSES)
    return 2.9 + side, 2.4 + side


@styled
def _draw_confusion_heatmap(
    cm: Int[np.ndarray, "k k"], class_names: Sequence[str], *, title: str, normalize: bool = True, ax=None
):
    check_title(title)
    if ax is not None:
        check_ax(ax)
    cm = as_array("cm", cm, 2, "(K, K) counts, rows true and columns predicted")
    k = cm.shape[0]
    if cm.shape != (k, k):
        raise ConfigError(
            f"cm must be square, (K, K) with rows true and columns predicted; got shape {cm.shape}"
        )
    if not np.all(np.isfinite(cm)) or cm.min() < 0:
        raise ConfigError("cm must hold counts (finite, non-negative); got negative or non-finite values")
    names = [str(c) for c in class_names]
    if len(names) != k:
        raise ConfigError(f"class_names must name the {k} classes of cm; got {len(names)} names")
    rows = cm.sum(axis=1, keepdims=True)
    fractions = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    shown = fractions if normalize else cm
    width, height = confusion_size(k)
    fig, ax, own = one_axes(ax, width, height)
    vmax = 1.0 if normalize else max(float(cm.max()), 1.0)
    image = ax.imshow(shown, cmap=SEQUENTIAL, vmin=0, vmax=vmax, interpolation="nearest")
    if k <= MAX_ANNOTATED_CLASSES:
        size = 9 if k <= 10 else 7
        for i in range(k):
            for j in range(k):
                count = round(cm[i, j])
                # White on dark cells, dark on light ones: readable whatever the colour.
                color = "white" if shown[i, j] > 0.55 * vmax else "#24292f"
                ax.text(j, i, f"{count:,}", ha="center", va="center", fontsize=size, color=color)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    if max((len(n) for n in names), default=0) > 3:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = int(cm.sum())
    detail = f"{total:,} examples, accuracy {np.trace(cm) / total:.2%}" if total else ""
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class" if normalize else "count")
    if own:
        ax.set_title(detail)
        suptitle(fig, title, width)
    else:
        panel_title(ax, title, detail)
    return fig


def confusion_heatmap(
    cm: Int[np.ndarray, "k k"],
    class_names: Sequence[str],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    normalize: bool = True,
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """The confusion matrix as a heatmap: rows are true classes, columns predicted ones. Returns the
    Figure, saved to ``path`` (PNG, SVG or PDF by its suffix) only when one is given.

    Colours are row fractions (``normalize=True``: each true class's share going to each prediction,
    so rare classes are as visible as common ones) or raw counts; the counts are written in the cells
    unless there are more than 20 classes.

    Size: (2.9 + 0.42 s) x (2.4 + 0.42 s) in with s = K clipped to [6, 20]: 710 x 660 px at
    ``dpi=100`` for 10 classes, 542 x 492 for 2.

    ``ax``: draw into this Matplotlib Axes of the caller's figure instead (the colour bar takes
    room beside it; ``title`` goes above it), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    fig = _draw_confusion_heatmap(cm, class_names, title=title, normalize=normalize, ax=ax)
    return finish(fig, path, dpi)


# --- accuracy over random initialisations ---------------------------------------------------------


@styled
def _draw_accuracy_histogram(
    accuracies: Float[np.ndarray, " n"],
    *,
    title: str,
    chance: float | None = None,
    bins: int = 20,
    xlabel: str = "test accuracy (%)",
    ax=None,
):
    check_title(title)
    if ax is not None:
        check_ax(ax)
    acc = as_array("accuracies", accuracies, 1, "(n,) fractions in [0, 1]")
    if not np.all(np.isfinite(acc)) or acc.min() < 0 or acc.max() > 1:
        raise ConfigError(
            "accuracies must be fractions in [0, 1] (not percent); "
            f"got values from {np.nanmin(acc):g} to {np.nanmax(acc):g}"
        )
    chance = check_fraction("chance", chance)
    bins = check_int("bins", bins)
    if bins < 1:
        raise ConfigError(f"bins must be at least 1; got {bins}")
    pct = 100 * acc
    width, height = HISTOGRAM_SIZE
    fig, ax, own = one_axes(ax, width, height)
    ax.hist(pct, bins=bins, color=PALETTE[0], edgecolor="white", label=f"{len(acc)} initialisations")
    mean = float(pct.mean())
    std = float(pct.std(ddof=1)) if len(pct) > 1 else 0.0
    ax.axvline(mean, color="#24292f", linewidth=2, label=f"mean {mean:.1f}% (std {std:.1f})")
    if chance is not None:
        ax.axvline(
            100 * chance, color=WRONG, linestyle="--", linewidth=1.5, label=f"chance {100 * chance:.0f}%"
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("number of initialisations")
    detail = f"range {pct.min():.1f}% to {pct.max():.1f}%"
    ax.grid(True, axis="y")
    ax.legend(loc="upper right")
    if own:
        ax.set_title(detail)
        suptitle(fig, title, width)
    else:
        panel_title(ax, title, detail)
    return fig


def accuracy_histogram(
    accuracies: Float[np.ndarray, " n"],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    chance: float | None = None,
    bins: int = 20,
    xlabel: str = "test accuracy (%)",
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """Histogram of the accuracy of many untrained, randomly initialised networks (study S8).
    Returns the Figure, saved to ``path`` only when one is given.

    ``accuracies`` are fractions in [0, 1] (shown in percent); the mean is marked with a solid line and
    ``chance`` (a fraction, e.g. 0.5 for two classes) with a dashed red one.

    Size: 6.8 x 4.4 in, 680 x 440 px at ``dpi=100``.

    ``ax``: draw into this Matplotlib Axes of the caller's figure instead (``title`` goes above
    it), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    fig = _draw_accuracy_histogram(accuracies, title=title, chance=chance, bins=bins, xlabel=xlabel, ax=ax)
    return finish(fig, path, dpi)


# --- ROC ------------------------------------------------------------------------------------------


@styled
def _draw_roc_plot(
    fpr: Float[np.ndarray, " n"],
    tpr: Float[np.ndarray, " n"],
    *,
    title: str,
    auc: float | None = None,
    ax=None,
):
    check_title(title)
    if ax is not None:
        check_ax(ax)
    fpr = as_array("fpr", fpr, 1, "(n,) false positive rates")
    tpr = as_array("tpr", tpr, 1, "(n,) true positive rates")
    if fpr.shape != tpr.shape or len(fpr) < 2:
        raise ConfigError(
            f"fpr and tpr must have the same length, at least 2; got {len(fpr)} and {len(tpr)} points"
        )
    for name, a in (("fpr", fpr), ("tpr", tpr)):
        if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
            raise ConfigError(f"{name} must be rates in [0, 1]; got values from {a.min():g} to {a.max():g}")
    auc = check_fraction("auc", auc)
    width, height = ROC_SIZE
    fig, ax, own = one_axes(ax, width, height)
    label = "ROC curve" + ("" if auc is None else f" (AUC {auc:.4f})")
    ax.plot(fpr, tpr, color=PALETTE[0], linewidth=2, label=label)
    ax.fill_between(fpr, tpr, color=PALETTE[0], alpha=0.08, linewidth=0)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#57606a", linewidth=1.2, label="chance (AUC 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.grid(True)
    ax.legend(loc="lower right")
    if own:
        suptitle(fig, title, width)
    else:
        panel_title(ax, title)
    return fig


def roc_plot(
    fpr: Float[np.ndarray, " n"],
    tpr: Float[np.ndarray, " n"],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    auc: float | None = None,
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """ROC curve of a binary classifier, with the diagonal of a random guess; ``auc`` in the legend.
    Returns the Figure, saved to ``path`` only when one is given.

    Size: 5.6 x 5.8 in, 560 x 580 px at ``dpi=100``.

    ``ax``: draw into this Matplotlib Axes of the caller's figure instead (``title`` goes above
    it), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    return finish(_draw_roc_plot(fpr, tpr, title=title, auc=auc, ax=ax), path, dpi)
