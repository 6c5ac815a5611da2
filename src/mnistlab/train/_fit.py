"""The training loop: epochs of an :class:`~mnistlab.train.Engine`, with evaluation, progress,
divergence detection, the run's own per-epoch hook (its checkpoint) and the user's callbacks.

Why here and not in the engine: the engine is the compiled programs; this is the Python that
drives them epoch by epoch, where interruptions and non-finite losses are handled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from ..data import Dataset
from . import _points
from ._callbacks import Callback, call_callbacks, check_callbacks
from ._engine import Engine, FitResult, History, TrainState


def _first_bad(totals: np.ndarray) -> tuple[int, int, float] | None:
    """(seed index, step index, value) of the first non-finite step loss, or None."""
    bad = ~np.isfinite(totals)
    if not bad.any():
        return None
    steps = np.where(bad.any(axis=1), bad.argmax(axis=1), totals.shape[1])
    s = int(steps.argmin())
    return s, int(steps[s]), float(totals[s, steps[s]])


def _diverged(engine: Engine, cfg, epoch: int, bad) -> str:
    """The message of a run (``cfg``) whose loss went non-finite at ``bad`` (see ``_first_bad``)."""
    seed_i, step_i, value = bad
    which = f" (seed {cfg.seeds[seed_i]})" if len(cfg.seeds) > 1 else ""
    where = f"epoch {epoch + 1}, step {step_i + 1}"
    if cfg.steps:  # count steps as --steps does: from the start of the run
        where = f"step {epoch * engine.steps_per_epoch + step_i + 1}"
    return f"diverged at {where}{which}: loss is {value}; try a smaller learning rate (--lr, now {cfg.lr:g})"


def _setup(engine: Engine, train: Dataset, state, evals, reporter, start: int):
    """The state and data placed, both programs compiled: ``(state, images, labels, eval_sets)``.

    On a mesh the state is split over the members axis and the data copied to every device; on
    one device both are placed as they are. What the hooks and the result get is readable by
    this process (gathered from the others when several processes hold it).
    """
    state = engine.place_state(state if state is not None else engine.init())
    images = engine.place_data(np.asarray(train.images, np.uint8))
    labels = engine.place_data(np.asarray(train.labels, np.int32))
    eval_sets = {
        name: (engine.place_data(np.asarray(ds.images)), engine.place_data(np.asarray(ds.labels)))
        for name, ds in (evals or {}).items()
    }
    if engine.config.eval_train:
        eval_sets = {"train_eval": (images, labels), **eval_sets}
    if reporter:
        reporter.start(engine, start)
    engine.compile_epoch(state, images, labels)
    for x, y in eval_sets.values():
        engine.evaluate(state.params, x, y)  # compile now, so epoch times are steady-state
    if reporter:
        reporter.compiled(engine.compile_seconds)
    return state, images, labels, eval_sets


def _record(engine: Engine, epoch: int, loss_sum, correct, seconds: float, params, eval_sets) -> dict:
    """Epoch ``epoch``'s record: per-member lists of its train and evaluation numbers."""
    seen = engine.examples_in(epoch)  # a dropped last partial batch is not seen
    record = {
        "epoch": epoch + 1,
        "step": (epoch + 1) * engine.steps_per_epoch,
        "lr": engine.lr_at(epoch * engine.steps_per_epoch),
        "train_loss": (np.asarray(loss_sum, np.float64) / seen).tolist(),
        "train_accuracy": (np.asarray(correct, np.float64) / seen).tolist(),
        "epoch_seconds": seconds,
        "examples_per_second": seen * len(engine.seeds) / seconds,
    }
    t1 = time.perf_counter()
    for name, (x, y) in eval_sets.items():
        loss, acc = engine.evaluate(params, x, y)
        record[f"{name}_loss"], record[f"{name}_accuracy"] = loss.tolist(), acc.tolist()
    record["eval_seconds"] = time.perf_counter() - t1
    if engine.model.kind == "autoencoder":
        record = {k: v for k, v in record.items() if not k.endswith("accuracy")}
    return record


