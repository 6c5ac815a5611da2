"""Study S9 and its follow-ups as runs: data, timing, a table, learning curves, a results folder.

``run_backprop`` trains the [500, 250] network with each implementation of
:mod:`mnistlab.scratch` from ONE draw of initial parameters and ONE batch order, plus the
scikit-learn baseline, and times each the same way: compilation apart, the epochs alone as
"training", the per-epoch scoring of the whole training set (the learning curves) outside the
timed region, and prediction on the test set apart. ``run_logistic`` does the same for
multinomial logistic regression (NumPy by hand against ``jax.grad``); ``run_optimizers`` trains
the network by Adam and by SGD from the same start.

Results folder (every file written atomically, ``results.json`` last)::

    results.json   config, one record per implementation (timings, accuracies, curves),
                   versions, device, dataset, the S9 reference numbers
    results.csv    the table, one row per implementation
    curves.csv     the learning curves, one row per implementation and epoch
    curves.png     the learning curves (also curves.svg)
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from jaxtyping import Float, Int

from .._errors import ConfigError
from .._fs import atomic_write_bytes

DATASETS = ("auto", "mnist", "fashion-mnist", "kmnist", "mnist-sample")
DTYPES = ("float32", "float64")
IMPLEMENTATIONS = ("numpy", "einsum", "jax", "jax-grad", "sklearn")
LABELS = {
    "numpy": "numpy (hand-written)",
    "einsum": "numpy (per-example einsum)",
    "jax": "jax (hand-written, jit)",
    "jax-grad": "jax (jax.grad, jit)",
    "sklearn": "sklearn MLPClassifier",
    "sgd": "SGD (jax.grad, jit)",
    "adam": "Adam (jax.grad, jit)",
}
LOGISTIC_IMPLEMENTATIONS = ("numpy", "jax-grad")
RESULT_FILES = ("results.json", "results.csv", "curves.csv", "curves.png", "curves.svg")

# What S9 reports (MNIST, 60k / 10k; NumPy on a CPU, JAX on a P100 GPU), kept beside our numbers.
S9_REFERENCE = {
    "speed_table": {
        "recipe": "3 epochs, batch 100, lr 0.1, annealing 0.99",
        "numpy": {"train_seconds": 293.0, "test_accuracy": 0.9646, "device": "CPU"},
        "jax": {"train_seconds": 28.8, "test_accuracy": 0.9682, "device": "P100 GPU"},
        "jax-grad": {"train_seconds": 58.2, "test_accuracy": 0.9683, "device": "P100 GPU"},
        "predict_seconds_10k": {"numpy": 0.333, "jax": 0.017},
    },
    "full": {
        "numpy": {"recipe": "batch 10, lr 0.1, annealing 0.9, 12 epochs", "test_accuracy": 0.9850},
        "jax": {"recipe": "batch 10, lr 0.1, annealing 0.9, 12 epochs", "test_accuracy": 0.9863},
        "jax-grad": {"recipe": "batch 50, lr 0.1, annealing 0.98, 20 epochs", "test_accuracy": 0.9830},
        "sklearn": {"recipe": "S9 settings, 20 iterations", "train_accuracy": 1.0, "test_accuracy": 0.985},
    },
}


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How one implementation is trained: epochs, batch size, learning rate, per-epoch factor."""

    epochs: int
    batch_size: int
    lr: float
    anneal: float

    def text(self) -> str:
        lr = f"lr {self.lr:g}" + (f" ×{self.anneal:g}/epoch" if self.anneal != 1 else " constant")
        return f"{_n_epochs(self.epochs)}, batch {self.batch_size}, {lr}"


def _n_epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


# S9's longer runs: (a) and (b) batch 10, annealing 0.9, 12 epochs; (c) batch 50, annealing
# 0.98, 20 epochs; sklearn its 20 iterations of batch 200.
FULL_RECIPES = {
    "numpy": Recipe(12, 10, 0.1, 0.9),
    "einsum": Recipe(12, 10, 0.1, 0.9),
    "jax": Recipe(12, 10, 0.1, 0.9),
    "jax-grad": Recipe(20, 50, 0.1, 0.98),
    "sklearn": Recipe(20, 200, 0.1, 1.0),
}


