"""What a study declares: its runs, its reference numbers, its figures, its extra analyses.

A study of the course is data, not code: a base :class:`~mnistlab.runs.TrainConfig`, the sweep
members (each a few changes to the base), the reference numbers of ``studies.md`` (run, metric,
epoch -> value), the figures its "Figures" line lists (names of :mod:`._figures` drawers) and,
where a study needs more than runs (S8's probes, S10's features, S11's cosine), one ``analysis``
function. :func:`~._execute.run_study` does the rest the same way for every study, so adding a
study is one module declaring a :class:`TrainStudy` and one line in the registry.

Epochs here count as the run folders do: epoch 1 is the end of the first pass. The course's
notebooks sometimes count from 0 ("after epoch 0"); each module converts its references once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..runs import TrainConfig


@dataclass(frozen=True)
class Member:
    """One run of a study: ``name`` (its folder), ``label`` (legends, tables) and ``changes`` to
    the study's base config; ``quick`` are further changes in ``--quick`` mode (smaller nets);
    ``in_quick=False`` leaves the member out of ``--quick`` (the smoke test's seconds count)."""

    name: str
    label: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    quick: Mapping[str, Any] = field(default_factory=dict)
    in_quick: bool = True  # False: left out of --quick (a sweep point whose code path another runs)


@dataclass(frozen=True)
class Reference:
    """A number published with the course: ``run`` (a member's name), ``metric`` (a key of the
    run's per-epoch records: ``test_accuracy``, ``train_eval_accuracy``...), ``epoch`` and
    ``value`` (a fraction). ``low``/``high`` make it a range ("99.1-99.24% from epoch 10 on");
    ``n`` is how many images the reference was scored on (its binomial noise); ``text`` is how
    ``studies.md`` says it. ``chance`` marks "stays at chance": the check is then whether the
    run's accuracy stays within noise of 1/classes for the whole run."""

    run: str
    metric: str
    epoch: int
    value: float
    text: str
    n: int = 10_000
    low: float | None = None
    high: float | None = None
    chance: bool = False
    step: int | None = None  # a reference "at step S" of a run of --steps: its epoch must end at S


@dataclass(frozen=True)
class TrainStudy:
    """A study made of training runs (through :func:`mnistlab.train.train`).

    ``number`` is its S-number ("S4"); ``question`` the one sentence it answers; ``shows`` what it
    shows, for ``study list``; ``base`` the config every member starts from; ``quick`` the changes
    of ``--quick`` mode (tiny epochs on ``mnist-sample``); ``figures`` names of figure drawers;
    ``analysis(ctx) -> dict`` an optional extra step after the runs (its figures go to
    ``ctx.figures``); ``estimate`` seconds of the full study on a 2-core CPU (rough, for
    ``study list``); ``reference_dataset`` the dataset its references are about; ``gaps`` what
    the study cannot do as the spec says yet, stated in the report.
    """

    name: str
    number: str
    question: str
    shows: str
    base: TrainConfig | None
    members: tuple[Member, ...] = ()
    references: tuple[Reference, ...] = ()
    figures: tuple[str, ...] = ("curves",)
    quick: Mapping[str, Any] = field(default_factory=dict)
    analysis: Callable[..., dict] | None = field(default=None, repr=False)
    estimate: float = 0.0
    reference_dataset: str = "mnist"
    gaps: tuple[str, ...] = ()
    init: str = ""
    keep_best: str | None = None  # a metric: keep the parameters of its best epoch beside the last

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.number.lower(),)

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)


QUICK_EPOCHS = 1


def quick_defaults(**extra) -> dict:
    """What ``--quick`` changes in every study: the bundled sample, one epoch, and no scoring of
    the whole training set (a pass and a program per run) unless the study's figure is about
    train against test (``eval_train=True`` in ``extra``)."""
    return {"dataset": "mnist-sample", "epochs": QUICK_EPOCHS, "eval_train": False, **extra}
