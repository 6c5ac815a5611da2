"""The implementation comparisons by name (S9 ``backprop`` and its follow-ups): what each asks,
its config, the function that runs it.

Adding a comparison is one module (its config dataclass, its :class:`~._runner.Comparison` or
own runner, its ``run_*`` function) and one line in :data:`STUDIES`; ``mnistlab study NAME``
gets a command with its own options. The twelve studies of ``studies.md`` (these included) are
listed in :data:`~._catalog.CATALOG`, which ``mnistlab study list`` and ``study run`` read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .._checks import Options, check
from . import _backprop, _logistic, _optimizers
from ._config import constraints
from ._runner import Comparison, StudyResult


@dataclass(frozen=True)
class Study:
    """One study: ``name`` (and ``aliases``, e.g. its S-number), the ``question`` it answers in
    one sentence, its ``config`` class (``config(**options)`` checks the options) and ``run``
    (``run(config, ...)`` -> :class:`StudyResult`). ``comparison`` says how its results are
    drawn and tabulated, for studies run by :func:`~._runner.run_comparison`."""

    name: str
    question: str
    config: type
    run: Callable[..., StudyResult]
    comparison: Comparison | None = field(default=None, repr=False)
    aliases: tuple[str, ...] = ()

    def options(self) -> dict[str, tuple]:
        """``{option: constraints}``: what ``config`` accepts, for help texts and listings."""
        return constraints(self.config)


STUDIES: tuple[Study, ...] = (
    Study(
        "backprop",
        "How fast and how accurate is one network written by hand in NumPy, by hand in JAX, by "
        "jax.grad, and in scikit-learn?",
        _backprop.BackpropConfig,
        _backprop.run_backprop,
        _backprop.COMPARISON,
        aliases=("s9",),
    ),
    Study(
        "logistic",
        "Does a hand-written NumPy gradient train logistic regression as well and as fast as jax.grad?",
        _logistic.LogisticConfig,
        _logistic.run_logistic,
        _logistic.COMPARISON,
    ),
    Study(
        "optimizers",
        "From the same start and batches, how do Adam and SGD train the [500, 250] network?",
        _optimizers.OptimizersConfig,
        _optimizers.run_optimizers,
        _optimizers.COMPARISON,
    ),
)


def study_names() -> tuple[str, ...]:
    """The studies' names, in the order ``mnistlab study`` lists them."""
    return tuple(s.name for s in STUDIES)


def get_study(name: str) -> Study:
    """The study called ``name`` or one of its aliases (any case); else a one-line
    :class:`~mnistlab.ConfigError` listing the studies, with a "did you mean"."""
    key = name.strip().lower() if isinstance(name, str) else name
    for s in STUDIES:
        if key == s.name or key in s.aliases:
            return s
    check("study", name, [Options(study_names)])
    raise AssertionError("unreachable: check refuses a name no study has")