def _check_choice(option: str, value, allowed: Sequence[str], fix: str = "") -> None:
    if value not in allowed:
        raise ConfigError(f"{option} must be one of {', '.join(allowed)}; got {value!r}{fix}")


def _check_int(option: str, value, *, low: int = 1, example: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        hint = f" (e.g. {option} {example})" if example is not None else ""
        raise ConfigError(f"{option} must be an integer >= {low}; got {value!r}{hint}")


def _check_lr(option: str, value, example: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ConfigError(
            f"{option} must be a positive finite number; got {value!r} (e.g. {option} {example:g})"
        )


def _check_anneal(value) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and 0 < value <= 1)
    ):
        raise ConfigError(
            f"--anneal must be in (0, 1]: the factor lr is multiplied by after each epoch, 1 keeping "
            f"it constant; got {value!r} (e.g. --anneal 0.99)"
        )


def _check_common(c) -> None:
    _check_choice(
        "--dataset",
        c.dataset,
        DATASETS,
        " (`mnistlab data list` shows them; auto is MNIST or the offline sample)",
    )
    _check_choice("--dtype", c.dtype, DTYPES, " (e.g. --dtype float64)")
    if isinstance(c.seed, bool) or not isinstance(c.seed, int) or not 0 <= c.seed < 2**32:
        raise ConfigError(f"--seed must be an integer in [0, 2**32); got {c.seed!r} (e.g. --seed 0)")


def parse_skip(skip, allowed: Sequence[str]) -> tuple[str, ...]:
    """``"sklearn,einsum"`` or a sequence of names -> a tuple of known implementation names."""
    if skip is None:
        return ()
    names = [s.strip() for s in skip.split(",")] if isinstance(skip, str) else [str(s) for s in skip]
    names = [s for s in names if s]
    bad = [s for s in names if s not in allowed]
    if bad:
        raise ConfigError(
            f"--skip takes comma-separated implementations among {', '.join(allowed)}; got "
            f"{', '.join(map(repr, bad))} (e.g. --skip {allowed[-1]})"
        )
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class BackpropConfig:
    """``mnistlab study backprop``. ``epochs``, ``batch_size``, ``lr`` and ``anneal`` apply to
    numpy, einsum, jax and jax-grad (``None``: 3, 100, 0.1, 0.99, S9's speed table); sklearn
    keeps S9's settings (batch 200, constant lr 0.1, Nesterov momentum 0.9, alpha 1e-4) with
    ``max_iter = epochs``. ``full`` runs S9's longer recipes (:data:`FULL_RECIPES`) instead and
    then takes none of those four. The einsum row times ``einsum_steps`` steps and scales them
    to the recipe's epochs."""

    dataset: str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    anneal: float | None = None
    dtype: str = "float32"
    seed: int = 0
    full: bool = False
    einsum_steps: int = 20
    skip: tuple[str, ...] = ()

    def __post_init__(self):
        _check_common(self)
        object.__setattr__(self, "skip", parse_skip(self.skip, IMPLEMENTATIONS))
        given = [
            f"--{f.name.replace('_', '-')}"
            for f in fields(self)
            if f.name in ("epochs", "batch_size", "lr", "anneal") and getattr(self, f.name) is not None
        ]
        if self.full and given:
            raise ConfigError(
                f"--full runs S9's own recipes (batch 10, annealing 0.9, 12 epochs for numpy and jax; "
                f"batch 50, annealing 0.98, 20 epochs for jax-grad; 20 sklearn iterations); got "
                f"{', '.join(given)} too: drop {'it' if len(given) == 1 else 'them'} or drop --full"
            )
        if self.epochs is not None:
            _check_int("--epochs", self.epochs, example=3)
        if self.batch_size is not None:
            _check_int("--batch-size", self.batch_size, example=100)
        if self.lr is not None:
            _check_lr("--lr", self.lr, 0.1)
        if self.anneal is not None:
            _check_anneal(self.anneal)
        _check_int("--einsum-steps", self.einsum_steps, example=20)
        if not set(IMPLEMENTATIONS) - set(self.skip):
            raise ConfigError(f"--skip {','.join(self.skip)} leaves nothing to run; skip fewer of them")

    @property
    def implementations(self) -> tuple[str, ...]:
        return tuple(i for i in IMPLEMENTATIONS if i not in self.skip)

    def recipe(self, impl: str) -> Recipe:
        if self.full:
            return FULL_RECIPES[impl]
        epochs = 3 if self.epochs is None else self.epochs
        if impl == "sklearn":
            s9 = FULL_RECIPES["sklearn"]
            return Recipe(epochs, s9.batch_size, s9.lr, 1.0)
        return Recipe(
            epochs,
            100 if self.batch_size is None else self.batch_size,
            0.1 if self.lr is None else float(self.lr),
            0.99 if self.anneal is None else float(self.anneal),
        )

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        d["recipes"] = {i: asdict(self.recipe(i)) for i in self.implementations}
        return d


