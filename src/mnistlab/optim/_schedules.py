"""Learning-rate schedules by name: one builder each, in a table with the parameters it reads.

A schedule is a function of the optimizer's integer step count, which counts batches from 0.
Where Optax has the same function it is Optax's (``exponential_decay(staircase=True)``,
``cosine_decay_schedule``, ``warmup_cosine_decay_schedule``, ``cosine_onecycle_schedule``); the
tests check each against the closed form its docstring states, in float64.

Optax is imported inside the builders (see ``_alias``): the names are read without JAX.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optax

from .._checks import Interval, Options, check, describe, label
from .._errors import ConfigError
from ._params import FLAGS, PARAM_CONSTRAINTS, check_param


def constant(lr: float, *, steps_per_epoch: int, epochs: int) -> optax.Schedule:
    """``lr`` throughout."""
    import optax

    return optax.constant_schedule(lr)


def exponential(lr: float, *, steps_per_epoch: int, epochs: int, factor: float) -> optax.Schedule:
    """``lr * factor ** (step // steps_per_epoch)``: multiplied by ``factor`` at each epoch start
    and constant within an epoch (study S9's "lr *= factor each epoch")."""
    import optax

    return optax.exponential_decay(lr, steps_per_epoch, factor, staircase=True)


def step(lr: float, *, steps_per_epoch: int, epochs: int, factor: float, step_epochs: int) -> optax.Schedule:
    """``lr * factor ** (epoch // step_epochs)``: multiplied by ``factor`` every ``step_epochs`` epochs."""
    import optax

    return optax.exponential_decay(lr, step_epochs * steps_per_epoch, factor, staircase=True)


def _final(lr: float, final_lr: float | None) -> float:
    if final_lr is None:
        return 0.0
    return check_param("final_lr", final_lr, (Interval(float, 0.0, lr, "both"),))


def cosine(lr: float, *, steps_per_epoch: int, epochs: int, final_lr: float | None = None) -> optax.Schedule:
    """From ``lr`` at step 0 along half a cosine down to ``final_lr`` (default 0) at the end of the
    run, ``epochs * steps_per_epoch``; ``final_lr`` after that."""
    import optax

    final = _final(lr, final_lr)
    return optax.cosine_decay_schedule(lr, epochs * steps_per_epoch, alpha=final / lr)


def warmup_cosine(
    lr: float, *, steps_per_epoch: int, epochs: int, warmup_epochs: float, final_lr: float | None = None
) -> optax.Schedule:
    """Linear from 0 to ``lr`` over the first ``warmup_epochs`` epochs (may be fractional, less
    than ``epochs``), then a cosine down to ``final_lr`` (default 0) at the end of the run."""
    import optax

    final = _final(lr, final_lr)
    w = check_param("warmup_epochs", warmup_epochs, (Interval(float, 0.0, epochs, "left"),))
    total = epochs * steps_per_epoch
    # Rounding can bring a fractional warmup up to the whole run; keep >= 1 cosine step.
    warmup = min(round(w * steps_per_epoch), total - 1)
    if warmup == 0:  # Optax's linear part would be a zero-length ramp; the cosine alone is the same
        return optax.cosine_decay_schedule(lr, total, alpha=final / lr)
    return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, total, end_value=final)


def one_cycle(
    lr: float, *, steps_per_epoch: int, epochs: int, final_lr: float | None = None
) -> optax.Schedule:
    """``optax.cosine_onecycle_schedule`` over the whole run with peak ``lr``: cosine up from
    ``lr / 25`` over the first 30% of the steps, then down to ``final_lr`` (default
    ``lr / 25 / 1e4``, Optax's), which must then be in (0, lr)."""
    import optax

    div_factor = 25.0
    final_div_factor = 1e4
    if final_lr is not None:
        final = check_param("final_lr", final_lr, (Interval(float, 0.0, lr, "neither"),))
        final_div_factor = lr / div_factor / final
    return optax.cosine_onecycle_schedule(
        transition_steps=epochs * steps_per_epoch,
        peak_value=lr,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
    )


@dataclass(frozen=True)
class ScheduleSpec:
    """A schedule: its builder, the parameters it reads (``required`` ones must be given)."""

    name: str
    summary: str
    params: tuple[str, ...]
    required: tuple[str, ...]
    build: Callable[..., optax.Schedule]


SCHEDULE_SPECS: Mapping[str, ScheduleSpec] = MappingProxyType(
    {
        s.name: s
        for s in (
            ScheduleSpec("constant", "lr throughout", (), (), constant),
            ScheduleSpec(
                "exponential", "lr * factor**epoch (x factor at each epoch start)", ("factor",), ("factor",),
                exponential,
            ),
            ScheduleSpec(
                "step", "x factor every step_epochs epochs", ("factor", "step_epochs"),
                ("factor", "step_epochs"), step,
            ),
            ScheduleSpec("cosine", "half a cosine from lr to final_lr (0)", ("final_lr",), (), cosine),
            ScheduleSpec(
                "warmup-cosine", "linear warmup over warmup_epochs, then cosine to final_lr (0)",
                ("warmup_epochs", "final_lr"), ("warmup_epochs",), warmup_cosine,
            ),
            ScheduleSpec(
                "one-cycle", "cosine up from lr/25 over 30% of the run, then down to final_lr",
                ("final_lr",), (), one_cycle,
            ),
        )
    }
)  # fmt: skip
SCHEDULES = tuple(SCHEDULE_SPECS)


_CROSS_FIELD = ("warmup_epochs", "final_lr")
# What a required parameter is, for the message when it is missing.
_NEEDS = {
    "factor": describe(PARAM_CONSTRAINTS["factor"]),
    "step_epochs": "a positive integer",
    "warmup_epochs": "a number of epochs in [0, epochs = {epochs})",
}


def _only_used_by(param: str) -> str:
    users = [s.name for s in SCHEDULE_SPECS.values() if param in s.params]
    which = users[0] if len(users) == 1 else f"{', '.join(users[:-1])} and {users[-1]}"
    return f"the {which} schedule{'s' if len(users) > 1 else ''}"


def make_schedule(
    name: str,
    lr: float,
    *,
    steps_per_epoch: int,
    epochs: int,
    factor: float | None = None,
    step_epochs: int | None = None,
    warmup_epochs: float | None = None,
    final_lr: float | None = None,
) -> optax.Schedule:
    """The learning rate as a function of the step count (batches done, from 0).

    ``name`` is one of :data:`SCHEDULES`; each builder's docstring says what it computes.
    ``"exponential"`` needs ``factor`` in (0, 1]; ``"step"`` needs ``factor`` and ``step_epochs``;
    ``"warmup-cosine"`` needs ``warmup_epochs`` in [0, epochs). A parameter the named schedule does
    not read must be left ``None`` (giving one is likely a typo, so it is refused).
    """
    spec = SCHEDULE_SPECS[check("schedule", name, (Options(SCHEDULES),), flag="--schedule")]
    lr = check_param("lr", lr)
    sizes = {"steps_per_epoch": check_param("steps_per_epoch", steps_per_epoch)}
    sizes["epochs"] = check_param("epochs", epochs)
    given = {
        "factor": factor,
        "step_epochs": step_epochs,
        "warmup_epochs": warmup_epochs,
        "final_lr": final_lr,
    }
    for param, value in given.items():
        if value is not None and param not in spec.params:
            raise ConfigError(
                f"{label(param, FLAGS.get(param))} is only used by {_only_used_by(param)}; "
                f"got {value!r} with schedule {name!r}"
            )
    for param in spec.required:
        if given[param] is None:
            what = _NEEDS[param].format(epochs=sizes["epochs"])
            raise ConfigError(f"the {name} schedule needs {label(param, FLAGS.get(param))}, {what}; got none")
    # warmup_epochs and final_lr are checked by their builders, against epochs and lr.
    params = {p: given[p] if p in _CROSS_FIELD else check_param(p, given[p]) for p in spec.params}
    params = {p: v for p, v in params.items() if v is not None}
    return spec.build(lr, **sizes, **params)


def current_lr(schedule: optax.Schedule | float, step: int) -> float:
    """The learning rate ``schedule`` gives at ``step``, as a Python float (for logs and plots)."""
    if callable(schedule):
        return float(schedule(operator.index(check("step", step, (Interval(int),)))))
    return float(schedule)


def schedule_table() -> list[tuple[str, str, str]]:
    """``(name, parameters, summary)`` per schedule, for help texts and the README."""
    return [(s.name, ", ".join(s.params), s.summary) for s in SCHEDULE_SPECS.values()]


__all__ = [
    "SCHEDULES",
    "SCHEDULE_SPECS",
    "ScheduleSpec",
    "constant",
    "cosine",
    "current_lr",
    "exponential",
    "make_schedule",
    "one_cycle",
    "schedule_table",
    "step",
    "warmup_cosine",
]
