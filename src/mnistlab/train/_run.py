"""A run: data and model from a config, training with checkpoints, and the folder it leaves.

The folder's layout, readers and writers belong to :class:`mnistlab.runs.RunDir`; this module
decides what goes into it and when (a checkpoint after every epoch, the summary at the end).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import numpy as np

from .._checks import TypeOf, check
from .._errors import ConfigError, NoSpaceError
from ..parallel import is_primary, plan
from ..runs import (
    RUN_JSON,
    RunDir,
    TrainConfig,
    check_out,
    device_info,
    resolve,
    versions,
)
from ..runs import now as _now
from ._callbacks import Callback, check_callbacks
from ._console import ConsoleReporter
from ._data import build_model_for, check_model_fits, prepare_data, with_model_defaults
from ._memory import check_training_memory
from ._result import RunResult
from ._resume import finish_from_checkpoint, history_at
from ._summary import chance_info, dataset_info, summarize_history, title_line
from ._tensorboard import TENSORBOARD_DIR, finish_run_log, require_tensorboardx, run_logger

EPOCH_DEPENDENT_SCHEDULES = ("cosine", "warmup-cosine", "one-cycle")


# --- files --------------------------------------------------------------------------------------


def read_metrics(run_dir: str | os.PathLike) -> tuple[list[dict], np.ndarray | None]:
    """A run folder's per-epoch records and per-step losses ``(seeds, steps)`` (see RunDir)."""
    run = RunDir(run_dir)
    return run.metrics(), run.steps()


# --- the two entry points -------------------------------------------------------------------------


def train(
    config: TrainConfig,
    *,
    data_dir=None,
    out=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
    callbacks: Sequence[Callback] | None = None,
    tensorboard: bool = False,
    _resume_from: RunDir | None = None,
) -> RunResult:
    """Train as ``config`` says, writing a run folder; returns how it ended and its summary.

    ``command`` is recorded in run.json (the CLI passes its command line).
    ``callbacks``: called after every epoch, after its checkpoint, as ``callback(record, history,
    state)``; one returning True stops the run after that epoch (status "stopped", resumable).
    ``tensorboard``: also write TensorBoard event files into ``<run>/tensorboard/`` (a callback;
    needs the ``tensorboard`` extra).
    """
    from .._compute import precision
    from ._processes import as_follower as follower

    callbacks = check_callbacks(callbacks)
    check("tensorboard", tensorboard, [TypeOf(bool, "True or False")], flag="--tensorboard")
    if tensorboard:
        require_tensorboardx()  # before any data is read or any epoch is run
    # Several processes: each runs the whole run; only process 0 writes the folder and prints.
    with follower(out, _resume_from, quiet) as (out, _resume_from, quiet), precision(config.dtype):
        return _train(
            config,
            data_dir=data_dir,
            out=out,
            quiet=quiet,
            console=console,
            resume_from=_resume_from,
            command=command,
            callbacks=callbacks,
            tensorboard=tensorboard,
        )