@dataclass(frozen=True)
class LogisticConfig:
    """``mnistlab study logistic``: multinomial logistic regression (784 -> 10, softmax +
    cross-entropy, S9's initialisation) by NumPy with a hand-written gradient and by ``jax.grad``."""

    dataset: str = "auto"
    epochs: int = 5
    batch_size: int = 100
    lr: float = 0.1
    anneal: float = 0.99
    dtype: str = "float32"
    seed: int = 0
    skip: tuple[str, ...] = ()

    def __post_init__(self):
        _check_common(self)
        object.__setattr__(self, "skip", parse_skip(self.skip, LOGISTIC_IMPLEMENTATIONS))
        _check_int("--epochs", self.epochs, example=5)
        _check_int("--batch-size", self.batch_size, example=100)
        _check_lr("--lr", self.lr, 0.1)
        _check_anneal(self.anneal)
        if not set(LOGISTIC_IMPLEMENTATIONS) - set(self.skip):
            raise ConfigError(f"--skip {','.join(self.skip)} leaves nothing to run; skip fewer of them")

    @property
    def implementations(self) -> tuple[str, ...]:
        return tuple(i for i in LOGISTIC_IMPLEMENTATIONS if i not in self.skip)

    def recipe(self, impl: str) -> Recipe:
        return Recipe(self.epochs, self.batch_size, float(self.lr), float(self.anneal))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        return d


@dataclass(frozen=True)
class OptimizersConfig:
    """``mnistlab study optimizers``: the [500, 250] network trained by SGD (``lr``) and by Adam
    (``adam_lr``), both with ``jax.grad``, from the same initial parameters and batch order;
    both learning rates are multiplied by ``anneal`` after each epoch."""

    dataset: str = "auto"
    epochs: int = 5
    batch_size: int = 100
    lr: float = 0.1
    adam_lr: float = 0.001
    anneal: float = 0.99
    dtype: str = "float32"
    seed: int = 0

    def __post_init__(self):
        _check_common(self)
        _check_int("--epochs", self.epochs, example=5)
        _check_int("--batch-size", self.batch_size, example=100)
        _check_lr("--lr", self.lr, 0.1)
        _check_lr("--adam-lr", self.adam_lr, 0.001)
        _check_anneal(self.anneal)

    @property
    def implementations(self) -> tuple[str, ...]:
        return ("sgd", "adam")

    def recipe(self, impl: str) -> Recipe:
        lr = self.lr if impl == "sgd" else self.adam_lr
        return Recipe(self.epochs, self.batch_size, float(lr), float(self.anneal))

    def as_dict(self) -> dict:
        return asdict(self)


# --- data ------------------------------------------------------------------------------------


@dataclass
class StudyData:
    """The arrays every implementation sees: pixels scaled to [0, 1] and flattened to 784."""

    x_train: Float[np.ndarray, "n 784"]
    y_train: Int[np.ndarray, " n"]
    x_test: Float[np.ndarray, "m 784"]
    y_test: Int[np.ndarray, " m"]
    name: str
    title: str
    notice: str | None = None
    provenance: dict = field(default_factory=dict)

    def info(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "sizes": {"train": len(self.y_train), "test": len(self.y_test)},
            "notice": self.notice,
            "provenance": self.provenance,
        }


