"""S9's follow-up: Adam against SGD on the [500, 250] network, from the same start.

Both trained with ``jax.grad`` from the same initial parameters and batch order, both rates
multiplied by the same factor after each epoch: the curves differ only through the update rule.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from ._config import (
    Recipe,
    anneal_option,
    batch_size_option,
    dataset_option,
    dtype_option,
    epochs_option,
    rate_option,
    seed_option,
    validate,
)
from ._runner import TRAINING_PANELS, Comparison, StudyData, StudyResult, run_comparison


@dataclass(frozen=True)
class OptimizersConfig:
    """``mnistlab study optimizers``: the [500, 250] network trained by SGD (``lr``) and by Adam
    (``adam_lr``), both with ``jax.grad``, from the same initial parameters and batch order;
    both learning rates are multiplied by ``anneal`` after each epoch.

    Bounds: epochs 1 to 1,000, batch size 1 to 60,000, seed in [0, 2**32)."""

    dataset: str = dataset_option()
    epochs: int = epochs_option(5)
    batch_size: int = batch_size_option(100)
    lr: float = rate_option(0.1, example=0.1, help="SGD's learning rate.")
    adam_lr: float = rate_option(0.001, example=0.001, help="Adam's learning rate.")
    anneal: float = anneal_option(0.99, help="Factor in (0, 1] applied to both rates after each epoch.")
    dtype: str = dtype_option()
    seed: int = seed_option()

    def __post_init__(self):
        validate(self)

    @property
    def implementations(self) -> tuple[str, ...]:
        return ("sgd", "adam")

    def recipe(self, impl: str) -> Recipe:
        lr = self.lr if impl == "sgd" else self.adam_lr
        return Recipe(self.epochs, self.batch_size, float(lr), float(self.anneal))

    def as_dict(self) -> dict:
        return asdict(self)


def _trainer(name: str, recipe: Recipe):
    """``jax.grad`` gradients through Optax's SGD (the identity) or Adam's scaling; the rate of
    each epoch is applied by the epoch program, as for plain SGD."""
    import optax

    from .. import scratch

    tx = optax.identity() if name == "sgd" else optax.scale_by_adam()
    return scratch.JaxTrainer("autograd", tx=tx, name=name)


COMPARISON = Comparison(
    name="optimizers",
    title="S9 follow-up: Adam vs SGD on the [500, 250] network",
    labels={"sgd": "SGD (jax.grad, jit)", "adam": "Adam (jax.grad, jit)"},
    trainer=_trainer,
    panels=(*TRAINING_PANELS, ("test_accuracy", "test accuracy", False)),
    columns=("train_ce", "train_acc"),
)


def run_optimizers(
    config: OptimizersConfig,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out: str | os.PathLike | None = None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """S9's follow-up: Adam against SGD on the [500, 250] network from the same initial
    parameters and batch order: learning curves (training cross-entropy, training and test
    accuracy per epoch) and final accuracy."""
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
