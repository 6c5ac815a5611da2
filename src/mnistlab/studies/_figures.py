"""The figures a study's "Figures" line asks for, drawn from its finished runs.

Each drawer takes the :class:`Context` of a finished study and returns ``[(title, Figure,
caption)]``; a study names the drawers it wants (``figures=("curves", "templates")``). Curves
carry the study's reference numbers as markers (hollow diamonds, labelled), a dotted chance line
where the study has a chance-level reference, and an ``x`` where a run diverged, so a reader sees
at once where ours and the course's numbers meet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._verdict import chance_level, mean_std, stuck_at_chance

Shown = tuple[str, Any, str]

SPLIT_LABEL = {
    "test_accuracy": "test",
    "train_eval_accuracy": "train (all images, after the epoch)",
    "train_accuracy": "train (running, during the epoch)",
    "validation_accuracy": "validation",
}


@dataclass
class Context:
    study: Any
    runs: dict  # member name -> RunView
    analysis: dict = field(default_factory=dict)
    verdicts: list = field(default_factory=list)
    data_dir: Any = None
    figures: list = field(default_factory=list)  # an analysis adds its own here
    settings: Any = None  # the study's Settings (an analysis reads ``quick``)


def _band(ax, x, per_seed, *, label, style="-", marker="o", color=None):
    stats = np.array([mean_std(v) for v in per_seed], dtype=float)
    if not len(stats):
        return None
    m, s = 100 * stats[:, 0], 100 * stats[:, 1]
    (line,) = ax.plot(x, m, style, marker=marker, ms=3, lw=1.6, label=label, color=color)
    if len(per_seed[0]) > 1:
        ax.fill_between(x, m - s, m + s, alpha=0.2, color=line.get_color(), lw=0)
    return line


def _references(ax, study, member: str, metric: str, color) -> None:
    for ref in study.references:
        if ref.run != member or ref.metric != metric or ref.chance:
            continue
        if ref.low is not None:
            ax.plot([ref.epoch], [100 * ref.low], marker="d", mfc="none", mec=color, ms=8, ls="")
            ax.axhspan(100 * ref.low, 100 * ref.high, color=color, alpha=0.08)
        else:
            ax.plot([ref.epoch], [100 * ref.value], marker="d", mfc="none", mec=color, mew=1.6, ms=9, ls="")


def _axes_common(ax, ylabel="accuracy (%)"):
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def accuracy_panel(ax, ctx: Context, members, metrics, *, chance: bool = False) -> None:
    """Mean (+- std band over seeds) of ``metrics`` per member, reference markers, divergences."""
    for name in members:
        run = ctx.runs.get(name)
        if run is None:
            continue
        x = run.epochs()
        for i, metric in enumerate(metrics):
            curve = run.curve(metric)
            if not curve or all(v is None for seed in curve for v in seed):
                continue
            label = f"{run.label}: {SPLIT_LABEL.get(metric, metric)}" if len(metrics) > 1 else run.label
            line = _band(ax, x, curve, label=label, style="-" if i == 0 else "--", marker="os^v"[i % 4])
            if line is None:
                continue
            _references(ax, ctx.study, name, metric, line.get_color())
            diverged = run.info.get("status") == "diverged"
            # A finite loss at chance accuracy (S5's lr 2) is divergence too, whatever the status says.
            expected = any(r.chance and r.run == name for r in ctx.study.references)
            at_chance = expected and metric == "test_accuracy" and stuck_at_chance(run)
            if (diverged or at_chance) and x:
                y = 100 * (mean_std(curve[-1])[0] or 0)
                ax.plot([x[-1]], [y], "x", color="red", ms=10, mew=2)
                text = "diverged" if diverged else "diverged: at chance all run"
                ax.annotate(text, (x[-1], y), color="red", fontsize=8, ha="right", va="bottom")
    if chance and ctx.runs:
        level = 100 * chance_level(next(iter(ctx.runs.values())))
        ax.axhline(level, ls=":", color="gray", lw=1)
        ax.annotate("chance", (ax.get_xlim()[0], level), color="gray", fontsize=8, va="bottom")
    _axes_common(ax)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")


def _has_chance_ref(study) -> bool:
    return any(r.chance for r in study.references)


MARKER_NOTE = "Hollow diamonds: the reference numbers of studies.md (shaded: a reference range)."


def curves(ctx: Context) -> list[Shown]:
    """Test accuracy per epoch, one line per run (mean +- std over seeds), references marked."""
    from ..plots import new_figure

    fig = new_figure(7.5, 4.4)
    ax = fig.subplots()
    metrics = ["test_accuracy"]
    if any("train_eval_accuracy" in (r.records[0] if r.records else {}) for r in ctx.runs.values()):
        metrics.append("train_eval_accuracy")
    accuracy_panel(ax, ctx, list(ctx.runs), metrics, chance=_has_chance_ref(ctx.study))
    ax.set_title(f"{ctx.study.number}: accuracy per epoch", fontsize=10)
    seeds = max((len(r.config.seeds) for r in ctx.runs.values()), default=1)
    band = f" Shaded bands: mean +- std over {seeds} seeds." if seeds > 1 else ""
    return [("Accuracy per epoch", fig, MARKER_NOTE + band)]


def train_vs_test(ctx: Context) -> list[Shown]:
    """One panel per run: train and test accuracy per epoch (S6's under- and overfitting)."""
    from ..plots import new_figure

    names = list(ctx.runs)
    fig = new_figure(5.0 * len(names), 4.2)
    axes = np.atleast_1d(fig.subplots(1, len(names)))
    for ax, name in zip(axes, names, strict=True):
        accuracy_panel(ax, ctx, [name], ["train_eval_accuracy", "test_accuracy"])
        ax.set_title(ctx.runs[name].label, fontsize=9)
    return [("Train vs test accuracy", fig, MARKER_NOTE)]


def train_vs_validation(ctx: Context) -> list[Shown]:
    """Train and validation accuracy per epoch, the test accuracy at the end as a star (S12)."""
    from ..plots import new_figure

    fig = new_figure(7.5, 4.4)
    ax = fig.subplots()
    accuracy_panel(ax, ctx, list(ctx.runs), ["train_eval_accuracy", "validation_accuracy"])
    for run in ctx.runs.values():
        test = run.curve("test_accuracy")
        if test:
            m = mean_std(test[-1])[0]
            ax.plot([run.epochs()[-1]], [100 * m], "*", ms=12, color="black", label="test (end)")
            ax.annotate(f"test {100 * m:.2f}%", (run.epochs()[-1], 100 * m), fontsize=8, va="top")
    ax.legend(fontsize=7, loc="lower right")
    return [("Train and validation accuracy", fig, "The star: test accuracy after the last epoch.")]


def _params(run, seed_index: int = 0):
    """The final parameters of ``run`` (one seed), as a plain nested dict of NumPy arrays: those
    kept from training in this call, else read back from the run folder."""
    import jax

    params = run.params
    if params is None:
        from ..evaluate import load_run

        params = load_run(run.path).params
    return jax.tree.map(lambda a: np.asarray(a[seed_index]), params)


def _kernels(tree) -> list[tuple[str, np.ndarray]]:
    import jax

    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    out = []
    for path, leaf in leaves:
        name = "/".join(str(getattr(p, "key", p)) for p in path)
        if name.endswith("kernel") and np.ndim(leaf) == 2:
            out.append((name, np.asarray(leaf)))
    return out


def templates(ctx: Context) -> list[Shown]:
    """S1: each run's ten class templates, on one symmetric colour scale per figure."""
    from ..plots import class_templates

    shown = []
    for run in ctx.runs.values():
        params = _params(run)
        kernel = _kernels(params)[0][1]
        names = run.info.get("dataset", {}).get("class_names", [str(i) for i in range(kernel.shape[1])])
        fig = class_templates(kernel, names, title=f"{run.label}: the learned weight vectors")
        shown.append((f"Class templates: {run.label}", fig, "One symmetric scale per figure: white is 0."))
    return shown


def first_layer(ctx: Context) -> list[Shown]:
    """S2: the first layer's weights as images (the first 64 hidden units)."""
    from ..plots import weight_tiles

    shown = []
    for run in ctx.runs.values():
        params = _params(run)
        kernel = _kernels(params)[0][1]
        fig = weight_tiles(kernel, title=f"{run.label}: first-layer weights", n=64)
        shown.append((f"First-layer weights: {run.label}", fig, "Each unit on its own symmetric scale."))
    return shown


def loss_curves(ctx: Context) -> list[Shown]:
    """Training loss and test accuracy per epoch (S8)."""
    from ..plots import new_figure

    fig = new_figure(10, 4.0)
    ax1, ax2 = fig.subplots(1, 2)
    for run in ctx.runs.values():
        _band_loss(ax1, run)
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.grid(True, alpha=0.3)
    accuracy_panel(ax2, ctx, list(ctx.runs), ["test_accuracy"])
    return [("Loss and test accuracy", fig, MARKER_NOTE)]


def _band_loss(ax, run) -> None:
    curve = run.curve("train_loss")
    stats = np.array([mean_std(v) for v in curve], dtype=float)
    if len(stats):
        ax.plot(run.epochs(), stats[:, 0], "-o", ms=3, label=run.label)


def from_analysis(ctx: Context) -> list[Shown]:
    """The figures an analysis step drew (S8's probes, S10's features, S11's cosine)."""
    return list(ctx.figures)


DRAWERS: dict[str, Callable[[Context], list[Shown]]] = {
    "curves": curves,
    "train-vs-test": train_vs_test,
    "train-vs-validation": train_vs_validation,
    "templates": templates,
    "first-layer": first_layer,
    "loss": loss_curves,
    "analysis": from_analysis,
}


def draw(ctx: Context) -> list[Shown]:
    shown = []
    for name in ctx.study.figures:
        shown += DRAWERS[name](ctx)
    return shown
