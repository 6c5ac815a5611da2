"""Sweep points: several configs that differ only in hyperparameters, trained as ONE program.

An engine's members (the leading axis of its state) are ``points x seeds``: point ``p`` (one
config) holds ``len(p.seeds)`` consecutive members. What differs between points travels with the
members as VALUES, so one compiled epoch and one evaluation program serve them all:

- the penalties ``l2`` and ``l1``: per-member numbers multiplying the penalty terms inside the
  objective. A term is left out only when every point's lambda is 0, so a point with lambda 0
  beside one without adds ``0 * penalty``: an exact zero to the loss and to every gradient
  (``x + 0 == x``), so its arithmetic is its own run's.
- the optimizer step (``lr``, ``momentum``, ``weight_decay``, and the schedule built from them):
  per member, the INDEX of its point, and ``lax.switch`` over the points' own optimizers, each
  built by :func:`mnistlab.optim.make_optimizer` from that point's config exactly as a run of it
  alone builds it. Under ``vmap`` the switch becomes a select: every point's update is computed
  for every member and each keeps its own (P elementwise updates, small next to a gradient).

Why not ``optax.inject_hyperparams`` (which keeps numeric hyperparameters in the optimizer
state, where they could be set per member): it wraps the state (``InjectHyperparamsState``), so
a member's checkpoint would no longer be the checkpoint its run alone writes (and every existing
run's would change), and a schedule given to it is evaluated as given, shared by all members; the
docs say a scheduled hyperparameter cannot be overridden. The switch keeps each member's optimizer
state, schedule and rounding exactly its own run's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import jax
import numpy as np
from jax import lax

from .._errors import ConfigError
from ..optim import make_optimizer, make_schedule
from ..runs import TrainConfig, resolve
from . import _losses

# Fields in which the points of one program may differ.
SWEEP_FIELDS = ("lr", "l2", "l1", "momentum", "weight_decay", "seeds")


def _key_dict(config: TrainConfig) -> dict:
    c = resolve(config)
    d = {k: v for k, v in c.as_dict().items() if k not in SWEEP_FIELDS}
    # These change the optimizer state's shape (an add_decayed_weights link, rmsprop's trace),
    # which the points must share: the on/off must agree, the values may differ.
    d["weight decay on"] = bool(c.weight_decay) or (c.weight_decay is None and c.optimizer == "adamw")
    d["rmsprop momentum"] = c.optimizer == "rmsprop" and c.momentum is not None
    return d


def sweep_key(config: TrainConfig) -> str | None:
    """Configs with the same key can train as one program; None: this one trains alone (it asks
    for a device mesh, which a sweep does not use)."""
    if str(config.devices) not in ("None", "1") or config.mesh is not None:
        return None
    return json.dumps(_key_dict(config), sort_keys=True, default=str)


def check_sweep(configs: Sequence[TrainConfig]) -> tuple[TrainConfig, ...]:
    """The configs resolved, or a ConfigError naming the first field two of them disagree on."""
    if not configs:
        raise ConfigError("a sweep needs at least one config; got none")
    points = tuple(resolve(c) for c in configs)
    first = _key_dict(points[0])
    for i, c in enumerate(points[1:], start=1):
        d = _key_dict(c)
        bad = next((k for k in first if first[k] != d[k]), None)
        if bad is not None:
            raise ConfigError(
                f"the configs of a sweep may differ only in {', '.join(SWEEP_FIELDS)}; config {i} has "
                f"{bad} = {d[bad]!r}, config 0 {first[bad]!r}; train them as separate runs"
            )
    if any(sweep_key(c) is None for c in points) and len(points) > 1:
        raise ConfigError("a sweep runs on one device; got --devices or --mesh; train them as separate runs")
    return points


def sweep_groups(configs: Sequence[TrainConfig]) -> list[list[int]]:
    """Indices of ``configs`` grouped by :func:`sweep_key`, in first-seen order (a config that must
    train alone is a group of one)."""
    groups: dict[str, list[int]] = {}
    out: list[list[int]] = []
    for i, c in enumerate(configs):
        key = sweep_key(c)
        if key is None:
            out.append([i])
        elif key in groups:
            groups[key].append(i)
        else:
            groups[key] = [i]
            out.append(groups[key])
    return out


def member_rows(points: Sequence[TrainConfig]) -> list[slice]:
    """Point ``p``'s members: a slice of the leading axis."""
    rows, start = [], 0
    for c in points:
        rows.append(slice(start, start + len(c.seeds)))
        start += len(c.seeds)
    return rows


