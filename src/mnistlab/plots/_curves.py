"""Learning curves: one run's accuracy and loss per epoch and loss per step; several runs overlaid."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._checks import Interval, NoneOK, check
from .._errors import ConfigError
from ._base import (
    DEFAULT_DPI,
    PALETTE,
    WRONG,
    as_array,
    check_ax,
    check_title,
    finish,
    new_figure,
    one_axes,
    panel_title,
    start,
    styled,
    suptitle,
)
from ._records import (
    SPLIT_LABELS,
    _check_records,
    _diverged_epochs,
    _mean_std,
    _metric_label,
    _series,
    _splits,
)

if TYPE_CHECKING:
    from jaxtyping import Float
    from matplotlib.figure import Figure

# Each split with a fixed colour in every figure.
SPLIT_STYLES = {
    "train": {"color": PALETTE[0], "linestyle": "-"},
    "train_eval": {"color": PALETTE[0], "linestyle": "--"},
    "validation": {"color": PALETTE[1], "linestyle": "-"},
    "test": {"color": PALETTE[2], "linestyle": "-"},
}
PANEL_WIDTH, PANEL_HEIGHT = 4.6, 4.0  # inches per learning-curve panel
COMPARE_SIZE = (7.6, 4.8)


def _line_with_band(ax, x, values, *, label, percent, style, marker):
    """The mean over seeds, and a mean ± std band when there are several seeds."""
    scale = 100.0 if percent else 1.0
    mean, std = _mean_std(values * scale)
    (line,) = ax.plot(x, mean, label=label, marker=marker, **style)
    if values.shape[1] > 1:
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.18, linewidth=0)
    return line


CHANCE = [NoneOK(), Interval(float, 0, 1)]


def _chance_line(ax, chance: float | None) -> None:
    """A grey dashed line at chance accuracy: a curve lying on it has learned nothing (a run
    stuck at chance, see mnistlab.train._health), which a bare 10% would not say."""
    if chance is not None:
        y = 100 * float(chance)
        ax.axhline(y, color="0.45", linestyle="--", linewidth=1.2, label=f"chance ({y:.1f}%)", zorder=1)


def _epoch_axes(ax, ylabel: str, diverged: list[float]) -> None:
    from matplotlib.ticker import MaxNLocator

    for i, e in enumerate(diverged):
        ax.axvline(e, color=WRONG, linestyle=":", linewidth=1.4, label="diverged" if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True)


def _log_if_positive(ax, values: np.ndarray, *, min_ratio: float = 1.0) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() >= min_ratio:
        ax.set_yscale("log")
        # Plain numbers (0.5, 2), not 10^0; and when the loss spans less than a decade (often), the
        # minor ticks (2, 3, ... 9 x 10^k) get labels too, or the axis would have one label or none.
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain if finite.max() / finite.min() < 10 else NullFormatter())


def moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (fewer at the start), skipping non-finite values, so a
    diverged step does not turn the rest of the curve into NaN."""
    y = np.asarray(y, np.float64)
    ok = np.isfinite(y)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    hi = np.arange(1, len(y) + 1)
    lo = np.maximum(0, hi - window)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def _step_panel(ax, step_loss: np.ndarray) -> None:
    seeds, steps = step_loss.shape
    x = np.arange(1, steps + 1)
    finite = np.where(np.isfinite(step_loss), step_loss, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = np.nanmean(finite, axis=0)
    # About 40 windows over the run, and at least 5 steps, so the trend shows through batch noise.
    window = max(5, steps // 40) if steps >= 20 else 1
    raw_label = "every step" if seeds == 1 else f"every step (mean of {seeds} seeds)"
    ax.plot(x, raw, color=PALETTE[0], alpha=0.3, linewidth=0.8, label=raw_label)
    if window > 1:
        smooth = np.stack([moving_average(row, window) for row in finite])
        mean, std = _mean_std(smooth.T)
        ax.plot(x, mean, color=PALETTE[0], linewidth=1.8, label=f"moving average of {window} steps")
        if seeds > 1:
            ax.fill_between(x, mean - std, mean + std, color=PALETTE[0], alpha=0.18, linewidth=0)
    _log_if_positive(ax, finite)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss" + (" (log scale)" if ax.get_yscale() == "log" else ""))
    ax.set_title("training loss per step")
    ax.grid(True)
    ax.legend(loc="upper right")


@styled
def _draw_learning_curves(
    epochs: list[dict],
    *,
    title: str,
    step_loss: Float[np.ndarray, "seeds steps"] | None = None,
    chance: float | None = None,
):
    records = _check_records("epochs", epochs)
    check_title(title)
    check("chance", chance, CHANCE)
    acc_splits = _splits(records, "_accuracy")
    loss_splits = _splits(records, "_loss")
    if not acc_splits and not loss_splits:
        keys = sorted({k for r in records for k in r})
        raise ConfigError(
            "epochs must hold records with <split>_loss or <split>_accuracy keys (as metrics.jsonl does); "
            f"got keys {keys}"
        )
    steps = None
    if step_loss is not None:
        steps = as_array("step_loss", step_loss, (1, 2), "(seeds, steps)")
        steps = steps[None] if steps.ndim == 1 else steps
    panels = [
        p for p, have in (("acc", acc_splits), ("loss", loss_splits), ("steps", steps is not None)) if have
    ]
    width = PANEL_WIDTH * len(panels)
    fig = new_figure(width, PANEL_HEIGHT)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    diverged = _diverged_epochs(records)
    n_epochs = len(records)
    marker = "o" if n_epochs <= 30 else None
    seeds = 1
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "steps":
            _step_panel(ax, steps)
            continue
        splits, suffix = (acc_splits, "_accuracy") if panel == "acc" else (loss_splits, "_loss")
        all_values = []
        for split in splits:
            x, values = _series(records, split + suffix)
            seeds = max(seeds, values.shape[1])
            all_values.append(values)
            style = SPLIT_STYLES.get(split, {"color": PALETTE[(3 + len(all_values)) % len(PALETTE)]})
            _line_with_band(
                ax,
                x,
                values,
                label=SPLIT_LABELS.get(split, split.replace("_", " ")),
                percent=panel == "acc",
                style=style,
                marker=marker,
            )
        if panel == "acc":
            _chance_line(ax, chance)
            _epoch_axes(ax, "accuracy (%)", diverged)
            ax.set_title("accuracy per epoch")
        else:
            _log_if_positive(ax, np.concatenate([v.ravel() for v in all_values]), min_ratio=30)
            log = ax.get_yscale() == "log"
            _epoch_axes(ax, "loss (log scale)" if log else "loss", diverged)
            ax.set_title("loss per epoch")
        ax.legend(
            loc="best",
            title=f"mean ± std over {seeds} seeds" if seeds > 1 else None,
        )
    suptitle(fig, title, width)
    return fig


def learning_curves(
    epochs: Sequence[Mapping],
    path: str | os.PathLike | None = None,
    *,
    title: str,
    step_loss: Float[np.ndarray, "seeds steps"] | None = None,
    chance: float | None = None,
    dpi: int = DEFAULT_DPI,
) -> Figure:
    """Accuracy and loss per epoch on every split present, and optionally the loss of every step;
    returns the Figure, saved to ``path`` (PNG, SVG or PDF by its suffix) only when one is given.

    ``epochs`` is the list of records of a run's metrics.jsonl (see :func:`mnistlab.train.read_metrics`):
    each has ``"epoch"`` and, per split (train, train_eval, validation, test), ``<split>_loss`` and
    ``<split>_accuracy`` as a number (one seed) or a per-seed list. Missing keys are skipped (an
    autoencoder has no accuracy: no accuracy panel); nulls (a diverged epoch) leave a gap, and a
    record with ``"diverged": true`` gets a red dotted line. Several seeds: the mean, with a shaded
    mean ± std band. Accuracy is in percent. ``step_loss`` ``(seeds, steps)`` adds a panel with every
    step's loss (light) and its moving average, on a log scale when all values are positive.
    ``chance`` (a fraction, e.g. run.json's ``chance["accuracy"]``) draws a dashed line at chance
    accuracy on the accuracy panel.

    Size: one 4.6 x 4.0 in panel per plot, side by side (accuracy, loss, steps): 1380 x 400 px at
    ``dpi=100`` with all three, 920 x 400 with two (no ``step_loss``, or no accuracy), 460 x 400
    with one. Several panels: it draws a whole figure, so it takes no ``ax``.
    """
    path, dpi = start(path, dpi)
    drawn = _draw_learning_curves(epochs, title=title, step_loss=step_loss, chance=chance)
    return finish(drawn, path, dpi)


@styled
def _draw_compare_curves(
    runs: Mapping[str, Sequence[Mapping]], *, metric: str, title: str, chance: float | None = None, ax=None
):
    check_title(title)
    check("chance", chance, CHANCE)
    if ax is not None:  # a bad axes fails before any work
        check_ax(ax)
    if not isinstance(runs, Mapping) or not runs:
        raise ConfigError(
            "runs must be a non-empty mapping of label -> per-epoch records (e.g. {'lr 0.1': records}); "
            f"got {runs!r:.80}"
        )
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"metric must be a metric name such as 'test_accuracy'; got {metric!r}")
    records = {str(label): _check_records(f"runs[{label!r}]", recs) for label, recs in runs.items()}
    have = {label: recs for label, recs in records.items() if any(metric in r for r in recs)}
    if not have:
        keys = sorted(
            {k for recs in records.values() for r in recs for k in r if k.endswith(("_loss", "_accuracy"))}
        )
        raise ConfigError(f"metric must be one that the runs record, one of {keys}; got {metric!r}")
    percent = metric.endswith("_accuracy")
    width, height = COMPARE_SIZE
    fig, ax, own = one_axes(ax, width, height)
    if len(have) <= len(PALETTE):
        colors = list(PALETTE)
    else:  # more runs than distinct colours: an ordered colormap keeps neighbours apart
        from matplotlib import colormaps

        colors = [colormaps["viridis"](t) for t in np.linspace(0, 0.95, len(have))]
    max_epochs = max(len(recs) for recs in have.values())
    seeds = 1
    for (label, recs), color in zip(have.items(), colors, strict=False):
        x, values = _series(recs, metric)
        seeds = max(seeds, values.shape[1])
        suffix = " (diverged)" if _diverged_epochs(recs) else ""
        line = _line_with_band(
            ax,
            x,
            values,
            label=label + suffix,
            percent=percent,
            style={"color": color},
            marker="o" if max_epochs <= 30 else None,
        )
        if suffix:
            mean, _ = _mean_std(values)
            good = np.flatnonzero(np.isfinite(mean))
            if good.size:  # mark where the run stopped
                end = good[-1]
                y = mean[end] * (100 if percent else 1)
                ax.plot(x[end], y, marker="X", markersize=9, color=line.get_color(), linestyle="none")
    missing = [label for label in records if label not in have]
    if percent:
        _chance_line(ax, chance)
    else:
        _log_if_positive(
            ax, np.concatenate([_series(r, metric)[1].ravel() for r in have.values()]), min_ratio=30
        )
    ylabel = _metric_label(metric)
    if ax.get_yscale() == "log":
        ylabel += " (log scale)"
    _epoch_axes(ax, ylabel, [])
    ax.set_title(f"{_metric_label(metric, units=False)} per epoch, one line per run")
    legend_title = f"mean ± std over {seeds} seeds" if seeds > 1 else None
    if missing:
        note = f"no {metric}: {', '.join(missing)}"
        legend_title = f"{legend_title}; {note}" if legend_title else note
    if len(have) > 8 and own:
        fig.legend(loc="outside right upper", title=legend_title)
    elif len(have) > 8:  # the caller's figure has its own layout: beside the axes, not over the lines
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title=legend_title)
    else:
        ax.legend(loc="best", title=legend_title)
    if own:
        suptitle(fig, title, width)
    else:
        panel_title(ax, title)
    return fig


