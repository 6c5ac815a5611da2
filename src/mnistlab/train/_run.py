"""A run: data and model from a config, training with checkpoints, and the folder it leaves.

The folder's layout, readers and writers belong to :class:`mnistlab.runs.RunDir`; this module
decides what goes into it and when (a checkpoint after every epoch, the summary at the end).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError, DataError, MnistlabError
from ..data import (
    Dataset,
    NormStats,
    corrupt_labels,
    fit_normalization,
    load,
    select_classes,
    stratified_split_indices,
    train_val_split,
)
from ..runs import CHECKPOINT, RunDir, TrainConfig, check_out, device_info, mean_std, resolve, versions
from ..runs import now as _now
from ._console import ConsoleReporter

EPOCH_DEPENDENT_SCHEDULES = ("cosine", "warmup-cosine", "one-cycle")


@dataclass
class RunData:
    config: TrainConfig  # with ``dataset`` resolved
    train: Dataset
    evals: dict[str, Dataset]
    norm: NormStats | None
    notice: str | None = None
    # With ``corrupt``: which training images carry a wrong label (derived, for inspection only).
    mislabelled: np.ndarray | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.train.class_names)

    @property
    def num_classes(self) -> int:
        return len(self.train.class_names)


@dataclass
class RunResult:
    run_dir: Path
    config: TrainConfig
    status: str
    message: str
    history: Any
    summary: dict = field(default_factory=dict)
    state: Any = None


# --- data ---------------------------------------------------------------------------------------


def prepare_data(config: TrainConfig, *, data_dir=None, progress: bool = True) -> RunData:
    """Load, select, corrupt, split and fit normalisation exactly as ``config`` says."""
    import jax

    notice = None
    name = config.dataset
    if name == "auto":
        try:
            # Quietly: failing mirrors are expected offline, and the notice below says what happened.
            train = load("mnist", "train", data_dir=data_dir, progress=False, timeout=10)
            test = load("mnist", "test", data_dir=data_dir, progress=False, timeout=10)
            name = "mnist"
        except DataError as exc:
            why = str(exc).split(";")[0]
            notice = (
                f"MNIST is not cached and could not be downloaded ({why}); training on the bundled "
                "MNIST sample (5,000 images: 4,000 train / 1,000 test) instead. Give --dataset mnist "
                "to insist, or `mnistlab data fetch mnist` when online."
            )
            name = "mnist-sample"
    if name != "mnist" or config.dataset != "auto":
        train = load(name, "train", data_dir=data_dir, progress=progress)
        test = load(name, "test", data_dir=data_dir, progress=progress)
    config = config.replace(dataset=name)
    if config.classes:  # select_classes checks the indices against the dataset
        train, test = select_classes(train, config.classes), select_classes(test, config.classes)
    data_key = jax.random.PRNGKey(config.data_seed)
    if config.corrupt:
        if config.corrupt > len(train):
            raise ConfigError(
                f"corrupt must be <= {len(train)} (the training set's size); got {config.corrupt}"
            )
        train, mislabelled = corrupt_labels(train, config.corrupt, key=jax.random.fold_in(data_key, 0))
    else:
        mislabelled = None
    evals = {}
    if config.val_fraction:
        val_key = jax.random.fold_in(data_key, 1)
        if mislabelled is not None:  # the same split, applied to the mask
            rest, _ = stratified_split_indices(train.labels, config.val_fraction, key=val_key)
            mislabelled = mislabelled[rest]
        train, val = train_val_split(train, config.val_fraction, key=val_key)
        evals["validation"] = val
    evals["test"] = test
    norm = fit_normalization(train.images) if config.preprocess == "global" else None
    return RunData(config, train, evals, norm, notice, mislabelled)


def build_model_for(config: TrainConfig, num_classes: int, image_shape):
    from ..models import build_model

    model = build_model(
        config.model,
        num_classes=num_classes,
        widths=config.widths,
        activation=config.activation,
        layers=config.layers,
        init=config.init,
        init_scale=config.init_scale,
        image_shape=tuple(image_shape),
    )
    if model.kind == "binary" and num_classes != 2:
        raise ConfigError(
            f"model {config.model} is a binary classifier and needs exactly two classes; got {num_classes}. "
            "Give --classes A,B (B becomes label 1, the positive class), e.g. --classes 7,1"
        )
    return model


def _with_model_defaults(config: TrainConfig, spec: dict) -> TrainConfig:
    """Write the model's own defaults (widths, activation, layers, init scale) into the config,
    so the saved config.toml names every number and stays right if a default changes later."""
    changes = {}
    if "widths" in spec:
        changes["widths"] = tuple(spec["widths"])
    if "activation" in spec:
        changes["activation"] = spec["activation"]
    if "layers" in spec:
        changes["layers"] = spec["layers"]
    if spec.get("init_scale") is not None:
        changes["init_scale"] = float(spec["init_scale"])
    return config.replace(**changes)


# --- files --------------------------------------------------------------------------------------


def read_metrics(run_dir: str | os.PathLike) -> tuple[list[dict], np.ndarray | None]:
    """A run folder's per-epoch records and per-step losses ``(seeds, steps)`` (see RunDir)."""
    run = RunDir(run_dir)
    return run.metrics(), run.steps()


