"""The per-epoch callback hook of :func:`~mnistlab.train.fit`, ``train`` and ``resume``.

The protocol is a plain callable, not a class to subclass, so a function, a lambda, a bound
method or an object with ``__call__`` all work::

    def callback(record: dict, history: History, state: TrainState) -> bool | None: ...

It is called after every finished epoch, after the run's own checkpoint (so whatever a callback
does, raising included, the epoch is already saved). ``record`` is the epoch's dict exactly as it
goes to ``metrics.jsonl``; ``history`` holds every record so far and the per-step losses;
``state`` is the training state after the epoch (one leading axis of one per seed). All three
are the run's own objects: read them, do not change them. Returning ``True`` stops training
after this epoch (status ``"stopped"``, resumable like an interrupted run); ``None`` or
``False`` continues. Anything else is an error rather than a guess: a lambda that happens to
return a list must not stop (or fail to stop) a run by accident.

Every callback is called for every epoch, even when an earlier one asked to stop, so a logger
placed after an early-stopping rule still logs the last epoch. A diverged epoch ends training
without calling them (its record is still written to ``metrics.jsonl``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import Items, NoneOK, TypeOf, check

if TYPE_CHECKING:
    from ._engine import History, TrainState

Callback = Callable[[dict, "History", "TrainState"], "bool | None"]

CALLBACKS = [NoneOK(), Items(TypeOf(Callable, "callables f(record, history, state) -> bool | None"))]


def check_callbacks(callbacks: Sequence[Callback] | None) -> tuple[Callback, ...]:
    """``callbacks`` as a tuple, checked before any work starts (a typo fails in a second)."""
    return tuple(check("callbacks", callbacks, CALLBACKS) or ())


def callback_name(callback: Any) -> str:
    """How messages name a callback: a function's name, else its class's."""
    name = getattr(callback, "__name__", None)
    return name if isinstance(name, str) else type(callback).__name__


def call_callbacks(callbacks: Sequence[Callback], record: dict, history, state) -> str | None:
    """Call each callback once; the name of the first that asked to stop, or None."""
    stop_by = None
    for cb in callbacks:
        answer = cb(record, history, state)
        if answer is None or isinstance(answer, bool | np.bool_):
            if answer and stop_by is None:
                stop_by = callback_name(cb)
            continue
        raise TypeError(
            f"callback {callback_name(cb)} returned {type(answer).__name__}; return True to stop "
            "training, None or False to continue"
        )
    return stop_by