def _train(
    config: TrainConfig, *, data_dir, out, quiet, console, resume_from, command, callbacks, tensorboard
) -> RunResult:
    from ._engine import Engine

    reporter = ConsoleReporter(console, quiet=quiet)
    config = resolve(config)
    # Check what can be checked without data first, so a typo never waits for (or downloads) data.
    check_model_fits(config, data_dir=data_dir)
    plan(len(config.seeds), config.devices, config.mesh)  # the devices asked for exist
    if resume_from is None:
        check_out(out)
    data = prepare_data(config, data_dir=data_dir, progress=not quiet)
    if data.notice:
        (reporter.console if not quiet else _stderr_console()).print(
            f"note: {data.notice}", highlight=False, markup=False
        )
    config = data.config
    model = build_model_for(config, data.num_classes, data.train.image_shape)
    config = with_model_defaults(config, model.spec)
    engine = Engine(
        model,
        config,
        n_train=len(data.train),
        image_shape=data.train.image_shape,
        num_classes=data.num_classes,
        norm=data.norm,
    )
    check_training_memory(engine, len(data.train), sum(len(d) for d in data.evals.values()))
    fresh = new_run_info(data, model, engine, command, seeds=config.seeds)
    state, history = None, None
    if resume_from is None:
        run, info = RunDir.create(out, config), fresh
    else:
        run = resume_from
        if run.has_checkpoint():
            info = dict(run.info)
            state, meta = run.load_checkpoint(engine.init())
            history = history_at(run, meta)
            done = meta["epoch"]
            # Cut the logs back to the checkpoint (a kill may have left one epoch more).
            run.write_metrics(history, config.seeds)
        else:  # it stopped before its first checkpoint: start again from epoch 0, its config as saved
            old = run.info if (run.path / RUN_JSON).is_file() else {}
            info, done = {**fresh, "created": old.get("created", fresh["created"])}, 0
            info["resumed"] = list(old.get("resumed", []))
        info.setdefault("resumed", []).append({"at": _now(), "from_epoch": done, "command": command})
    info.setdefault("chance", fresh["chance"])  # a run from before chance was recorded
    info["status"] = "running"
    info["mesh"] = engine.layout.as_dict()  # where it ran (last): a resume may change it
    try:
        return _run_and_record(
            run, info, config, data, model, engine, state, history, reporter, callbacks, tensorboard
        )
    except NoSpaceError as exc:  # a full disk mid-run: the last checkpoint is whole, so say how to go on
        raise exc.again(f"free space and run `mnistlab train --resume {run.path}`") from None


def _run_and_record(run, info, config, data, model, engine, state, history, reporter, callbacks, tensorboard):
    """Train in ``run``'s folder, writing run.json before and after, and say how it ended."""
    from ._engine import History
    from ._fit import fit

    resuming = history is not None or "resumed" in info
    tb = None
    if tensorboard:
        tb = run_logger(run.path, config, resuming=resuming, done=len(history.epochs) if history else 0)
        info["tensorboard"] = TENSORBOARD_DIR
        callbacks = (tb, *callbacks)  # first: an epoch is logged even when a later callback raises
    run.write_info(info)

    def on_epoch(epoch, state, history):
        # The logs first: after a kill they hold the checkpoint's epoch or one more, never less.
        run.append_metrics(history, config.seeds)
        run.save_checkpoint(state, {"epoch": epoch})

    reporter.title = title_line(config, data, engine)
    if engine.layout.size > 1:
        reporter.title += f", {engine.layout.describe()}"
    try:
        result = fit(
            engine,
            data.train,
            state=state,
            history=history,
            evals=data.evals,
            on_epoch=on_epoch,
            callbacks=callbacks,
            reporter=reporter,
        )
    except KeyboardInterrupt:  # before fit's own handler: while placing the data or compiling
        done = run.checkpoint_meta()["epoch"] if run.has_checkpoint() else 0
        message = (
            f"interrupted while compiling, before epoch {done + 1} started; "
            f"resume with: mnistlab train --resume {run.path}"
        )
        info.update(status="interrupted", message=message, updated=_now())
        run.write_info(info)
        if tb is not None:
            tb.close()
        return RunResult(run.path, config, "interrupted", message, history or History(), {}, state)
    except Exception as exc:  # a callback's (or a bug's): say so in run.json, keep the traceback
        done = run.checkpoint_meta()["epoch"] if run.has_checkpoint() else 0
        info.update(
            status="failed", updated=_now(), message=f"{type(exc).__name__} after epoch {done}: {exc}"
        )
        # A full disk: run.json keeps its previous state ("running"), and resume works.
        with contextlib.suppress(NoSpaceError):
            run.write_info(info)
        if tb is not None:
            tb.close()
        raise
    if tb is not None:
        finish_run_log(tb, result, class_names=data.class_names, image_shape=data.train.image_shape)
    summary = record_end(run, info, config, result, model.kind)
    return RunResult(run.path, config, result.status, result.message, result.history, summary, result.state)