def summarize_history(history, kind: str) -> dict:
    """Final and best test numbers (mean over seeds; per-seed values and std alongside)."""
    good = [r for r in history.epochs if not r.get("diverged")]
    if not good:
        return {}
    last = good[-1]
    out: dict[str, Any] = {"epochs": last["epoch"]}
    metric = "test_accuracy" if kind != "autoencoder" else "test_loss"
    for k, v in last.items():
        if k.endswith(("_loss", "_accuracy")):
            m, s = mean_std(v)
            out[f"final_{k}"] = m
            if isinstance(v, list) and len(v) > 1:
                out[f"final_{k}_std"] = s
                out[f"final_{k}_per_seed"] = v
    if metric in last:
        best = (max if kind != "autoencoder" else min)(good, key=lambda r: mean_std(r[metric])[0])
        out[f"best_{metric}"] = mean_std(best[metric])[0]
        out["best_epoch"] = best["epoch"]
    out["train_seconds"] = sum(r["epoch_seconds"] for r in good)
    out["mean_epoch_seconds"] = out["train_seconds"] / len(good)
    return out


# --- the two entry points -------------------------------------------------------------------------


def _dataset_info(data: RunData) -> dict:
    return {
        "name": data.config.dataset,
        "title": data.train.title,
        "class_names": list(data.class_names),
        "num_classes": data.num_classes,
        "sizes": {"train": len(data.train), **{k: len(v) for k, v in data.evals.items()}},
        "provenance": {
            "train": data.train.provenance.as_dict(),
            **{k: v.provenance.as_dict() for k, v in data.evals.items()},
        },
        "normalization": None if data.norm is None else {"mean": data.norm.mean, "std": data.norm.std},
        "notice": data.notice,
    }


def _title(config: TrainConfig, data: RunData, engine) -> str:
    seeds = config.seeds
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds {list(seeds)} in one program"
    sizes = ", ".join(f"{len(v):,} {k}" for k, v in [("train", data.train), *data.evals.items()])
    import jax

    return (
        f"Training {config.model} on {data.train.title} ({sizes}): {config.epochs} epochs of "
        f"{engine.steps_per_epoch} steps (batch {config.batch_size}), {config.optimizer} lr {config.lr:g}"
        f"{'' if config.schedule == 'constant' else ' ' + config.schedule}, {seed_text}, {config.dtype} on "
        f"{jax.default_backend()}"
    )


def train(
    config: TrainConfig,
    *,
    data_dir=None,
    out=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    _resume_from: RunDir | None = None,
) -> RunResult:
    """Train as ``config`` says, writing a run folder; returns how it ended and its summary.

    ``command`` is recorded in run.json (the CLI passes its command line).
    """
    from .._compute import precision

    with precision(config.dtype):
        return _train(
            config,
            data_dir=data_dir,
            out=out,
            quiet=quiet,
            console=console,
            resume_from=_resume_from,
            command=command,
        )