def compare_curves(
    runs: Mapping[str, Sequence[Mapping]],
    path: str | os.PathLike | None = None,
    *,
    metric: str = "test_accuracy",
    title: str,
    chance: float | None = None,
    dpi: int = DEFAULT_DPI,
    ax=None,
) -> Figure:
    """Several runs' ``metric`` per epoch on one axes, one line per run (study S5: one per learning rate);
    returns the Figure, saved to ``path`` only when one is given.

    ``runs`` maps a legend label (e.g. ``"lr 0.1"``) to that run's metrics.jsonl records. Multi-seed
    runs show their mean and a mean ± std band; accuracies are in percent; a diverged run is marked
    with an X where its values end. Runs that lack ``metric`` are named in the legend's title; it is
    an error only when no run has it. ``chance`` (a fraction) draws a dashed line at chance
    accuracy when ``metric`` is an accuracy (S5: the lr that never leaves it).

    Size: 7.6 x 4.8 in, 760 x 480 px at ``dpi=100``; with more than eight runs the legend moves
    outside the axes, to the right.

    ``ax``: draw into this Matplotlib Axes of the caller's figure instead (``title`` then goes above
    the axes), and return that figure (``ax.figure``).
    """
    path, dpi = start(path, dpi)
    return finish(_draw_compare_curves(runs, metric=metric, title=title, chance=chance, ax=ax), path, dpi)
