"""Optimizers and learning-rate schedules by name, built from Optax pieces in one uniform way.

    schedule = make_schedule("cosine", 0.1, steps_per_epoch=469, epochs=10)
    tx = make_optimizer("momentum", schedule, momentum=0.9, weight_decay=5e-4)   # an optax transform

Names: :data:`OPTIMIZERS` (one small function each in ``_alias``, e.g. :func:`adam`) and
:data:`SCHEDULES`; :func:`optimizer_table` and :func:`schedule_table` describe them.
:data:`PARAM_CONSTRAINTS` and :data:`FLAGS` say what each parameter may be and which ``mnistlab
train`` flag sets it, for whoever validates a configuration before building anything.
"""

from ._alias import (
    DEFAULT_ADAMW_WEIGHT_DECAY,
    DEFAULT_MOMENTUM,
    DEFAULT_RMS_DECAY,
    OPTIMIZER_SPECS,
    OPTIMIZERS,
    OptimizerSpec,
    adam,
    adamw,
    default_lr,
    get_optimizer_spec,
    make_optimizer,
    momentum,
    nesterov,
    optimizer_table,
    rmsprop,
    sgd,
)
from ._params import FLAGS, PARAM_CONSTRAINTS, check_param
from ._schedules import SCHEDULE_SPECS, SCHEDULES, ScheduleSpec, current_lr, make_schedule, schedule_table

__all__ = [
    "DEFAULT_ADAMW_WEIGHT_DECAY",
    "DEFAULT_MOMENTUM",
    "DEFAULT_RMS_DECAY",
    "FLAGS",
    "OPTIMIZERS",
    "OPTIMIZER_SPECS",
    "PARAM_CONSTRAINTS",
    "SCHEDULES",
    "SCHEDULE_SPECS",
    "OptimizerSpec",
    "ScheduleSpec",
    "adam",
    "adamw",
    "check_param",
    "current_lr",
    "default_lr",
    "get_optimizer_spec",
    "make_optimizer",
    "make_schedule",
    "momentum",
    "nesterov",
    "optimizer_table",
    "rmsprop",
    "schedule_table",
    "sgd",
]