def fit(
    engine: Engine,
    train: Dataset,
    *,
    state: TrainState | None = None,
    history: History | None = None,
    evals: dict[str, Dataset] | None = None,
    on_epoch: Callable[[int, TrainState, History], None] | None = None,
    callbacks: Sequence[Callback] | None = None,
    reporter=None,
) -> FitResult:
    """Train ``engine.config.epochs`` epochs (continuing ``history`` when resuming).

    ``evals`` maps names ("validation", "test") to datasets scored after every epoch.
    ``on_epoch(epoch, state, history)`` runs after each finished epoch (a run checkpoints there);
    then each of ``callbacks`` is called as ``callback(record, history, state)``, and one that
    returns True stops training after that epoch with status "stopped" (see
    :mod:`mnistlab.train._callbacks` for the protocol).
    A non-finite loss stops training: the result keeps the last finite state and says where.
    """
    callbacks = check_callbacks(callbacks)
    cfg = engine.config
    history = history or History()
    start = len(history.epochs)
    state, images, labels, eval_sets = _setup(engine, train, state, evals, reporter, start)
    status, message = "completed", ""
    epoch = start
    try:
        for epoch in range(start, cfg.epochs):
            t0 = time.perf_counter()
            new_state, totals, loss_sum, correct = engine.run_epoch(state, epoch, images, labels)
            totals = np.asarray(totals)  # blocks until the epoch is done
            seconds = time.perf_counter() - t0
            bad = _first_bad(totals)
            record = _record(engine, epoch, loss_sum, correct, seconds, new_state.params, eval_sets)
            history.step_loss.append(totals.astype(np.float32))
            if bad is not None:
                record["diverged"] = True
                history.epochs.append(record)
                status, message = "diverged", _diverged(engine, cfg, epoch, bad)
                if reporter:
                    reporter.epoch(record, history)
                break
            history.epochs.append(record)
            state = new_state
            if reporter:
                reporter.epoch(record, history)
            readable = engine.host_state(state) if (on_epoch or callbacks) else state
            if on_epoch:
                on_epoch(epoch + 1, readable, history)
            stop_by = call_callbacks(callbacks, record, history, readable)
            if stop_by is not None and epoch + 1 < cfg.epochs:
                status, message = "stopped", f"stopped by callback {stop_by} after epoch {epoch + 1}"
                break
    except KeyboardInterrupt:
        status = "interrupted"
        message = f"interrupted during epoch {epoch + 1}; the last finished epoch is {len(history.epochs)}"
    finally:
        if reporter:
            reporter.stop()
    done = len([r for r in history.epochs if not r.get("diverged")])
    return FitResult(engine.host_state(state), history, status, message, engine.compile_seconds, done)


def _member_slice(record: dict, rows: slice) -> dict:
    """A point's part of a sweep's record: its members' entries of every per-member list."""
    return {k: v[rows] if isinstance(v, list) else v for k, v in record.items()}


def fit_sweep(
    engine: Engine,
    train: Dataset,
    *,
    state: TrainState | None = None,
    histories: Sequence[History] | None = None,
    evals: dict[str, Dataset] | None = None,
    on_epoch: Callable[[int, int, TrainState, History], None] | None = None,
    reporter=None,
) -> list[FitResult]:
    """:func:`fit` for an engine of several points (a sweep): one result per point.

    Every point's records, step losses and divergence are its own, as :func:`fit` gives its run
    alone: a point whose loss goes non-finite stops there with its last finite state ("diverged")
    while the others go on (its members keep computing, unread: nothing crosses members).
    ``on_epoch(epoch, point, state, history)`` runs after each epoch for each healthy point, with
    that point's slice of the state. ``histories`` (one per point) all hold the same epochs.
    """
    rows = _points.member_rows(engine.points)
    histories = list(histories) if histories is not None else [History() for _ in rows]
    start = len(histories[0].epochs)
    state, images, labels, eval_sets = _setup(engine, train, state, evals, reporter, start)
    take = lambda tree, r: jax.tree.map(lambda a: a[r], tree)  # noqa: E731
    status = ["completed"] * len(rows)
    messages = [""] * len(rows)
    finals: list = [None] * len(rows)  # a diverged point's last finite state
    live = list(range(len(rows)))
    epoch = committed = start  # committed: the epochs that ``state`` holds
    try:
        for epoch in range(start, engine.config.epochs):
            t0 = time.perf_counter()
            new_state, totals, loss_sum, correct = engine.run_epoch(state, epoch, images, labels)
            totals = np.asarray(totals)  # blocks until the epoch is done
            seconds = time.perf_counter() - t0
            record = _record(engine, epoch, loss_sum, correct, seconds, new_state.params, eval_sets)
            for p in list(live):
                r, cfg = rows[p], engine.points[p]
                mine = {
                    **_member_slice(record, r),
                    "lr": engine.lr_at(epoch * engine.steps_per_epoch, p),
                }
                histories[p].step_loss.append(totals[r].astype(np.float32))
                bad = _first_bad(totals[r])
                if bad is not None:
                    mine["diverged"] = True
                    status[p], messages[p] = "diverged", _diverged(engine, cfg, epoch, bad)
                    finals[p] = take(state, r)
                    live.remove(p)
                histories[p].epochs.append(mine)
                if reporter:
                    reporter.epoch(mine, histories[p])
            state, committed = new_state, epoch + 1
            if on_epoch:
                for p in live:
                    on_epoch(epoch + 1, p, take(state, rows[p]), histories[p])
            if not live:
                break
    except KeyboardInterrupt:
        for p in live:  # an epoch cut short between its records and its state is not kept
            del histories[p].epochs[committed:], histories[p].step_loss[committed:]
            done = len(histories[p].epochs)
            status[p] = "interrupted"
            messages[p] = f"interrupted during epoch {epoch + 1}; the last finished epoch is {done}"
    finally:
        if reporter:
            reporter.stop()
    out = []
    for p, r in enumerate(rows):
        history = histories[p]
        done = len([rec for rec in history.epochs if not rec.get("diverged")])
        final = finals[p] if finals[p] is not None else take(state, r)
        out.append(FitResult(final, history, status[p], messages[p], engine.compile_seconds, done))
    return out
