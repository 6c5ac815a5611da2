"""Study S9: one fully connected network written three ways, and scikit-learn's.

The [500, 250] ReLU network of :mod:`mnistlab.scratch` trained by (a) NumPy with hand-written
passes, (b) the same passes in JAX, (c) ``jax.grad``, from ONE draw of initial parameters and ONE
batch order, plus ``MLPClassifier`` with S9's settings: training, compile and prediction times,
accuracy and learning curves, beside S9's own numbers (:data:`S9_REFERENCE`). The per-example
einsum form of (a) is timed on a few steps and scaled to the recipe's epochs.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields

import numpy as np

from .._errors import ConfigError
from ._config import (
    EINSUM_STEPS,
    FLAG,
    MAX_EINSUM_STEPS,
    Recipe,
    anneal_option,
    batch_size_option,
    check_something_left,
    dataset_option,
    dtype_option,
    epochs_option,
    n_epochs,
    option,
    rate_option,
    seed_option,
    skip_option,
    validate,
)
from ._runner import LABELS, Comparison, RowContext, StudyData, StudyResult, record, run_comparison

IMPLEMENTATIONS = ("numpy", "einsum", "jax", "jax-grad", "sklearn")
# The einsum form holds batch x 784 x 500 per-example products at once: 1.6 GB in float32 at a
# batch of 1,000 (3.1 GB in float64). Larger batches are for the other rows (--skip einsum).
MAX_EINSUM_BATCH = 1_000

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

# S9's longer runs: (a) and (b) batch 10, annealing 0.9, 12 epochs; (c) batch 50, annealing
# 0.98, 20 epochs; sklearn its 20 iterations of batch 200.
FULL_RECIPES = {
    "numpy": Recipe(12, 10, 0.1, 0.9),
    "einsum": Recipe(12, 10, 0.1, 0.9),
    "jax": Recipe(12, 10, 0.1, 0.9),
    "jax-grad": Recipe(20, 50, 0.1, 0.98),
    "sklearn": Recipe(20, 200, 0.1, 1.0),
}
_TUNABLE = ("epochs", "batch_size", "lr", "anneal")  # what --full sets itself


@dataclass(frozen=True)
class BackpropConfig:
    """``mnistlab study backprop``. ``epochs``, ``batch_size``, ``lr`` and ``anneal`` apply to
    numpy, einsum, jax and jax-grad (``None``: 3, 100, 0.1, 0.99, S9's speed table); sklearn
    keeps S9's settings (batch 200, constant lr 0.1, Nesterov momentum 0.9, alpha 1e-4) with
    ``max_iter = epochs``. ``full`` runs S9's longer recipes (:data:`FULL_RECIPES`) instead and
    then takes none of those four. The einsum row times ``einsum_steps`` steps and scales them
    to the recipe's epochs.

    Bounds: epochs 1 to 1,000, batch size 1 to 60,000 (1,000 while the einsum row runs: it holds
    every example's outer products at once), einsum steps 1 to 1,000, seed in [0, 2**32)."""

    dataset: str = dataset_option()
    epochs: int | None = epochs_option(
        None, example=3, optional=True, help="Epochs, 1 to 1,000 (default 3); also sklearn's max_iter."
    )
    batch_size: int | None = batch_size_option(
        None,
        optional=True,
        help="Batch size, 1 to 60,000 (default 100; at most 1,000 with the einsum row); sklearn keeps "
        "S9's 200.",
    )
    lr: float | None = rate_option(None, example=0.1, optional=True, help="Learning rate (default 0.1).")
    anneal: float | None = anneal_option(
        None, optional=True, help="Factor in (0, 1] applied to lr after each epoch (default 0.99)."
    )
    dtype: str = dtype_option()
    seed: int = seed_option()
    full: bool = option(
        False,
        FLAG,
        help="S9's longer runs: batch 10, annealing 0.9, 12 epochs (numpy, jax); batch 50, annealing "
        "0.98, 20 epochs (jax.grad); 20 sklearn iterations. Long on a CPU.",
    )
    einsum_steps: int = option(
        20,
        EINSUM_STEPS,
        example=20,
        help=f"Steps of the per-example einsum form to time, scaled to epochs; 1 to {MAX_EINSUM_STEPS:,}.",
    )
    skip: tuple[str, ...] = skip_option(IMPLEMENTATIONS)

    def __post_init__(self):
        validate(self)

    def _check_together(self) -> None:
        given = [
            f"--{f.name.replace('_', '-')}"
            for f in fields(self)
            if f.name in _TUNABLE and getattr(self, f.name) is not None
        ]
        if self.full and given:
            raise ConfigError(
                f"--full runs S9's own recipes (batch 10, annealing 0.9, 12 epochs for numpy and jax; "
                f"batch 50, annealing 0.98, 20 epochs for jax-grad; 20 sklearn iterations); got "
                f"{', '.join(given)} too: drop {'it' if len(given) == 1 else 'them'} or drop --full"
            )
        check_something_left(self.skip, IMPLEMENTATIONS)
        batch = self.recipe("einsum").batch_size
        if "einsum" in self.implementations and batch > MAX_EINSUM_BATCH:
            gb = batch * 784 * 500 * np.dtype(self.dtype).itemsize / 1e9
            raise ConfigError(
                f"batch_size (--batch-size) must be at most {MAX_EINSUM_BATCH:,} with the einsum row, which "
                f"holds batch x 784 x 500 per-example products ({gb:.1f} GB at {batch:,}); got {batch}; "
                "use a smaller batch or --skip einsum"
            )

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


# --- the rows that are not trained by scratch.train --------------------------------------------

EINSUM_LABEL = "numpy (per-example einsum)"


def _einsum_row(ctx: RowContext) -> dict:
    """Time ``einsum_steps`` steps of the per-example einsum form and scale them to the recipe's
    epochs; also check that those steps reach the batched form's parameters."""
    import time

    from .. import scratch

    plan, params, lr = ctx.plan, ctx.params, ctx.lrs[0]
    steps = min(ctx.config.einsum_steps, plan.steps_per_epoch)
    idx, mask = plan.idx[0], plan.mask[0]
    t = time.perf_counter()
    p_einsum, _ = scratch.numpy_sgd_epoch(params, ctx.x, ctx.y, idx, mask, lr, form="einsum", steps=steps)
    seconds = time.perf_counter() - t
    p_batched, _ = scratch.numpy_sgd_epoch(params, ctx.x, ctx.y, idx, mask, lr, steps=steps)
    diff = max(
        float(np.abs(a - b).max())
        for la, lb in zip(p_einsum, p_batched, strict=True)
        for a, b in zip(la, lb, strict=True)
    )
    per_epoch = seconds / steps * plan.steps_per_epoch
    ctx.progress.note(
        f"{EINSUM_LABEL}: {steps} of {plan.steps_per_epoch} steps in {seconds:.2f} s, "
        f"about {per_epoch:.1f} s per epoch; max |difference| from the batched form {diff:.1e}"
    )
    return {
        "name": "einsum",
        "label": f"{EINSUM_LABEL}, {steps} of {plan.steps_per_epoch} steps timed, scaled",
        "recipe": asdict(ctx.recipe),
        "recipe_text": ctx.recipe.text(),
        "status": "timed-steps",
        "message": "",
        "scaled": True,
        "timed_steps": steps,
        "timed_seconds": seconds,
        "steps_per_epoch": plan.steps_per_epoch,
        "compile_seconds": None,
        "train_seconds": per_epoch * ctx.recipe.epochs,
        "seconds_per_epoch": per_epoch,
        "predict_seconds": None,
        "predict_compile_seconds": None,
        "test_accuracy": None,
        "final_train_accuracy": None,
        "final_train_cross_entropy": None,
        "max_abs_param_difference_from_batched": diff,
        "curves": {},
    }


def _sklearn_row(ctx: RowContext) -> dict:
    """``MLPClassifier`` with S9's settings: its own initialisation and batches, one fit call."""
    from .. import scratch

    recipe = ctx.recipe
    trainer = scratch.SklearnTrainer(batch_size=recipe.batch_size, learning_rate_init=recipe.lr)
    ctx.progress.note(f"{ctx.label}: {recipe.text()}")
    result = trainer.train(
        ctx.x,
        ctx.y,
        epochs=recipe.epochs,
        evals={"test": (ctx.x_test, ctx.y_test)},
        on_epoch=ctx.progress.epoch,
    )
    predicted = scratch.time_predict(trainer, result.state, ctx.x_test, ctx.y_test)
    row = record(ctx, result, predicted, compiles=False)
    row["converged"] = trainer.converged
    row["fit_seconds"] = trainer.fit_seconds
    row["sklearn_settings"] = {
        k: (list(v) if isinstance(v, tuple) else v)
        for k, v in {**trainer.settings, "max_iter": recipe.epochs}.items()
    }
    return row


def _row_note(r: dict) -> str | None:
    if r["name"] == "einsum":
        return (
            f"{EINSUM_LABEL}: {r['timed_steps']} of its {r['steps_per_epoch']} steps per epoch timed "
            f"and scaled to {n_epochs(r['recipe']['epochs'])}; not trained to the end, so no accuracy. "
            f"Its parameters after those steps differ from the batched form's by at most "
            f"{r['max_abs_param_difference_from_batched']:.1e}."
        )
    if r["name"] == "sklearn":
        s = r["sklearn_settings"]
        return (
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
    return None


def _recipe_cell(r: dict) -> str:
    if r["name"] == "sklearn":  # its epochs are sklearn's max_iter, which may stop it earlier
        return f"{r['recipe_text']} (max_iter {r['recipe']['epochs']})"
    return r["recipe_text"]


COMPARISON = Comparison(
    name="backprop",
    title="S9: one network written three ways, and sklearn",
    labels={**LABELS, "einsum": EINSUM_LABEL, "sklearn": "sklearn MLPClassifier"},
    rows={"einsum": _einsum_row, "sklearn": _sklearn_row},
    row_note=_row_note,
    recipe_cell=_recipe_cell,
    reference=S9_REFERENCE,
)


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
    return run_comparison(
        COMPARISON,
        config,
        data=data,
        data_dir=data_dir,
        out=out,
        quiet=quiet,
        console=console,
        command=command,
        save=save,
    )
