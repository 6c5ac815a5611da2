"""The parameters of optimizers and schedules: what each may be, and the flag that sets it.

Declared once, as data, so that the library's builders, the training config and the CLI refuse
the same values with the same one-line message (:func:`mnistlab._checks.check`)::

    lr (--lr) must be a number > 0; got 0
    momentum (--momentum) must be a number in [0, 1); got 1.0

``PARAM_CONSTRAINTS`` holds what a GIVEN value must be; ``None`` ("unset", the default) is the
caller's business. Limits that depend on another parameter are cross-field rules and live with the
builder that knows both: ``warmup_epochs < epochs``, ``final_lr <= lr`` (``< lr`` for one-cycle).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .._checks import Interval, check

_POSITIVE = (Interval(float, 0.0, None, "neither"),)
_FRACTION = (Interval(float, 0.0, 1.0, "left"),)  # [0, 1): a decay rate or a momentum
_COUNT = (Interval(int, 1),)

PARAM_CONSTRAINTS: Mapping[str, tuple] = MappingProxyType(
    {
        "lr": _POSITIVE,
        "epochs": _COUNT,
        "steps_per_epoch": _COUNT,
        # schedules
        "factor": (Interval(float, 0.0, 1.0, "right"),),  # (0, 1]: 1 is a constant rate
        "step_epochs": _COUNT,
        "warmup_epochs": (Interval(float, 0.0),),  # and < epochs; may be fractional
        "final_lr": (Interval(float, 0.0),),  # and <= lr
        # optimizers
        "momentum": _FRACTION,
        "weight_decay": (Interval(float, 0.0),),
        "clip_norm": _POSITIVE,
        "b1": _FRACTION,
        "b2": _FRACTION,
        "eps": _POSITIVE,
        "rms_decay": _FRACTION,
    }
)

# ``mnistlab train``'s flag for each parameter; most values come from there, so messages name it.
# (The config field of ``factor`` is ``lr_factor``.)
FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "lr": "--lr",
        "epochs": "--epochs",
        "factor": "--lr-factor",
        "step_epochs": "--step-epochs",
        "warmup_epochs": "--warmup-epochs",
        "final_lr": "--final-lr",
        "momentum": "--momentum",
        "weight_decay": "--weight-decay",
        "clip_norm": "--clip-norm",
        "b1": "--b1",
        "b2": "--b2",
        "eps": "--eps",
        "rms_decay": "--rms-decay",
    }
)


@dataclass(frozen=True)
class _Bounds:
    """An :class:`Interval` described by its limits alone ("> 0", "in [0, 1)"): what a message says
    once the value is known to be a number of the right kind."""

    interval: Interval

    def accepts(self, value) -> bool:
        return self.interval.accepts(value)

    def describe(self) -> str:
        if self.interval == _COUNT[0]:
            return "a positive integer (>= 1)"
        return self.interval.describe().removeprefix("a number ").removeprefix("an integer ")


def check_param(param: str, value, constraints=None):
    """``value`` checked against ``param``'s constraints (or the given ones), as a float or int.

    Two steps, so that the message says what is wrong: first the kind (``lr (--lr) must be a
    finite number; got nan``), then the limits (``lr (--lr) must be > 0; got 0``). Integer
    parameters come back as ``int`` (NumPy integers included), the others as ``float`` (0-d NumPy
    and JAX arrays included: a rate read back from a checkpoint, say).
    """
    (interval,) = PARAM_CONSTRAINTS[param] if constraints is None else constraints
    flag = FLAGS.get(param)
    check(param, value, (Interval(interval.kind),), flag=flag)
    check(param, value, (_Bounds(interval),), flag=flag)
    return operator.index(value) if interval.kind is int else float(value)


__all__ = ["FLAGS", "PARAM_CONSTRAINTS", "check_param"]
