"""The reliability diagram: how well a classifier's confidence matches its accuracy."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError, check_int
from ._base import (
    DEFAULT_DPI,
    PALETTE,
    WRONG,
    check_fraction,
    check_title,
    finish,
    new_figure,
    start,
    styled,
    suptitle,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RELIABILITY_SIZE = (5.8, 6.6)


def _percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))


def _check_bins(bins) -> list[dict]:
    if isinstance(bins, str | bytes | Mapping) or not isinstance(bins, Sequence) or not bins:
        raise ConfigError(
            "bins must be a non-empty list of {'lower', 'upper', 'count', 'confidence', 'accuracy'} dicts; "
            f"got {bins!r:.80}"
        )
    out = []
    for i, b in enumerate(bins):
        missing = (
            {"lower", "upper", "count", "confidence", "accuracy"} - set(b)
            if isinstance(b, Mapping)
            else {"all"}
        )
        if missing:
            raise ConfigError(
                f"bins[{i}] must be a dict with lower, upper, count, confidence and accuracy; "
                f"got {b!r:.80} (missing {', '.join(sorted(missing))})"
            )
        lower, upper = float(b["lower"]), float(b["upper"])
        if not 0 <= lower < upper <= 1:
            raise ConfigError(
                f"bins[{i}] must have 0 <= lower < upper <= 1; got lower {lower}, upper {upper}"
            )
        count = check_int(f"bins[{i}]['count']", b["count"])
        conf, acc = b["confidence"], b["accuracy"]
        if count > 0 and (conf is None or acc is None):
            raise ConfigError(f"bins[{i}] holds {count} examples, so confidence and accuracy must be numbers")
        out.append(
            {
                "lower": lower,
                "upper": upper,
                "count": count,
                "confidence": None if conf is None else float(conf),
                "accuracy": None if acc is None else float(acc),
            }
        )
    return out


@styled
def _draw_reliability_diagram(bins: Sequence[Mapping], *, title: str, ece: float | None = None):
    from matplotlib.lines import Line2D

    check_title(title)
    bins = _check_bins(bins)
    ece = check_fraction("ece", ece)
    width, height = RELIABILITY_SIZE
    fig = new_figure(width, height)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    full = [b for b in bins if b["count"] > 0]
    lefts = np.array([b["lower"] for b in full])
    widths = np.array([b["upper"] - b["lower"] for b in full])
    acc = np.array([b["accuracy"] for b in full])
    conf = np.array([b["confidence"] for b in full])
    top.bar(lefts, acc, widths, align="edge", color=PALETTE[0], edgecolor="white", label="accuracy")
    # The gap drawn from the bar's top to the mean confidence: above the bar when over-confident.
    top.bar(
        lefts,
        conf - acc,
        widths,
        bottom=acc,
        align="edge",
        color=WRONG,
        alpha=0.25,
        edgecolor=WRONG,
        linewidth=0.6,
        hatch="//",
        label="gap to mean confidence",
    )
    top.plot([0, 1], [0, 1], linestyle="--", color="#57606a", linewidth=1.2, label="perfect calibration")
    handles, labels = top.get_legend_handles_labels()
    if ece is not None:
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(f"ECE {ece:.2%}")
        top.set_title(f"expected calibration error (ECE): {ece:.2%}")
    top.legend(handles, labels, loc="upper left")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    _percent_axis(top.yaxis)
    top.set_aspect("auto")
    top.grid(True, axis="y")

    all_lefts = np.array([b["lower"] for b in bins])
    all_widths = np.array([b["upper"] - b["lower"] for b in bins])
    counts = np.array([b["count"] for b in bins], dtype=float)
    bottom.bar(all_lefts, counts, all_widths, align="edge", color="#8c959f", edgecolor="white")
    positive = counts[counts > 0]
    # Most predictions of a good model sit in the top bin: a log scale keeps the others visible.
    if positive.size and positive.max() / positive.min() > 50:
        bottom.set_yscale("log")
    bottom.set_ylabel("examples" + (" (log)" if bottom.get_yscale() == "log" else ""))
    bottom.set_xlabel("confidence (the largest predicted probability)")
    bottom.set_xlim(0, 1)
    _percent_axis(bottom.xaxis)
    suptitle(fig, title, width)
    return fig


def reliability_diagram(
    bins: Sequence[Mapping],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    ece: float | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration.
    Returns the Figure, saved to ``path`` only when one is given.

    ``bins`` is a list of ``{"lower", "upper", "count", "confidence", "accuracy"}`` (fractions;
    confidence and accuracy are None for empty bins, which are left blank). Bars show each bin's
    accuracy, a hatched red bar the gap to its mean confidence, and a small histogram below the
    number of examples per bin. ``ece`` (a fraction) goes into the legend and the panel title.

    Size: 5.8 x 6.6 in, 580 x 660 px at ``dpi=100``. Two stacked panels: it takes no ``ax``.
    """
    path, dpi = start(path, dpi)
    return finish(_draw_reliability_diagram(bins, title=title, ece=ece), path, dpi)
