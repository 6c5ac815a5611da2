"""The twelve studies of ``studies.md`` by name (and S-number), and :func:`run`.

Adding a study: one module declaring a :class:`~._spec.TrainStudy` named ``STUDY``, and one line
in :data:`CATALOG`. ``mnistlab study list`` / ``study run`` and :func:`run` read this table.
"""

from __future__ import annotations

import os

from .._checks import Options, check
from . import (
    _s01_softmax,
    _s02_deep_mlp,
    _s03_cnn_nchw,
    _s04_tanh_mlp,
    _s05_learning_rate,
    _s06_capacity,
    _s07_relu_vs_lenet,
    _s08_binary,
    _s10_features,
    _s11_denoise,
    _s12_validation,
)
from ._legacy import ComparisonStudy, run_comparison_study
from ._registry import get_study
from ._spec import TrainStudy

# --quick: the hand-written NumPy passes alone, nothing to compile (every row has tests of its own).
_QUICK_S9 = {"dataset": "mnist-sample", "epochs": 1, "skip": "jax,jax-grad,einsum,sklearn"}

CATALOG: tuple = (
    _s01_softmax.STUDY,
    _s02_deep_mlp.STUDY,
    _s03_cnn_nchw.STUDY,
    _s04_tanh_mlp.STUDY,
    _s05_learning_rate.STUDY,
    _s06_capacity.STUDY,
    _s07_relu_vs_lenet.STUDY,
    _s08_binary.STUDY,
    ComparisonStudy(
        "backprop",
        "S9",
        "NumPy, hand-written JAX, jax.grad and scikit-learn: accuracy, learning curves, speed",
        get_study("backprop"),
        estimate=420.0,
        quick=_QUICK_S9,
    ),
    _s10_features.STUDY,
    _s11_denoise.STUDY,
    _s12_validation.STUDY,
)

# S9's follow-ups: runnable by name, listed under S9.
FOLLOW_UPS: tuple = (
    ComparisonStudy(
        "logistic",
        "S9+",
        "logistic regression by a hand-written NumPy gradient vs jax.grad",
        get_study("logistic"),
        estimate=30.0,
        quick={"dataset": "mnist-sample", "epochs": 1},
    ),
    ComparisonStudy(
        "optimizers",
        "S9+",
        "Adam vs SGD on S9's network, same start and batches",
        get_study("optimizers"),
        estimate=120.0,
        quick={"dataset": "mnist-sample", "epochs": 1},
    ),
)


def catalog_names() -> tuple[str, ...]:
    return tuple(s.name for s in CATALOG)


def _all_names() -> tuple[str, ...]:
    return (*catalog_names(), *(s.name for s in FOLLOW_UPS))


def find(name: str):
    """The study called ``name`` or its S-number (any case); else a one-line ConfigError listing
    them, with a "did you mean"."""
    key = name.strip().lower() if isinstance(name, str) else name
    for s in (*CATALOG, *FOLLOW_UPS):
        if key == s.name or (key in s.aliases and s.number != "S9+"):
            return s
    check("study", name, [Options(_all_names)], hint="; `mnistlab study list` shows them")
    raise AssertionError("unreachable: check refuses a name no study has")


def runs_of(study) -> list[str]:
    """``study list``'s runs column: the members, with seeds and epochs."""
    if isinstance(study, ComparisonStudy):
        return ["numpy, jax, jax-grad, einsum, sklearn" if study.name == "backprop" else "implementations"]
    out = []
    for m in study.members:
        c = study.base.replace(**m.changes)
        seeds = f" x {len(c.seeds)} seeds" if len(c.seeds) > 1 else ""
        out.append(f"{m.name} ({c.epochs} ep{seeds})")
    return out or ["no training run (one jitted loop)"]


def listing() -> list[dict]:
    """One row per study for ``mnistlab study list`` (and its ``--json``)."""
    rows = []
    for s in CATALOG:
        rows.append(
            {
                "name": s.name,
                "number": s.number,
                "shows": s.shows,
                "question": s.question,
                "runs": runs_of(s),
                "estimate_seconds": s.estimate,
                "reference_datasets": [s.reference_dataset]
                if (s.references or isinstance(s, ComparisonStudy))
                else [],
                "figures": list(s.figures),
            }
        )
    return rows


def run(
    name: str,
    *,
    dataset: str | None = None,
    seeds: int | None = None,
    epochs: int | None = None,
    quick: bool = False,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    data_dir=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
):
    """Run study ``name`` (or its S-number) into ``out``; returns a :class:`~._run.StudyRun`.

    ``dataset``, ``seeds`` (a count: seeds 0..N-1) and ``epochs`` replace the study's own;
    ``quick``: tiny nets and epochs on ``mnist-sample`` (seconds; a smoke test, not the study).
    Re-running into the same ``out`` (or ``resume=True``) skips finished runs and resumes
    interrupted ones.
    """
    from ._run import run_study

    study = find(name)
    options = dict(
        dataset=dataset,
        seeds=seeds,
        epochs=epochs,
        quick=quick,
        out=out,
        resume=resume,
        data_dir=data_dir,
        quiet=quiet,
        console=console,
        command=command,
    )
    if isinstance(study, TrainStudy):
        return run_study(study, **options)
    return run_comparison_study(study, **options)
