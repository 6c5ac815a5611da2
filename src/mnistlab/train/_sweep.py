"""Sweeps: several runs that differ only in hyperparameters, trained as ONE compiled program.

>>> from mnistlab import train
>>> base = train.TrainConfig(dataset="mnist-sample", model="mlp", epochs=3)
>>> results = train.train_sweep([base.replace(lr=lr) for lr in (0.1, 0.01)], outs=["runs/a", "runs/b"])

Each config gets its usual run folder (config.toml with its own values, metrics, checkpoint,
params, run.json), written as :func:`~mnistlab.train.train` writes it, so ``report``, ``serve``,
``compare``, ``evaluate`` and ``train --resume`` see ordinary runs. What the configs may differ in:
:data:`SWEEP_FIELDS` (see ``_points``); :func:`sweep_groups` splits a list into such groups.

A point whose loss goes non-finite is marked "diverged" in its own folder and the others go on.
:func:`resume_sweep` continues an interrupted sweep as one program when its unfinished runs
stopped at the same epoch (they do, since they share every epoch), and otherwise resumes each
run on its own (:func:`~mnistlab.train.resume`), which gives the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .._errors import ConfigError
from ..runs import RUN_JSON, RunDir, TrainConfig, check_out, resolve
from ..runs import now as _now
from ._console import ConsoleReporter
from ._data import build_model_for, check_model_fits, prepare_data, with_model_defaults
from ._memory import check_training_memory
from ._points import SWEEP_FIELDS, check_sweep, sweep_groups
from ._result import RunResult
from ._resume import history_at
from ._run import new_run_info, record_end
from ._summary import title_line

FINISHED = ("completed", "diverged")


def train_sweep(
    configs: Sequence[TrainConfig],
    *,
    outs: Sequence[str | os.PathLike],
    data_dir=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
) -> list[RunResult]:
    """Train ``configs`` (differing only in :data:`SWEEP_FIELDS`) as one program, run ``i`` into
    ``outs[i]``; one :class:`RunResult` per config, each as :func:`~mnistlab.train.train` returns it."""
    from .._compute import precision

    points = check_sweep(configs)
    if len(outs) != len(points):
        raise ConfigError(f"train_sweep needs one out folder per config ({len(points)}); got {len(outs)}")
    if len({os.path.abspath(o) for o in outs}) != len(outs):
        raise ConfigError("train_sweep's out folders must differ; got the same folder twice")
    check_model_fits(points[0], data_dir=data_dir)
    for out in outs:
        check_out(out)
    with precision(points[0].dtype):
        return _group(points, outs, None, data_dir=data_dir, quiet=quiet, console=console, command=command)


def resume_sweep(
    run_dirs: Sequence[str | os.PathLike],
    *,
    data_dir=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
) -> list[RunResult]:
    """Continue the runs of an interrupted sweep: finished ones are left as they are (returned as
    read), the others resumed as one program when they stopped at the same epoch, else each alone."""
    from .._compute import precision
    from ._run import resume

    runs = [RunDir.open(p, unstarted=True) for p in run_dirs]
    results: list[RunResult | None] = [None] * len(runs)
    pending = []
    for i, run in enumerate(runs):
        if run.info.get("status") in FINISHED:
            results[i] = _as_read(run)
        else:
            pending.append(i)
    done = {(runs[i].checkpoint_meta()["epoch"] if runs[i].has_checkpoint() else 0) for i in pending}
    if len(pending) == 1 or len(done) > 1:  # at different epochs: each continues alone
        for i in pending:
            results[i] = resume(
                runs[i].path, data_dir=data_dir, quiet=quiet, console=console, command=command
            )
    elif pending:
        group = [runs[i] for i in pending]
        points = check_sweep([r.config for r in group])
        with precision(points[0].dtype):
            out = _group(
                points, None, group, data_dir=data_dir, quiet=quiet, console=console, command=command
            )
        for i, r in zip(pending, out, strict=True):
            results[i] = r
    return results


def _as_read(run: RunDir) -> RunResult:
    from ._engine import History

    info = run.info
    history = History(*run.logged_history(len(run.metrics())))
    return RunResult(
        run.path, run.config, info["status"], info.get("message", ""), history, info.get("summary", {})
    )


def _group(points, outs, resumed, *, data_dir, quiet, console, command) -> list[RunResult]:
    """Build the data, model and one engine for ``points``; train them in their folders (new in
    ``outs``, or the ``resumed`` RunDirs); finish each folder as a run of its own is finished."""
    from ._engine import Engine
    from ._fit import fit_sweep

    reporter = ConsoleReporter(console, quiet=quiet)
    data = prepare_data(points[0], data_dir=data_dir, progress=not quiet)
    if data.notice:
        reporter.note(f"note: {data.notice}")
    # What the data made of the first config (e.g. dataset "auto" resolved) holds for every point.
    first = resolve(points[0]).as_dict()
    made = {k: v for k, v in data.config.as_dict().items() if k not in SWEEP_FIELDS and first.get(k) != v}
    points = [c.replace(**made) for c in points]
    model = build_model_for(points[0], data.num_classes, data.train.image_shape)
    points = [with_model_defaults(c, model.spec) for c in points]
    engine = Engine(
        model,
        points[0],
        n_train=len(data.train),
        image_shape=data.train.image_shape,
        num_classes=data.num_classes,
        norm=data.norm,
        sweep=points,
    )
    check_training_memory(engine, len(data.train), sum(len(d) for d in data.evals.values()))
    state, histories, runs, infos = _open_runs(engine, data, model, points, outs, resumed, command)
    for run, info in zip(runs, infos, strict=True):
        run.write_info(info)

    def on_epoch(epoch, p, state, history):
        # The logs first: after a kill they hold the checkpoint's epoch or one more, never less.
        runs[p].append_metrics(history, points[p].seeds)
        runs[p].save_checkpoint(state, {"epoch": epoch})

    reporter.title = f"sweep of {len(points)} runs, one line each per epoch: " + "; ".join(
        f"{r.path.name} (lr {c.lr:g}, l2 {c.l2:g}, l1 {c.l1:g})" for r, c in zip(runs, points, strict=True)
    )
    reporter.title += "\n" + title_line(points[0], data, engine)
    try:
        fits = fit_sweep(
            engine,
            data.train,
            state=state,
            histories=histories,
            evals=data.evals,
            on_epoch=on_epoch,
            reporter=reporter,
        )
    except BaseException as exc:  # an interruption while compiling, or a bug: every folder says so
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        for run, info in zip(runs, infos, strict=True):
            info.update(status=what, updated=_now(), message=f"{what} before the sweep's next epoch: {exc!r}")
            run.write_info(info)
        raise
    return [
        _finish(run, info, c, res, model.kind)
        for run, info, c, res in zip(runs, infos, points, fits, strict=True)
    ]


def _open_runs(engine, data, model, points, outs, resumed, command):
    """The group's state and histories (None for a new sweep), its RunDirs and their run.json."""
    mesh = engine.layout.as_dict()
    fresh = {**new_run_info(data, model, engine, command, seeds=()), "mesh": mesh, "status": "running"}
    sweep = {"runs": len(points)}
    if resumed is None:
        runs = [RunDir.create(out, c) for out, c in zip(outs, points, strict=True)]
        infos = [
            {**fresh, "seeds": list(c.seeds), "sweep": {**sweep, "index": i}} for i, c in enumerate(points)
        ]
        return None, None, runs, infos
    runs, infos, histories, parts = list(resumed), [], [], []
    template = engine.init()
    for i, (run, c, r) in enumerate(zip(runs, points, engine_rows(engine), strict=True)):
        if run.has_checkpoint():
            info = dict(run.info)
            mine = type(template)(*(_take(t, r) for t in template))
            state, meta = run.load_checkpoint(mine)
            history = history_at(run, meta)
            run.write_metrics(history, c.seeds)  # cut the logs back to the checkpoint
            done = meta["epoch"]
        else:  # it stopped before its first checkpoint: start again from epoch 0
            old = run.info if (run.path / RUN_JSON).is_file() else {}
            info = {**fresh, "seeds": list(c.seeds), "created": old.get("created", fresh["created"])}
            info["resumed"] = list(old.get("resumed", []))
            state, history, done = type(template)(*(_take(t, r) for t in template)), None, 0
        info.setdefault("resumed", []).append({"at": _now(), "from_epoch": done, "command": command})
        info.update(status="running", mesh=fresh["mesh"], sweep={**sweep, "index": i})
        infos.append(info)
        histories.append(history)
        parts.append(state)
    if any(h is None for h in histories):  # none has a checkpoint (they share every epoch)
        return None, None, runs, infos
    import jax

    state = jax.tree.map(lambda *a: np.concatenate([np.asarray(x) for x in a]), *parts)
    return state, histories, runs, infos


def engine_rows(engine) -> list[slice]:
    from ._points import member_rows

    return member_rows(engine.points)


def _take(tree, rows: slice):
    import jax

    return jax.tree.map(lambda a: a[rows], tree)


def _finish(run: RunDir, info: dict, config: TrainConfig, result, kind: str) -> RunResult:
    """Write what :func:`~mnistlab.train.train` writes at a run's end, for one point."""
    summary = record_end(run, info, config, result, kind)
    return RunResult(run.path, config, result.status, result.message, result.history, summary, result.state)


__all__ = ["SWEEP_FIELDS", "resume_sweep", "sweep_groups", "train_sweep"]
