"""Step progress from inside the compiled epoch: a host callback every N steps of the scan.

Why a callback at all: an epoch is ONE XLA program (a ``lax.scan`` over its steps), so the host
learns nothing between its start and its end; on a CPU a full-MNIST CNN epoch is half a minute
of a frozen bar. :func:`scan` is ``lax.scan`` plus, when a listener is attached to the engine
(:func:`attach`), a ``jax.debug.callback`` every ``every`` steps that hands the host the number
of steps done.

Why it is built this way:
- The step counter is a scanned ``arange``, not part of the carry, so the state the steps
  compute is untouched: results are bit-identical with progress on or off (a test checks it).
- The callback sits in a ``lax.cond`` whose predicate depends only on that counter. Under
  ``jax.vmap`` over seeds the counter is not batched, so the cond stays a real branch (a batched
  predicate would become a select that runs the callback on every step) and the callback, which
  takes only the counter, runs once per N steps, not once per seed.
- Under ``shard_map`` every device runs the body, so the listener may hear the same step once per
  device and out of order (``jax.debug.callback`` is unordered): it keeps the largest count.
- ``every`` is fixed per engine (about :data:`UPDATES` updates per epoch), so it adds no compile;
  without a listener the program is exactly the plain ``lax.scan``.
- Cost: one host round trip per N steps; ``bench/progress_overhead.py`` measures it (<= 2%).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

UPDATES = 40  # updates per epoch: a smooth bar, and few enough round trips to cost nothing


class StepListener:
    """What the compiled epoch reports to: ``on_step(done, total)`` from the callback thread.

    ``done`` only grows within an epoch (duplicates and late arrivals from other devices are
    dropped); :meth:`reset` starts the next epoch.
    """

    def __init__(self, on_step: Callable[[int, int], None], total: int, every: int):
        self.on_step, self.total, self.every = on_step, total, every
        self.done = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.done = 0

    def __call__(self, step) -> None:
        step = int(step)
        with self._lock:
            if step <= self.done:
                return
            self.done = step
        self.on_step(step, self.total)


def every_for(steps_per_epoch: int, updates: int = UPDATES) -> int:
    """Steps between two callbacks: about ``updates`` per epoch, at least 1."""
    return max(1, steps_per_epoch // max(1, updates))


def attach(engine, on_step: Callable[[int, int], None], *, updates: int = UPDATES) -> StepListener:
    """Make ``engine``'s epoch program (compiled after this call) report its steps to ``on_step``."""
    listener = StepListener(on_step, engine.steps_per_epoch, every_for(engine.steps_per_epoch, updates))
    engine.step_listener = listener
    return listener


def scan(engine, step, init, xs):
    """``lax.scan(step, init, xs)``, reporting every ``every`` steps to ``engine.step_listener``."""
    listener = getattr(engine, "step_listener", None)
    if listener is None:
        return lax.scan(step, init, xs)
    n = jax.tree.leaves(xs)[0].shape[0]
    every = listener.every

    def body(carry, x):
        k, batch = x
        carry, out = step(carry, batch)
        done = k + 1
        lax.cond(
            (done % every == 0) | (done == n),
            lambda d: jax.debug.callback(listener, d),
            lambda d: None,
            done,
        )
        return carry, out

    return lax.scan(body, init, (jnp.arange(n, dtype=jnp.int32), xs))
