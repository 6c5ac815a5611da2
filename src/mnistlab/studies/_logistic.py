"""S9's follow-up: multinomial logistic regression, NumPy with a hand-written gradient against
``jax.grad``.

784 -> 10, softmax + cross-entropy, S9's initialisation: the smallest network of
:mod:`mnistlab.scratch`, trained by both from the same start and batch order, so the question is
only whether the hand-written gradient trains it as well and as fast.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from ._config import (
    Recipe,
    anneal_option,
    batch_size_option,
    check_something_left,
    dataset_option,
    dtype_option,
    epochs_option,
    rate_option,
    seed_option,
    skip_option,
    validate,
)
from ._runner import Comparison, StudyData, StudyResult, run_comparison

LOGISTIC_IMPLEMENTATIONS = ("numpy", "jax-grad")


@dataclass(frozen=True)
class LogisticConfig:
    """``mnistlab study logistic``: multinomial logistic regression (784 -> 10, softmax +
    cross-entropy, S9's initialisation) by NumPy with a hand-written gradient and by ``jax.grad``.

    Bounds: epochs 1 to 1,000, batch size 1 to 60,000, seed in [0, 2**32)."""

    dataset: str = dataset_option()
    epochs: int = epochs_option(5)
    batch_size: int = batch_size_option(100)
    lr: float = rate_option(0.1, example=0.1, help="Learning rate.")
    anneal: float = anneal_option(0.99)
    dtype: str = dtype_option()
    seed: int = seed_option()
    skip: tuple[str, ...] = skip_option(LOGISTIC_IMPLEMENTATIONS)

    def __post_init__(self):
        validate(self)

    def _check_together(self) -> None:
        check_something_left(self.skip, LOGISTIC_IMPLEMENTATIONS)

    @property
    def implementations(self) -> tuple[str, ...]:
        return tuple(i for i in LOGISTIC_IMPLEMENTATIONS if i not in self.skip)

    def recipe(self, impl: str) -> Recipe:
        return Recipe(self.epochs, self.batch_size, float(self.lr), float(self.anneal))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["skip"] = list(self.skip)
        return d


COMPARISON = Comparison(
    name="logistic",
    title="S9 follow-up: logistic regression, NumPy by hand vs jax.grad",
    sizes=(784, 10),
)


def run_logistic(
    config: LogisticConfig,
    *,
    data: StudyData | None = None,
    data_dir=None,
    out: str | os.PathLike | None = None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    save: bool = True,
) -> StudyResult:
    """S9's follow-up: multinomial logistic regression (784 -> 10) trained by NumPy with a
    hand-written gradient and by ``jax.grad``, same initialisation and batches: accuracy and speed."""
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
