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
from . import _figures as F


@dataclass
class RunRecord:
    """Everything the report reads from one run folder, read once, at the start.

    ``model`` is the loaded run (``mnistlab.evaluate.LoadedRun``: model, parameters, config) or
    None when its parameters cannot be loaded (a run stopped before its first checkpoint), with
    ``model_error`` saying why; the page then shows what the folder's files hold.
    """

    run_dir: Path
    config: Any  # mnistlab.train.TrainConfig
    info: dict
    epochs: list[dict]
    step_loss: np.ndarray | None
    model: Any = None
    model_error: MnistlabError | None = None


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
    """Read one run folder: config.toml, run.json, metrics.jsonl, steps.csv and the parameters,
    each file once. The ONE function of the report that reads a run folder.

    ``path`` may be an open :class:`~mnistlab.runs.RunDir` (not read again). A folder that is not
    a run, or a damaged one (a truncated params.npz), is an error, as in ``mnistlab evaluate``
    (for the user: before any work starts). A run that has no parameters yet (stopped before its
    first checkpoint) keeps that in its record, and the page reports what the files hold.
    """
    from ..evaluate import load_run
    from ..runs import RunDir

    # config.toml and run.json, read once; a folder that is no run fails here
    run = path if isinstance(path, RunDir) else RunDir.open(path, trained=True)
    try:
        model, error = load_run(run), None  # builds the model and loads the parameters
    except RunFolderError:
        raise
    except MnistlabError as exc:
        model, error = None, exc
    run_dir, config, info = run.path, run.config, run.info
    epochs, step_loss = run.metrics(), run.steps()
    return RunRecord(run_dir, config, info, epochs, step_loss, model, error)


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
    record: RunRecord, label: str, keep: Path | None, *, data_dir, examples: int, inits, key, progress=None
) -> RunSection:
    """Evaluate one run and draw its figures; ``keep``: also save each figure there (PNG and SVG).

    Anything the run's data or model does not allow (data missing offline, no parameters yet) is
    left out with a note on the page, never an error: the report shows what it can.
    ``progress(text)``, when given, hears each phase as it starts (the command's stderr).
    """
    from .._compute import precision

    sec = RunSection(record, label)
    info = record.info
    if info.get("status") not in (None, "completed"):
        sec.notes.append(f"This run is {info.get('status')}: {info.get('message') or 'no message'}")
    left_out = "Evaluation, examples and weights are left out"
    if record.model is None:
        F.curves(sec, keep)
        sec.notes.append(f"{left_out}: {record.model_error}")
        return sec
    try:
        with precision(record.config.dtype):
            _inspect(sec, keep, data_dir, examples, inits, key, progress)
    except MnistlabError as exc:
        sec.notes.append(f"{left_out}: {exc}")
    return sec


def _one_seed(params):
    import jax

    return jax.tree.map(lambda a: np.asarray(a[0]), params)


def _inspect(sec: RunSection, keep: Path | None, data_dir, examples: int, inits, key, progress) -> None:
    """Draw the learning curves, score the run on its test split and draw the evaluation, example
    and weight figures.

    Why threads: most of the time here is XLA compiling two programs (the gradient and the
    scoring one) and Matplotlib drawing. The data, the scores and the gradients are computed by
    worker threads (XLA compiles and runs without the GIL) while this thread draws what needs
    none of them; on a 2-core CPU that takes seconds off a report. The numbers are the same as
    in sequence: each program is the same, only when it runs differs.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .._compute import precision
    from ..evaluate import evaluate, init_accuracies, weight_gradients
    from ..train import prepare_data

    run, label = sec.record.model, sec.label
    names = list(run.class_names)
    dtype, kind = run.config.dtype, run.kind

    def batch_of(data):
        return data.train.subset(np.arange(min(run.config.batch_size, len(data.train))))

    def gradients():
        with precision(dtype):  # the mode is per thread
            return weight_gradients(run, batch_of(loading.result()))

    def scores():
        data = loading.result()
        with precision(dtype):
            return evaluate(
                run,
                data.evals["test"],
                examples=examples,
                train_losses=data.train,
                mislabelled=data.mislabelled,
            )

    with ThreadPoolExecutor(max_workers=3) as pool:
        say(progress, f"{label}: loading its dataset, compiling, scoring; drawing the learning curves")
        loading = pool.submit(prepare_data, run.config, data_dir=data_dir, progress=False)
        grads = pool.submit(gradients)
        scored = pool.submit(scores) if kind != "autoencoder" else None
        F.curves(sec, keep)
        say(progress, f"{label}: weights")
        F.weights(sec, keep, _one_seed(run.params), names, len(run.config.seeds))
        data = loading.result()
        test = data.evals["test"]
        if scored is not None:
            say(progress, f"{label}: scoring the test split ({len(test):,} examples) and the training set")
            ev = scored.result()
            sec.metrics = metrics = ev.metrics.to_json()
            say(progress, f"{label}: evaluation figures")
            F.evaluation(sec, keep, metrics, ev.probs, test, names, binary=kind == "binary")
            F.hardest(sec, keep, metrics, data.train, names)
        say(progress, f"{label}: gradients")
        F.gradients(sec, keep, grads.result(), len(batch_of(data)))
    if kind == "autoencoder":
        sec.notes.append("An autoencoder has no classes: the classification figures are left out.")
        return
    n_inits = inits_for(run, inits)
    if n_inits:
        say(progress, f"{label}: scoring {n_inits:,} random initialisations")
        if key is None:  # made only here: a key is a compiled program too, needless without --inits
            import jax

            key = jax.random.PRNGKey(0)
        accs = init_accuracies(run, test, n=n_inits, key=key)
        F.inits(sec, keep, accs, n_inits, chance=1.0 / len(names))


def inits_for(run, inits: int | None) -> int:
    """How many random initialisations to histogram: ``inits``, by default 100 for a binary model."""
    return (100 if run.kind == "binary" else 0) if inits is None else inits


def check_inits_memory(record: RunRecord, inits: int | None) -> None:
    """Refuse, before any work, ``--inits`` whose models cannot all be held in memory at once
    (the histogram scores every initialisation in one program, within about 256 MB of activations)."""
    import jax

    from .._compute import check_memory

    run = record.model
    n = inits_for(run, inits) if run is not None else 0
    if not n:
        return
    per_model = sum(int(np.asarray(a[0]).nbytes) for a in jax.tree.leaves(run.params))
    check_memory(
        n * per_model + (256 << 20),
        f"{n:,} initialisations of {record.run_dir.name}'s model, {per_model:,} bytes each, and "
        "their activations",
        "give a smaller --inits",
    )