def optimizers(points: Sequence[TrainConfig], steps_per_epoch: int) -> tuple[tuple, tuple]:
    """Each point's schedule and optimizer, built exactly as an engine of that point alone builds them."""
    schedules = tuple(
        make_schedule(
            c.schedule,
            c.lr,
            steps_per_epoch=steps_per_epoch,
            epochs=c.epochs,
            factor=c.lr_factor,
            step_epochs=c.step_epochs,
            warmup_epochs=c.warmup_epochs,
            final_lr=c.final_lr,
        )
        for c in points
    )
    txs = tuple(
        make_optimizer(
            c.optimizer, s, momentum=c.momentum, weight_decay=c.weight_decay, clip_norm=c.clip_norm
        )
        for c, s in zip(points, schedules, strict=True)
    )
    return schedules, txs


def hyper_values(points: Sequence[TrainConfig], dtype) -> dict | None:
    """Per-member values (None for one point: the program is a plain run's): the point index and
    the penalties in the parameters' precision."""
    if len(points) == 1:
        return None
    sizes = [len(c.seeds) for c in points]
    return {
        "point": np.repeat(np.arange(len(points), dtype=np.int32), sizes),
        "l2": np.repeat(np.asarray([c.l2 for c in points], dtype), sizes),
        "l1": np.repeat(np.asarray([c.l1 for c in points], dtype), sizes),
    }


def add_penalty(points: Sequence[TrainConfig], value, params, hyper):
    """``value`` plus this member's ``l2`` and ``l1`` terms, in the order a run alone adds them."""
    if any(c.l2 for c in points):
        value = value + hyper["l2"] * _losses.l2_penalty(params)
    if any(c.l1 for c in points):
        value = value + hyper["l1"] * _losses.l1_penalty(params)
    return value


def switch_update(txs, grads, opt_state, params, hyper):
    """This member's point's optimizer step (see the module's docstring)."""
    branches = [lambda g, s, p, tx=tx: tx.update(g, s, p) for tx in txs]
    return lax.switch(hyper["point"], branches, grads, opt_state, params)


def check_same_state(txs, params) -> None:
    """The points' optimizer states must have one structure (the switch needs it): a ConfigError
    otherwise (e.g. a weight decay of 0 beside a positive one, which adds a link to the chain)."""
    shapes = [jax.eval_shape(tx.init, params) for tx in txs]
    first = jax.tree.structure(shapes[0])
    for i, s in enumerate(shapes[1:], start=1):
        if jax.tree.structure(s) != first:
            raise ConfigError(
                f"sweep point {i}'s optimizer state differs in shape from point 0's; "
                "train them as separate runs"
            )


# Whether a sweep's epoch runs its members one after another (``lax.map``) rather than batched
# (``vmap``), by backend. Both are one compiled program over the same per-member values. On a CPU
# a vmapped matmul is a batched one, which XLA:CPU runs slower than plain ones (bench/sweep.py:
# S5's three rates took ~1.3x the seconds of three separate runs per epoch, like --seeds 3); a
# loop keeps each member's plain matmuls, and its switch a real branch (only its own optimizer).
# An accelerator is filled better by the batched form.
MEMBER_LOOP = {"cpu": True}


def member_loop(epoch_one):
    """``epoch_one`` over the members axis, one member at a time, in one program."""

    def run(params, opt_state, shuffle_key, epoch, images, labels, hyper):
        def one(member):
            p, s, k, h = member
            return epoch_one(p, s, k, epoch, images, labels, h)

        return lax.map(one, (params, opt_state, shuffle_key, hyper))

    return run
