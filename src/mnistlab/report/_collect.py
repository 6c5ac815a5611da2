"""Collecting what the report shows: each run folder read ONCE (:func:`open_run`), then evaluated
and drawn (:func:`collect`). Rendering the page is ``_render``'s job; drawing, ``_figures``'."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import MnistlabError, RunFolderError
from .._status import say
from ..models import get_model_spec
from ..runs import RunDir
from . import _figures as F
from . import _scoring as S


@dataclass
class RunRecord:
    """Everything the report reads from one run folder, read once, at the start.

    The model and its parameters are not loaded here: that needs JAX, and it happens where the
    run is scored (:mod:`._scoring`), apart from the drawing.
    """

    run: RunDir
    config: Any  # mnistlab.train.TrainConfig
    info: dict
    epochs: list[dict]
    step_loss: np.ndarray | None

    @property
    def run_dir(self) -> Path:
        return self.run.path


@dataclass
class RunSection:
    """One run as the page shows it: its record, its label, and what was computed and drawn."""

    record: RunRecord
    label: str
    metrics: dict | None = None  # the test split's evaluation (mnistlab.evaluate), None if left out
    notes: list[str] = field(default_factory=list)
    figures: dict[str, F.Shown] = field(default_factory=dict)

    # The record's fields, read where the page needs them.
    @property
    def run_dir(self) -> Path:
        return self.record.run_dir

    @property
    def config(self):
        return self.record.config

    @property
    def info(self) -> dict:
        return self.record.info

    @property
    def epochs(self) -> list[dict]:
        return self.record.epochs


def open_run(path: str | os.PathLike) -> RunRecord:
    """Read one run folder: config.toml, run.json, metrics.jsonl and steps.csv, each file once.
    The ONE function of the report that reads a run folder's records (the parameters are read
    where the run is scored, :mod:`._scoring`).

    ``path`` may be an open :class:`~mnistlab.runs.RunDir` (not read again). A folder that is not
    a run, or a damaged one (a truncated params.npz), is an error, as in ``mnistlab evaluate``
    (for the user: before any work starts).
    """
    run = path if isinstance(path, RunDir) else RunDir.open(path, trained=True)
    run.check_params()  # a damaged params.npz fails here, before any work
    return RunRecord(run, run.config, run.info, run.metrics(), run.steps())


def labels(records: list[RunRecord]) -> list[str]:
    """Names for the runs: the config values that differ between them (``lr 0.1``), else folder names."""
    dirs = [r.run_dir for r in records]
    if len(records) == 1:
        return [dirs[0].name]
    configs = [r.config.as_dict() for r in records]
    differ = [k for k in configs[0] if k not in ("seeds",) and len({repr(c.get(k)) for c in configs}) > 1]
    if not differ or len(differ) > 3:
        names = [d.name for d in dirs]
        return names if len(set(names)) == len(names) else [str(d) for d in dirs]
    named = [", ".join(f"{k.replace('_', ' ')} {short(c[k])}" for k in differ) for c in configs]
    return named if len(set(named)) == len(named) else [d.name for d in dirs]


def short(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple):
        return ",".join(short(x) for x in v) or "-"
    return str(v)


def collect(
    record: RunRecord,
    label: str,
    keep: Path | None,
    *,
    pool,
    data_dir,
    examples: int,
    inits,
    key,
    progress=None,
) -> RunSection:
    """Evaluate one run and draw its figures; ``keep``: also save each figure there (PNG and SVG).

    Anything the run's data or model does not allow (data missing offline, no parameters yet) is
    left out with a note on the page, never an error: the report shows what it can.
    ``pool`` runs the scoring (:func:`._scoring.workers`); ``progress(text)``, when given, hears
    each phase as it starts (the command's stderr).
    """
    sec = RunSection(record, label)
    info = record.info
    if info.get("status") not in (None, "completed"):
        sec.notes.append(f"This run is {info.get('status')}: {info.get('message') or 'no message'}")
    try:
        _inspect(sec, pool, keep, data_dir, examples, inits, key, progress)
    except RunFolderError:
        raise
    except MnistlabError as exc:
        sec.notes.append(f"Evaluation, examples and weights are left out: {exc}")
    finally:
        pool.submit(S.forget, record.run)  # the next run's model and data take their place
    return sec


def _inspect(sec: RunSection, pool, keep: Path | None, data_dir, examples: int, inits, key, progress) -> None:
    """Draw the learning curves, score the run on its test split and draw the evaluation, example
    and weight figures.

    The scoring (JAX) runs in ``pool`` (:func:`._scoring.workers`: another process, or threads)
    while this thread draws (Matplotlib) what needs none of it: the learning curves first, then
    the weights once the parameters are loaded, then the rest as each result arrives. The work
    is queued in the order the drawing needs it.
    """
    run, label = sec.record.run, sec.label
    names = list(sec.info["dataset"]["class_names"])
    say(progress, f"{label}: loading its model and dataset, compiling, scoring; drawing the learning curves")
    loading = pool.submit(S.load, run)
    autoencoder = get_model_spec(sec.config.model).kind == "autoencoder"
    scored = None if autoencoder else pool.submit(S.scores, run, data_dir, examples)
    grads = pool.submit(S.gradients, run, data_dir)
    n_inits = 0 if autoencoder else inits_for(sec.record, inits)
    accs = pool.submit(S.init_accuracies, run, data_dir, n_inits, key) if n_inits else None
    F.curves(sec, keep)
    try:
        loaded = loading.result()
    except MnistlabError:
        for f in (scored, grads, accs):
            if f is not None:
                f.cancel()
        raise
    say(progress, f"{label}: weights")
    F.weights(sec, keep, loaded.params, names, len(sec.config.seeds))
    if scored is not None:
        say(progress, f"{label}: scoring the test split and the training set")
        sc = scored.result()
        sec.metrics = sc.metrics
        say(progress, f"{label}: evaluation figures")
        F.evaluation(sec, keep, sc.metrics, sc.probs, sc.test, names, binary=loaded.kind == "binary")
        F.hardest(sec, keep, sc.metrics, sc.train_images, names)
    say(progress, f"{label}: gradients")
    g = grads.result()
    F.gradients(sec, keep, g.grads, g.n)
    if autoencoder:
        sec.notes.append("An autoencoder has no classes: the classification figures are left out.")
        return
    if accs is not None:
        say(progress, f"{label}: scoring {n_inits:,} random initialisations")
        F.inits(sec, keep, accs.result(), n_inits, chance=1.0 / len(names))


def inits_for(record: RunRecord, inits: int | None) -> int:
    """How many random initialisations to histogram: ``inits``, by default 100 for a binary model."""
    kind = get_model_spec(record.config.model).kind
    return (100 if kind == "binary" else 0) if inits is None else inits


def check_inits_memory(record: RunRecord, inits: int | None) -> None:
    """Refuse, before any work, ``--inits`` whose models cannot all be held in memory at once
    (the histogram scores every initialisation in one program, within about 256 MB of activations)."""
    from .._compute import check_memory

    n = inits_for(record, inits)
    count = record.run.param_count() if n else None
    if count is None:
        return
    per_model = count * np.dtype(record.config.dtype).itemsize
    check_memory(
        n * per_model + (256 << 20),
        f"{n:,} initialisations of {record.run_dir.name}'s model, {per_model:,} bytes each, and "
        "their activations",
        "give a smaller --inits",
    )