def load_data(dataset: str, dtype: str = "float32", *, data_dir=None, progress: bool = True) -> StudyData:
    """Load a dataset as ``mnistlab train`` does (``auto``: MNIST when cached or downloadable,
    else the bundled sample, with a notice saying so), scaled to [0, 1] and flattened."""
    from ..data import scale
    from ..train import TrainConfig, prepare_data

    _check_choice("--dataset", dataset, DATASETS)
    run = prepare_data(TrainConfig(dataset=dataset, preprocess="scale"), data_dir=data_dir, progress=progress)
    train, test = run.train, run.evals["test"]

    def flat(ds):
        return scale(ds.images, dtype).reshape(len(ds), -1)

    return StudyData(
        flat(train),
        np.asarray(train.labels, np.int32),
        flat(test),
        np.asarray(test.labels, np.int32),
        name=run.config.dataset,
        title=train.title,
        notice=run.notice,
        provenance={"train": train.provenance.as_dict(), "test": test.provenance.as_dict()},
    )


# --- running ---------------------------------------------------------------------------------


@dataclass
class StudyResult:
    """A finished study: its folder (``None`` when not saved) and everything in results.json."""

    study: str
    out_dir: Path | None
    info: dict

    @property
    def rows(self) -> list[dict]:
        return self.info["rows"]

    def row(self, name: str) -> dict:
        return next(r for r in self.rows if r["name"] == name)


class _Progress:
    """One line per epoch on stderr (unless quiet)."""

    def __init__(self, quiet: bool, console=None):
        from rich.console import Console

        self.quiet = quiet
        self.console = console or Console(stderr=True, highlight=False)

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, markup=False, highlight=False)

    def epoch(self, name: str, r: dict) -> None:
        parts = [
            f"{LABELS.get(name, name)}: epoch {r['epoch']}",
            f"{r['seconds']:.2f} s",
            f"lr {r['lr']:.4g}",
            f"train acc {100 * r['train_accuracy']:.2f}%",
            f"train CE {r['train_cross_entropy']:.4f}",
        ]
        if "test_accuracy" in r:
            parts.append(f"test acc {100 * r['test_accuracy']:.2f}%")
        self.note("  ".join(parts))