def _train(config: TrainConfig, *, data_dir, out, quiet, console, resume_from, command) -> RunResult:
    from ._engine import Engine, History
    from ._fit import fit

    reporter = ConsoleReporter(console, quiet=quiet)
    config = resolve(config)
    # Check what can be checked without data first, so a typo never waits for (or downloads) data.
    build_model_for(config, len(config.classes) or 10, (28, 28))
    if resume_from is None:
        check_out(out)
    data = prepare_data(config, data_dir=data_dir, progress=not quiet)
    if data.notice:
        (reporter.console if not quiet else _stderr_console()).print(
            f"note: {data.notice}", highlight=False, markup=False
        )
    config = data.config
    model = build_model_for(config, data.num_classes, data.train.image_shape)
    config = _with_model_defaults(config, model.spec)
    engine = Engine(
        model,
        config,
        n_train=len(data.train),
        image_shape=data.train.image_shape,
        num_classes=data.num_classes,
        norm=data.norm,
    )
    state, history = None, None
    if resume_from is None:
        run = RunDir.create(out, config)
        info = {
            "created": _now(),
            "command": command,
            "versions": versions(),
            "device": device_info(),
            "dataset": _dataset_info(data),
            "model": {**model.spec, "kind": model.kind, "input_layout": model.input_layout},
            "seeds": list(config.seeds),
            "steps_per_epoch": engine.steps_per_epoch,
            "status": "running",
        }
    else:
        run = resume_from
        info = dict(run.info)
        state, meta = run.load_checkpoint(engine.init())
        history = History.from_dict(meta["history"])
        info.setdefault("resumed", []).append({"at": _now(), "from_epoch": meta["epoch"], "command": command})
        info["status"] = "running"
    run.write_info(info)

    def on_epoch(epoch, state, history):
        run.save_checkpoint(state, {"epoch": epoch, "history": history.as_dict()})
        run.write_metrics(history, config.seeds)

    reporter.title = _title(config, data, engine)
    result = fit(
        engine,
        data.train,
        state=state,
        history=history,
        evals=data.evals,
        on_epoch=on_epoch,
        reporter=reporter,
    )
    done = result.epochs_done
    if result.status == "interrupted":
        if done:
            on_epoch(done, result.state, _trim(result.history, done))
        result.message += f"; resume with: mnistlab train --resume {run.path}"
    else:
        # on_epoch has saved every finished epoch; a diverged run adds its last record (and a
        # checkpoint even when it diverged in its first epoch, before on_epoch ever ran).
        if result.status == "diverged":
            run.write_metrics(result.history, config.seeds)
            run.save_checkpoint(result.state, {"epoch": done, "history": result.history.as_dict()})
        run.save_params(result.state.params, {"epoch": done})
    summary = summarize_history(result.history, model.kind)
    summary["compile_seconds"] = result.compile_seconds
    info.update(
        status=result.status,
        message=result.message,
        updated=_now(),
        summary=summary,
        param_count=int(sum(np.size(a) for a in _leaves(result.state.params)) // len(config.seeds)),
    )
    run.write_info(info)
    return RunResult(run.path, config, result.status, result.message, result.history, summary, result.state)


def _trim(history, done: int):
    from ._engine import History

    return History(history.epochs[:done], history.step_loss[:done])


def _leaves(tree):
    import jax

    return jax.tree.leaves(tree)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def read_run(run_dir: str | os.PathLike) -> tuple[Path, TrainConfig, dict]:
    """The config and run.json of a run folder, with errors that say what is missing."""
    run = RunDir.open(run_dir)
    return run.path, run.config, run.info


def resume(
    run_dir, *, epochs: int | None = None, data_dir=None, quiet: bool = False, console=None, command=None
) -> RunResult:
    """Continue a run from its last checkpoint; ``epochs`` may extend it."""
    run = RunDir.open(run_dir)
    config, info = run.config, run.info
    if info.get("status") == "diverged":
        raise ConfigError(
            f"{run.path} diverged ({info.get('message', '')}); start a new run with a smaller --lr"
        )
    if not run.has_checkpoint():
        raise ConfigError(
            f"{run.path} has no {CHECKPOINT} yet (it stopped before its first epoch ended); "
            "start it again instead"
        )
    done = run.checkpoint_meta()["epoch"]
    if epochs is not None and epochs != config.epochs:
        if config.schedule in EPOCH_DEPENDENT_SCHEDULES:
            raise ConfigError(
                f"--epochs cannot change a run whose schedule ({config.schedule}) depends on the number of "
                f"epochs; it was trained for {config.epochs}"
            )
        if epochs < done:
            raise ConfigError(
                f"--epochs must be >= {done}, the epochs already done in {run.path}; got {epochs}"
            )
        config = config.replace(epochs=epochs)
        run.write_config(config)
    if done >= config.epochs:
        raise ConfigError(
            f"{run.path} already finished all {config.epochs} epochs; give --epochs N (N > {config.epochs}) "
            "to train further"
        )
    return train(config, data_dir=data_dir, quiet=quiet, console=console, command=command, _resume_from=run)


class RunError(MnistlabError):
    """A run ended without finishing (diverged or interrupted)."""