def record_end(run, info: dict, config, result, kind: str) -> dict:
    """What a run's folder gets when its training ends (a plain run or one point of a sweep):
    the logs cut back after an interruption, the parameters, and run.json with the summary."""
    done = result.epochs_done
    if result.status in ("interrupted", "stopped"):
        if done and result.status == "interrupted":
            # Rewritten whole: the interruption may have cut an append short.
            run.write_metrics(_trim(result.history, done), config.seeds)
            run.save_checkpoint(result.state, {"epoch": done})
        result.message += f"; resume with: mnistlab train --resume {run.path}"
    else:
        # on_epoch has saved every finished epoch; a diverged run adds its last record (and a
        # checkpoint even when it diverged in its first epoch, before on_epoch ever ran).
        if result.status == "diverged":
            run.append_metrics(result.history, config.seeds)
            run.save_checkpoint(result.state, {"epoch": done})
        run.save_params(result.state.params, {"epoch": done})
    summary = summarize_history(result.history, kind, chance=info.get("chance"), seeds=config.seeds)
    summary["compile_seconds"] = result.compile_seconds
    info.update(
        status=result.status,
        message=result.message,
        updated=_now(),
        summary=summary,
        param_count=int(sum(np.size(a) for a in _leaves(result.state.params)) // len(config.seeds)),
    )
    run.write_info(info)
    return summary


def new_run_info(data, model, engine, command, *, seeds) -> dict:
    """run.json's record of a new run: where, with what and on what data it trains."""
    return {
        "created": _now(),
        "command": command,
        "versions": versions(),
        "device": device_info(),
        "dataset": dataset_info(data),
        "model": {**model.spec, "kind": model.kind, "input_layout": model.input_layout},
        "seeds": list(seeds),
        "steps_per_epoch": engine.steps_per_epoch,
        "chance": chance_info(data, model.kind),
    }


def _trim(history, done: int):
    from ._engine import History

    return History(history.epochs[:done], history.step_loss[:done])


def _leaves(tree):
    import jax

    return jax.tree.leaves(tree)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def resume(
    run_dir,
    *,
    epochs: int | None = None,
    devices=None,
    mesh: str | None = None,
    data_dir=None,
    quiet: bool = False,
    console=None,
    command=None,
    callbacks: Sequence[Callback] | None = None,
    tensorboard: bool = False,
) -> RunResult:
    """Continue a run from its last checkpoint; ``epochs`` may extend it; ``devices`` and ``mesh``
    may change where it runs (a checkpoint holds whole arrays, so any mesh can read it).
    ``callbacks`` and ``tensorboard`` as in :func:`train` (the TensorBoard log continues the run's own)."""
    run = RunDir.open(run_dir, unstarted=True)  # killed before its run.json: still a run
    config, info = run.config, run.info
    if info.get("status") == "diverged":
        raise ConfigError(
            f"{run.path} diverged ({info.get('message', '')}); start a new run with a smaller --lr"
        )
    # No checkpoint: it stopped before its first epoch ended, and starts again from epoch 0.
    done = run.checkpoint_meta()["epoch"] if run.has_checkpoint() else 0
    if epochs is not None and epochs != config.epochs and done:  # rules that protect trained epochs
        if config.steps:  # its epochs are --steps / --eval-every chunks, fixed by the config
            raise ConfigError(
                f"--epochs cannot change a run of --steps {config.steps}; start a new run with more --steps"
            )
        if config.schedule in EPOCH_DEPENDENT_SCHEDULES:
            raise ConfigError(
                f"--epochs cannot change a run whose schedule ({config.schedule}) depends on the number of "
                f"epochs; it was trained for {config.epochs}"
            )
        if epochs < done:
            raise ConfigError(
                f"--epochs must be >= {done}, the epochs already done in {run.path}; got {epochs}"
            )
    if epochs is not None and epochs != config.epochs:
        config = config.replace(epochs=epochs)
        if is_primary():
            run.write_config(config)
    placement = {k: v for k, v in (("devices", devices), ("mesh", mesh)) if v is not None}
    if devices is not None and mesh is None:
        placement["mesh"] = None  # the saved mesh was for the old device count: the default split
    if placement:
        config = config.replace(**placement)
        if is_primary():
            run.write_config(config)
    if done >= config.epochs and not run.params.is_file():
        return finish_from_checkpoint(run, config, command)
    if done >= config.epochs:
        raise ConfigError(
            f"{run.path} already finished all {config.epochs} epochs; give --epochs N (N > {config.epochs}) "
            "to train further"
        )
    return train(
        config,
        data_dir=data_dir,
        quiet=quiet,
        console=console,
        command=command,
        callbacks=callbacks,
        tensorboard=tensorboard,
        _resume_from=run,
    )