def _row(name: str, recipe: Recipe, result, predicted: dict | None) -> dict:
    last = result.history[-1] if result.history else {}
    curves = {
        k: result.curve(k)
        for k in (
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
        if result.history and k in result.history[0]
    }
    row = {
        "name": name,
        "label": LABELS.get(name, name),
        "recipe": asdict(recipe),
        "recipe_text": recipe.text(),
        "status": result.status,
        "message": result.message,
        "epochs_done": len(result.history),
        "compile_seconds": result.compile_seconds if name not in ("numpy", "sklearn") else None,
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
        if name in ("numpy", "sklearn"):
            row["predict_compile_seconds"] = None
    return row


def _einsum_row(params, x, y, plan, lrs, recipe: Recipe, steps: int, progress: _Progress) -> dict:
    """Time ``steps`` steps of the per-example einsum form and scale them to the recipe's epochs;
    also check that those steps reach the batched form's parameters."""
    import time

    from ..scratch import _numpy

    steps = min(steps, plan.steps_per_epoch)
    t = time.perf_counter()
    p_einsum, _ = _numpy.sgd_epoch(
        params, x, y, plan.idx[0], plan.mask[0], lrs[0], form="einsum", steps=steps
    )
    seconds = time.perf_counter() - t
    p_batched, _ = _numpy.sgd_epoch(params, x, y, plan.idx[0], plan.mask[0], lrs[0], steps=steps)
    diff = max(
        float(np.abs(a - b).max())
        for la, lb in zip(p_einsum, p_batched, strict=True)
        for a, b in zip(la, lb, strict=True)
    )
    per_epoch = seconds / steps * plan.steps_per_epoch
    progress.note(
        f"{LABELS['einsum']}: {steps} of {plan.steps_per_epoch} steps in {seconds:.2f} s, "
        f"about {per_epoch:.1f} s per epoch; max |difference| from the batched form {diff:.1e}"
    )
    return {
        "name": "einsum",
        "label": f"{LABELS['einsum']}, {steps} of {plan.steps_per_epoch} steps timed, scaled",
        "recipe": asdict(recipe),
        "recipe_text": recipe.text(),
        "status": "timed-steps",
        "message": "",
        "scaled": True,
        "timed_steps": steps,
        "timed_seconds": seconds,
        "steps_per_epoch": plan.steps_per_epoch,
        "compile_seconds": None,
        "train_seconds": per_epoch * recipe.epochs,
        "seconds_per_epoch": per_epoch,
        "predict_seconds": None,
        "predict_compile_seconds": None,
        "test_accuracy": None,
        "final_train_accuracy": None,
        "final_train_cross_entropy": None,
        "max_abs_param_difference_from_batched": diff,
        "curves": {},
    }


def _trainer(impl: str, recipe: Recipe):
    from .. import scratch

    if impl == "numpy":
        return scratch.NumpyTrainer("batched")
    if impl == "jax":
        return scratch.JaxTrainer("manual")
    if impl == "jax-grad":
        return scratch.JaxTrainer("autograd")
    if impl == "sklearn":
        return scratch.SklearnTrainer(batch_size=recipe.batch_size, learning_rate_init=recipe.lr)
    import optax

    tx = optax.identity() if impl == "sgd" else optax.scale_by_adam()
    return scratch.JaxTrainer("autograd", tx=tx, name=impl)


def _run_rows(
    config, data: StudyData, sizes: tuple[int, ...], progress: _Progress, *, einsum_steps: int = 0
) -> tuple[list[dict], dict]:
    import jax

    from .. import scratch

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

    rows = []
    for impl in config.implementations:
        recipe = config.recipe(impl)
        plan = plan_for(recipe)
        lrs = scratch.lr_schedule(recipe.lr, recipe.anneal, recipe.epochs)
        with scratch.precision(config.dtype):
            if impl == "einsum":
                rows.append(_einsum_row(params, x, y, plan, lrs, recipe, einsum_steps, progress))
                continue
            trainer = _trainer(impl, recipe)
            progress.note(f"{LABELS[impl]}: {recipe.text()}")
            if impl == "sklearn":  # its own initialisation and batches; one fit call
                result = trainer.train(
                    x, y, epochs=recipe.epochs, evals={"test": (xt, yt)}, on_epoch=progress.epoch
                )
            else:
                result = scratch.train(
                    trainer, params, x, y, plan, lrs, evals={"test": (xt, yt)}, on_epoch=progress.epoch
                )
            if result.compile_seconds:
                progress.note(
                    f"{LABELS[impl]}: compiled the epoch in {result.compile_seconds:.2f} s "
                    f"(scoring programs {result.eval_compile_seconds:.2f} s)"
                )
            predicted = scratch.time_predict(trainer, result.state, xt, yt)
        row = _row(impl, recipe, result, predicted)
        if impl == "sklearn":
            row["converged"] = trainer.converged
            row["fit_seconds"] = trainer.fit_seconds
            row["sklearn_settings"] = {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in {**trainer.settings, "max_iter": recipe.epochs}.items()
            }
        rows.append(row)
        del trainer, result  # frees the device copies of the data before the next implementation
    shared = {
        "sizes": list(sizes),
        "num_params": scratch.num_params(params),
        "init": "s9: W = 4.9 * (U[0,1) - 0.5) * init_range / sqrt(fan_in + fan_out), b = 0; init_range 1",
        "batch_order": "epoch e: permutation of the training set from fold_in(key, e), last batch kept",
    }
    return rows, shared


def _notes(study: str, config, rows: list[dict], data: StudyData) -> list[str]:
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
        if r["name"] == "einsum":
            notes.append(
                f"{LABELS['einsum']}: {r['timed_steps']} of its {r['steps_per_epoch']} steps per epoch timed "
                f"and scaled to {_n_epochs(r['recipe']['epochs'])}; not trained to the end, so no accuracy. "
                f"Its parameters after those steps differ from the batched form's by at most "
                f"{r['max_abs_param_difference_from_batched']:.1e}."
            )
        if r["name"] == "sklearn":
            s = r["sklearn_settings"]
            notes.append(
                f"sklearn: S9's settings (hidden {tuple(s['hidden_layer_sizes'])}, relu, sgd lr "
                f"{s['learning_rate_init']:g} constant, momentum {s['momentum']:g} Nesterov, alpha "
                f"{s['alpha']:g}, batch {s['batch_size']}, random_state 1) with its own initialisation "
                f"and shuffling, max_iter {s['max_iter']}: "
                + (
                    "converged (sklearn's tolerance rule stopped it)"
                    if r["converged"]
                    else "did not converge (ConvergenceWarning silenced)"
                )
                + f". One fit call ({r['fit_seconds']:.2f} s with its input checks and initialisation); "
                "training s sums its epochs; its curves score a copy of its parameters taken at the end "
                "of each epoch, by cross-entropy without its L2 term."
            )
        if r.get("status") == "diverged":
            notes.append(f"{r['label']}: {r['message']}")
    if data.notice:
        notes.append(data.notice)
    return notes


def _title(study: str, config, data: StudyData) -> str:
    import jax

    what = {
        "backprop": "S9: one network written three ways, and sklearn",
        "logistic": "S9 follow-up: logistic regression, NumPy by hand vs jax.grad",
        "optimizers": "S9 follow-up: Adam vs SGD on the [500, 250] network",
    }[study]
    return (
        f"{what} — {data.title} ({len(data.y_train):,} train / {len(data.y_test):,} test), "
        f"{config.dtype}, seed {config.seed}, {jax.default_backend()} ({os.cpu_count()} cores)"
    )


def _run(
    study: str,
    config,
    sizes: tuple[int, ...],
    *,
    data: StudyData | None,
    data_dir,
    out,
    quiet: bool,
    console,
    command: str | None,
    save: bool,
    einsum_steps: int = 0,
) -> StudyResult:
    progress = _Progress(quiet, console)
    if save:
        check_out(out)  # before any data is loaded
    if data is None:
        data = load_data(config.dataset, config.dtype, data_dir=data_dir, progress=not quiet)
    if data.notice:  # even when quiet: it says which data the numbers are about
        progress.console.print(f"note: {data.notice}", markup=False, highlight=False)
    progress.note(_title(study, config, data))
    rows, shared = _run_rows(config, data, sizes, progress, einsum_steps=einsum_steps)
    from ..runs import device_info

    info = {
        "study": study,
        "title": _title(study, config, data),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "config": config.as_dict(),
        "network": shared,
        "dataset": data.info(),
        "rows": rows,
        "notes": _notes(study, config, rows, data),
        "versions": _versions(),
        "device": device_info(),
    }
    if study == "backprop":
        info["reference"] = S9_REFERENCE
    out_dir = save_results(info, out, study) if save else None
    return StudyResult(study, out_dir, info)


def run_backprop(
    config: BackpropConfig,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out: str | os.PathLike | None = None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """Study S9: train the [500, 250] network with each implementation (and sklearn), time them,
    and save the table and the learning curves (``out``, default ``studies/backprop-<time>``).

    ``data`` replaces loading ``config.dataset`` (tests pass small arrays); ``save=False`` writes
    nothing. Progress goes to stderr unless ``quiet``.
    """
    from ..scratch import SIZES

    return _run(
        "backprop",
        config,
        SIZES,
        data=data,
        data_dir=data_dir,
        out=out,
        quiet=quiet,
        console=console,
        command=command,
        save=save,
        einsum_steps=config.einsum_steps,
    )


def run_logistic(
    config: LogisticConfig,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """S9's follow-up: multinomial logistic regression (784 -> 10) trained by NumPy with a
    hand-written gradient and by ``jax.grad``, same initialisation and batches: accuracy and speed."""
    return _run(
        "logistic",
        config,
        (784, 10),
        data=data,
        data_dir=data_dir,
        out=out,
        quiet=quiet,
        console=console,
        command=command,
        save=save,
    )


def run_optimizers(
    config: OptimizersConfig,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """S9's follow-up: Adam against SGD on the [500, 250] network from the same initial
    parameters and batch order: learning curves (training cross-entropy, training and test
    accuracy per epoch) and final accuracy."""
    from ..scratch import SIZES

    return _run(
        "optimizers",
        config,
        SIZES,
        data=data,
        data_dir=data_dir,
        out=out,
        quiet=quiet,
        console=console,
        command=command,
        save=save,
    )


# --- output ----------------------------------------------------------------------------------


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


def check_out(out) -> None:
    """Refuse an ``out`` that is a file or already holds results, before any work is done."""
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; give a folder for the results")
    if (path / "results.json").exists():
        raise ConfigError(f"--out {path} already holds results (results.json); choose another --out")


def default_out(study: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("studies") / f"{study}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


def _csv_bytes(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


TABLE_COLUMNS = (
    "name",
    "label",
    "epochs",
    "batch_size",
    "lr",
    "anneal",
    "status",
    "scaled",
    "compile_seconds",
    "train_seconds",
    "seconds_per_epoch",
    "predict_seconds",
    "test_accuracy",
    "final_train_accuracy",
    "final_train_cross_entropy",
)
CURVE_COLUMNS = ("epoch", "lr", "seconds", "train_accuracy", "train_cross_entropy", "test_accuracy")


def results_csv(info: dict) -> bytes:
    lines = [list(TABLE_COLUMNS)]
    for r in info["rows"]:
        values = {**r, **r["recipe"], "epochs": r.get("epochs_done", r["recipe"]["epochs"])}
        lines.append(["" if values.get(c) is None else values[c] for c in TABLE_COLUMNS])
    return _csv_bytes(lines)


def curves_csv(info: dict) -> bytes:
    lines = [["name", *CURVE_COLUMNS]]
    for r in info["rows"]:
        c = r["curves"]
        for i in range(len(c.get("epoch", []))):
            lines.append([r["name"], *(c[k][i] if k in c else "" for k in CURVE_COLUMNS)])
    return _csv_bytes(lines)


def _panels(study: str) -> list[tuple[str, str, bool]]:
    """(curve key, axis label, log scale) of each panel of the figure."""
    panels = [
        ("train_accuracy", "training accuracy", False),
        ("train_cross_entropy", "training cross-entropy", True),
    ]
    if study == "optimizers":
        panels.append(("test_accuracy", "test accuracy", False))
    return panels


def plot_curves(info: dict, path: str | os.PathLike) -> Path:
    """The learning curves of every implementation that has them, one panel per quantity."""
    from ..plots import save_figure
    from ..plots._base import _pyplot

    plt = _pyplot()
    panels = _panels(info["study"])
    width = 5.2 * len(panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 4.4), squeeze=False, layout="constrained")
    from matplotlib.ticker import MaxNLocator

    # Implementations that agree draw the same line: dashes and shrinking widths keep each visible.
    styles = [("-", "o", 3.0), ("--", "s", 2.2), (":", "D", 1.6), ("-.", "^", 1.4), ("-", "v", 1.2)]
    plotted = [r for r in info["rows"] if r["curves"]]
    # Name each line's recipe when they differ (--full, sklearn), so no curve is read against another's.
    same_recipe = len({r["recipe_text"] for r in plotted}) <= 1
    last_epoch = max(max(r["curves"]["epoch"]) for r in plotted) if plotted else 1
    for ax, (key, label, log) in zip(axes[0], panels, strict=True):
        values = []
        for i, r in enumerate(row for row in plotted if row["curves"].get(key)):
            c = r["curves"]
            ls, marker, lw = styles[i % len(styles)]
            name = r["label"] if same_recipe else f"{r['label']}: {r['recipe_text']}"
            ax.plot(c["epoch"], c[key], ls=ls, marker=marker, lw=lw, ms=4, label=name)
            values += [v for v in c[key] if v is not None and math.isfinite(v) and v > 0]
        if last_epoch <= 12:
            ax.set_xticks(range(1, last_epoch + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, last_epoch + 0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if values:
            low, high = min(values), max(values)
            if log and high > 3 * low:  # a log axis only where the values span a range worth it
                ax.set_yscale("log")
            elif high - low < 0.01 * high:
                # Values that agree to 1% would fill the axis with their rounding differences.
                ax.set_ylim(0.98 * low, 1.02 * high)
        ax.grid(True, alpha=0.3)
        where = "all training images" if key.startswith("train") else "all test images"
        ax.set_title(f"{label} ({where}, after each epoch)", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    # Below the panels: inside, it would hide the curves it names.
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    # About 16 characters of 9-point text per inch: wrap rather than run off the figure.
    fig.suptitle(textwrap.fill(info["title"], int(width * 16)), fontsize=9)
    return save_figure(fig, path)


def save_results(info: dict, out, study: str) -> Path:
    """Write the results folder (``out``, default ``studies/<study>-<time>``), each file atomically
    and results.json last. If any file fails, those already written are removed again, so the
    folder never holds a partial set."""
    out_dir = Path(out) if out is not None else default_out(study)
    check_out(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    from ..runs import write_json

    writers = [
        ("curves.png", lambda p: plot_curves(info, p)),
        ("curves.svg", lambda p: plot_curves(info, p)),
        ("results.csv", lambda p: atomic_write_bytes(p, results_csv(info))),
        ("curves.csv", lambda p: atomic_write_bytes(p, curves_csv(info))),
        ("results.json", lambda p: write_json(p, {**info, "out_dir": str(out_dir)})),
    ]
    written: list[Path] = []
    try:
        for name, write in writers:
            write(out_dir / name)
            written.append(out_dir / name)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    return out_dir


def _fmt_seconds(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _fmt_pct(v) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"


def render_table(result: StudyResult):
    """The study's table as a Rich ``Table``: one row per implementation, the notes below it."""
    from rich.table import Table

    info = result.info
    table = Table(title=info["title"], caption="\n".join(info["notes"]), caption_justify="left")
    table.add_column("implementation")
    table.add_column("recipe")
    optimizers = result.study == "optimizers"
    for col in ("compile s", "training s", "s/epoch"):
        table.add_column(col, justify="right")
    if optimizers:
        table.add_column("train CE", justify="right")
        table.add_column("train acc", justify="right")
    else:
        table.add_column("predict s (test)", justify="right")
    table.add_column("test acc", justify="right")
    for r in info["rows"]:
        recipe = r["recipe_text"]
        if r["name"] == "sklearn":
            recipe += f" (max_iter {r['recipe']['epochs']})"
        if r["status"] == "diverged":
            recipe += " — diverged"
        cells = [
            r["label"],
            recipe,
            _fmt_seconds(r["compile_seconds"]),
            ("≈ " if r["scaled"] else "") + _fmt_seconds(r["train_seconds"]),
            ("≈ " if r["scaled"] else "") + _fmt_seconds(r["seconds_per_epoch"]),
        ]
        if optimizers:
            ce = r["final_train_cross_entropy"]
            cells += [f"{ce:.4f}" if ce is not None else "—", _fmt_pct(r["final_train_accuracy"])]
        else:
            cells.append(_fmt_seconds(r.get("predict_seconds")))
        cells.append(_fmt_pct(r.get("test_accuracy")))
        table.add_row(*cells)
    return table


def print_summary(result: StudyResult, console=None) -> None:
    """The table on stdout, and where the results were saved."""
    import sys

    from rich.console import Console

    # Piped or captured output would get Rich's 80 columns, too narrow for seven columns of numbers.
    con = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    con.print(render_table(result))
    if result.out_dir is not None:
        con.print(f"results in {result.out_dir}: {', '.join(RESULT_FILES)}", markup=False)
