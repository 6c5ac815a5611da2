"""How much memory a run needs, estimated before anything is allocated.

Why: a typo in a size option (``--widths 100000000``, ``--seeds 1000``) should be one line naming
the estimate and what the machine has, not an out-of-memory traceback minutes later with a
half-written run folder. The estimate counts what training keeps alive at once: every seed's
parameters and optimizer state, a gradient and an update of the parameters, the training images
on the device, and the evaluation buffers; activations of a batch are small next to those for
the models here and are left out, so the estimate is a lower bound.
"""

from __future__ import annotations

import math

import numpy as np

from .._compute import check_memory


def _bytes(tree) -> int:
    import jax

    return int(sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in jax.tree.leaves(tree)))


def training_bytes(engine, n_images: int, n_eval: int) -> tuple[int, int]:
    """``(estimate, parameter values per seed)`` for training ``engine`` on ``n_images`` images
    and scoring ``n_eval``; traced with ``jax.eval_shape``, so nothing is allocated."""
    import jax

    state = jax.eval_shape(engine.init)
    params = _bytes(state.params)
    h, w = engine.image_shape
    seeds = len(engine.seeds)
    per_seed = sum(math.prod(a.shape[1:]) for a in jax.tree.leaves(state.params))
    data = (n_images + n_eval) * h * w
    evaluation = engine.config.eval_batch_size * max(engine.num_classes, h * w) * 4 * seeds * 2
    return _bytes(state) + 2 * params + data + evaluation, per_seed


def check_training_memory(engine, n_images: int, n_eval: int) -> None:
    """Refuse a run that cannot fit in the memory available (see :func:`training_bytes`)."""
    estimate, per_seed = training_bytes(engine, n_images, n_eval)
    seeds = len(engine.seeds)
    check_memory(
        estimate,
        f"{per_seed:,} parameters x {seeds} seed{'s' if seeds > 1 else ''} with {engine.config.optimizer}'s "
        "state, gradients, the data and evaluation buffers",
        "use smaller --widths or --layers, fewer --seeds, or a machine with more memory",
    )
