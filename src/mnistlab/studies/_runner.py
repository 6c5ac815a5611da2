"""The study runner: data, one start for every implementation, timing, progress, the results folder.

A study that compares implementations describes itself as a :class:`Comparison` (its title, the
network's sizes, how each implementation is built and labelled, its figure panels and table
columns); :func:`run_comparison` does the rest, the same way for every study:

- ONE draw of initial parameters and ONE batch order, shared by every implementation, so any
  difference between rows is a difference of implementation;
- timing: compilation apart, the epochs alone as "training", the per-epoch scoring of the whole
  training set (the learning curves) outside the timed region, prediction on the test set apart;
- the record in ``results.json`` (config, rows, notes, versions, device, dataset) and the files
  beside it (:func:`~mnistlab.studies.save_results`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._config import Recipe
from ._data import StudyData, load_data

# How the rows of every study are named, by implementation; a study adds its own.
LABELS = {
    "numpy": "numpy (hand-written)",
    "jax": "jax (hand-written, jit)",
    "jax-grad": "jax (jax.grad, jit)",
}
TRAINING_PANELS = (
    ("train_accuracy", "training accuracy", False),
    ("train_cross_entropy", "training cross-entropy", True),
)
INIT_TEXT = "s9: W = 4.9 * (U[0,1) - 0.5) * init_range / sqrt(fan_in + fan_out), b = 0; init_range 1"
ORDER_TEXT = "epoch e: permutation of the training set from fold_in(key, e), last batch kept"


# --- what a study declares -------------------------------------------------------------------


@dataclass(frozen=True)
class RowContext:
    """What one implementation's row is computed from; everything but ``recipe``, ``plan``,
    ``lrs`` and ``label`` is the same for every row of the study."""

    config: Any
    params: Any  # the shared initial parameters (NumPy), never modified
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    label: str
    recipe: Recipe
    plan: Any  # scratch.BatchPlan
    lrs: np.ndarray
    progress: Progress


@dataclass(frozen=True)
class Comparison:
    """How the runner builds and presents a study that compares implementations.

    ``trainer(name, recipe)`` makes the :mod:`mnistlab.scratch` trainer of implementation
    ``name`` (default :func:`scratch_trainer`); an implementation that is not trained that way
    (a timed fragment, a library with its own loop) has its own function in ``rows``, called with
    a :class:`RowContext`. ``row_note(row)`` adds a study's note under the table, ``recipe_cell(row)``
    replaces a row's recipe in the table (default its ``recipe_text``). ``panels`` are
    the figure's (curve key, axis label, log scale); ``columns`` the table's middle columns
    (keys of :data:`mnistlab.studies._output.COLUMNS`); ``sizes`` ``None`` is S9's network.
    """

    name: str
    title: str
    labels: Mapping[str, str] = field(default_factory=lambda: dict(LABELS))
    sizes: tuple[int, ...] | None = None
    trainer: Callable[[str, Recipe], Any] | None = None
    rows: Mapping[str, Callable[[RowContext], dict]] = field(default_factory=dict)
    row_note: Callable[[dict], str | None] | None = None
    recipe_cell: Callable[[dict], str] | None = None
    panels: tuple[tuple[str, str, bool], ...] = TRAINING_PANELS
    columns: tuple[str, ...] = ("predict",)
    reference: Mapping | None = None

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


@dataclass
class StudyResult:
    """A finished study: its folder (``None`` when not saved) and everything in results.json."""

    study: str
    out_dir: Path | None
    info: dict
    comparison: Comparison | None = field(default=None, repr=False, compare=False)

    @property
    def rows(self) -> list[dict]:
        return self.info["rows"]

    def row(self, name: str) -> dict:
        return next(r for r in self.rows if r["name"] == name)

    def __repr__(self) -> str:  # results.json's curves would make it thousands of characters
        names = ", ".join(r["name"] for r in self.rows)
        return f"StudyResult({self.study!r}, rows=[{names}], out_dir={self.out_dir!r})"

    def _repr_html_(self) -> str:
        from ._output import table_html

        return table_html(self)


class Progress:
    """One line per epoch on stderr (unless quiet)."""

    def __init__(self, quiet: bool, console=None, labels: Mapping[str, str] | None = None):
        from rich.console import Console

        self.quiet = quiet
        self.console = console or Console(stderr=True, highlight=False)
        self.labels = labels or LABELS

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, markup=False, highlight=False)

    def epoch(self, name: str, r: dict) -> None:
        parts = [
            f"{self.labels.get(name, name)}: epoch {r['epoch']}",
            f"{r['seconds']:.2f} s",
            f"lr {r['lr']:.4g}",
            f"train acc {100 * r['train_accuracy']:.2f}%",
            f"train CE {r['train_cross_entropy']:.4f}",
        ]
        if "test_accuracy" in r:
            parts.append(f"test acc {100 * r['test_accuracy']:.2f}%")
        self.note("  ".join(parts))


# --- rows ------------------------------------------------------------------------------------

CURVE_KEYS = (
    "epoch",
    "lr",
    "seconds",
    "eval_seconds",
    "mean_batch_loss",
    "train_accuracy",
    "train_cross_entropy",
    "test_accuracy",
    "test_cross_entropy",
)


def scratch_trainer(name: str, recipe: Recipe):
    """The trainer of ``numpy`` (batched hand-written passes), ``jax`` (hand-written, jitted) or
    ``jax-grad`` (``jax.grad``, jitted)."""
    from .. import scratch

    if name == "numpy":
        return scratch.NumpyTrainer("batched")
    return scratch.JaxTrainer({"jax": "manual", "jax-grad": "autograd"}[name])


def record(ctx: RowContext, result, predicted: dict | None, *, compiles: bool = True) -> dict:
    """The row of ``results.json`` of a trained implementation (``compiles``: it has a compiled
    program, whose seconds are reported; NumPy and sklearn have none)."""
    last = result.history[-1] if result.history else {}
    curves = {k: result.curve(k) for k in CURVE_KEYS if result.history and k in result.history[0]}
    row = {
        "name": ctx.name,
        "label": ctx.label,
        "recipe": asdict(ctx.recipe),
        "recipe_text": ctx.recipe.text(),
        "status": result.status,
        "message": result.message,
        "epochs_done": len(result.history),
        "compile_seconds": result.compile_seconds if compiles else None,
        "eval_compile_seconds": result.eval_compile_seconds,
        "train_seconds": result.train_seconds,
        "seconds_per_epoch": result.seconds_per_epoch,
        "final_train_accuracy": last.get("train_accuracy"),
        "final_train_cross_entropy": last.get("train_cross_entropy"),
        "scaled": False,
        "curves": curves,
    }
    if predicted:
        row.update(predicted)
        if not compiles:
            row["predict_compile_seconds"] = None
    return row


def trained_row(ctx: RowContext, trainer) -> dict:
    """Train ``trainer`` from the shared start and batch order, score every epoch, time prediction."""
    from .. import scratch

    ctx.progress.note(f"{ctx.label}: {ctx.recipe.text()}")
    result = scratch.train(
        trainer,
        ctx.params,
        ctx.x,
        ctx.y,
        ctx.plan,
        ctx.lrs,
        evals={"test": (ctx.x_test, ctx.y_test)},
        on_epoch=ctx.progress.epoch,
    )
    if result.compile_seconds:
        ctx.progress.note(
            f"{ctx.label}: compiled the epoch in {result.compile_seconds:.2f} s "
            f"(scoring programs {result.eval_compile_seconds:.2f} s)"
        )
    predicted = scratch.time_predict(trainer, result.state, ctx.x_test, ctx.y_test)
    return record(ctx, result, predicted, compiles=not isinstance(trainer, scratch.NumpyTrainer))


def _run_rows(comparison: Comparison, config, data: StudyData, progress: Progress) -> tuple[list[dict], dict]:
    import jax

    from .. import scratch

    sizes = comparison.sizes or scratch.SIZES
    init_key, order_key = jax.random.split(jax.random.key(config.seed))
    # Drawn once and shared: every implementation starts from these very arrays.
    params = scratch.init_params(init_key, sizes, dtype=config.dtype)
    x, y = data.x_train.astype(config.dtype, copy=False), data.y_train
    xt, yt = data.x_test.astype(config.dtype, copy=False), data.y_test
    plans: dict[tuple[int, int], scratch.BatchPlan] = {}

    def plan_for(recipe: Recipe):
        # Computed outside the float64 context, so the batch order does not depend on --dtype.
        key = (recipe.batch_size, recipe.epochs)
        if key not in plans:
            plans[key] = scratch.batch_plan(order_key, len(y), recipe.batch_size, recipe.epochs)
        return plans[key]

    make_trainer = comparison.trainer or scratch_trainer
    rows = []
    for name in config.implementations:
        recipe = config.recipe(name)
        plan = plan_for(recipe)
        lrs = scratch.lr_schedule(recipe.lr, recipe.anneal, recipe.epochs)
        label = comparison.label(name)
        ctx = RowContext(config, params, x, y, xt, yt, name, label, recipe, plan, lrs, progress)
        with scratch.precision(config.dtype):
            own = comparison.rows.get(name)
            # A function call per row: its trainer and results (device copies of the data) are
            # freed when it returns, before the next implementation starts.
            rows.append(own(ctx) if own is not None else trained_row(ctx, make_trainer(name, recipe)))
    shared = {
        "sizes": list(sizes),
        "num_params": scratch.num_params(params),
        "init": INIT_TEXT,
        "batch_order": ORDER_TEXT,
    }
    return rows, shared


# --- the study -------------------------------------------------------------------------------


def _notes(comparison: Comparison, rows: list[dict], data: StudyData) -> list[str]:
    n, m = len(data.y_train), len(data.y_test)
    notes = [
        "training s: the epochs alone (no compilation, no evaluation). After each epoch every one of "
        f"the {n:,} training images is scored (training accuracy and cross-entropy, the learning "
        "curves) outside the timing.",
        f"predict s: median of 3 predictions of all {m:,} test images after a warm-up (for JAX, "
        "including the copy of the images to the device); "
        "compile s is the epoch program's ahead-of-time compilation (numpy and sklearn have none).",
    ]
    for r in rows:
        note = comparison.row_note(r) if comparison.row_note is not None else None
        if note:
            notes.append(note)
        if r.get("status") == "diverged":
            notes.append(f"{r['label']}: {r['message']}")
    if data.notice:
        notes.append(data.notice)
    return notes


def _title(comparison: Comparison, config, data: StudyData) -> str:
    import jax

    return (
        f"{comparison.title} — {data.title} ({len(data.y_train):,} train / {len(data.y_test):,} test), "
        f"{config.dtype}, seed {config.seed}, {jax.default_backend()} ({os.cpu_count()} cores)"
    )


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    from ..runs import versions

    out = versions()
    for pkg in ("scikit-learn", "matplotlib"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_comparison(
    comparison: Comparison,
    config,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out: str | os.PathLike | None = None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """Run ``comparison`` with ``config``: every implementation from one start, timed, scored,
    tabulated and (``save``) saved to ``out`` (default ``studies/<name>-<time>``).

    ``data`` replaces loading ``config.dataset`` (tests pass small arrays); ``save=False`` writes
    nothing. Progress goes to stderr unless ``quiet``.
    """
    from ..runs import device_info, now
    from ._output import check_out, save_results

    progress = Progress(quiet, console, comparison.labels)
    if save:
        check_out(out)  # before any data is loaded
    if data is None:
        data = load_data(config.dataset, config.dtype, data_dir=data_dir, progress=not quiet)
    if data.notice:  # even when quiet: it says which data the numbers are about
        progress.console.print(f"note: {data.notice}", markup=False, highlight=False)
    title = _title(comparison, config, data)
    progress.note(title)
    rows, shared = _run_rows(comparison, config, data, progress)
    info = {
        "study": comparison.name,
        "title": title,
        "created": now(),
        "command": command,
        "config": config.as_dict(),
        "network": shared,
        "dataset": data.info(),
        "rows": rows,
        "notes": _notes(comparison, rows, data),
        "versions": _versions(),
        "device": device_info(),
    }
    if comparison.reference is not None:
        info["reference"] = comparison.reference
    out_dir = save_results(info, out, comparison.name, comparison=comparison) if save else None
    return StudyResult(comparison.name, out_dir, info, comparison)
