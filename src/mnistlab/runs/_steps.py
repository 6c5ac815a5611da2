"""Step-based control: ``--steps N --eval-every K`` as ``N / K`` epochs of ``K`` steps each.

Why epochs of K steps: the loop, the per-epoch records, the checkpoint after every epoch and
exact resume all stay the epoch ones; only the engine's batch order changes (each "epoch" runs
K steps, the shuffle continuing across passes, see ``mnistlab.train.Engine``). So a run of
steps is resolved once, here, into the epoch count it implies.
"""

from __future__ import annotations

import math

from .._errors import ConfigError


def resolve_steps(c, *, default_epochs: int, max_epochs: int):
    """``c`` with ``eval_every`` filled (default: ``steps``) and ``epochs = steps / eval_every``.

    ``epochs`` may only be left at its default or already equal ``steps / eval_every`` (a resolved
    config read back from config.toml): anything else means both were asked for.
    """
    if c.steps is None:
        if c.eval_every is not None:
            raise ConfigError(
                f"--eval-every counts steps and needs --steps; got --eval-every {c.eval_every} without it "
                "(give --steps N, or drop --eval-every to score after every epoch)"
            )
        return c
    every = c.eval_every if c.eval_every is not None else c.steps
    if c.steps % every:
        raise ConfigError(
            f"--eval-every must divide --steps; got --steps {c.steps} and --eval-every {every} "
            f"(e.g. --eval-every {divisor_near(c.steps, every)})"
        )
    chunks = c.steps // every
    if c.epochs not in (default_epochs, chunks):
        raise ConfigError(
            f"--steps and --epochs are exclusive; got --steps {c.steps} and --epochs {c.epochs} "
            "(give one of them)"
        )
    if chunks > max_epochs:
        raise ConfigError(
            f"--steps / --eval-every must be at most {max_epochs:,} evaluations; got {c.steps} / {every} "
            f"= {chunks:,} (give a larger --eval-every)"
        )
    return c.replace(eval_every=every, epochs=chunks)


def divisor_near(n: int, k: int) -> int:
    """The divisor of ``n`` closest to ``k`` (the example in the error message)."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return min({*small, *(n // d for d in small)}, key=lambda d: (abs(d - k), d))
