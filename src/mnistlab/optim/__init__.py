"""Optimizers and learning-rate schedules (placeholder re-exports until the optim package lands)."""

from ..train._optim import OPTIMIZERS, SCHEDULES, current_lr, make_optimizer, make_schedule

_DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}


def default_lr(name: str) -> float:
    return _DEFAULT_LR[name]


__all__ = ["OPTIMIZERS", "SCHEDULES", "current_lr", "default_lr", "make_optimizer", "make_schedule"]
