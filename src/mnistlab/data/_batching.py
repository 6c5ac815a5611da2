"""Mini-batches: each pass draws every example once, in an order fixed by a PRNG key.

``batch_indices`` is written in ``jax.numpy`` with static sizes so the training engine can call it
inside a compiled epoch; a kept last partial batch is padded to full size and masked, so every
batch has one shape and nothing recompiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError, check_int

if TYPE_CHECKING:  # annotations only: jaxtyping's import costs half of `import mnistlab`, Array imports JAX
    from jaxtyping import Array, Bool, Int


def num_batches(n: int, batch_size: int, *, drop_last: bool = False) -> int:
    """How many batches one pass over ``n`` examples makes."""
    batch_size, n = check_int("batch_size", batch_size), check_int("n", n)
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1; got {batch_size}")
    if n < 1:
        raise ConfigError(f"the dataset must hold at least one example; got n={n}")
    count = n // batch_size if drop_last else -(-n // batch_size)
    if count == 0:
        raise ConfigError(
            f"batch_size={batch_size} with drop_last=True leaves no batch from {n} examples; "
            f"use a batch size <= {n} or keep the last partial batch"
        )
    return count


def batch_indices(
    key, n: int, batch_size: int, *, drop_last: bool = False
) -> tuple[Int[Array, "b s"], Bool[Array, "b s"]]:
    """Indices of one pass, shape ``(num_batches, batch_size)``, and a mask of the real entries.

    Row ``i`` is batch ``i``. Without ``drop_last`` the last row is padded with index 0 and
    masked out. Same key, same batches; a new key, a new order. Jit-compatible when ``n``,
    ``batch_size`` and ``drop_last`` are static.
    """
    import jax
    import jax.numpy as jnp

    b = num_batches(n, batch_size, drop_last=drop_last)
    perm = jax.random.permutation(key, n)
    total = b * batch_size
    if total <= n:
        idx = perm[:total]
        mask = jnp.ones(total, bool)
    else:
        pad = total - n
        idx = jnp.concatenate([perm, jnp.zeros(pad, perm.dtype)])
        mask = jnp.arange(total) < n
    return idx.reshape(b, batch_size), mask.reshape(b, batch_size)


def iterate_batches(
    key, *arrays: np.ndarray, batch_size: int, drop_last: bool = False
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield tuples of ``arrays`` sliced batch by batch; a kept last batch is smaller."""
    if not arrays:
        raise ConfigError("iterate_batches needs at least one array")
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ConfigError(f"arrays must have equal lengths; got {[len(a) for a in arrays]}")
    idx, mask = (np.asarray(a) for a in batch_indices(key, n, batch_size, drop_last=drop_last))
    for row, keep in zip(idx, mask, strict=True):
        sel = row[keep]
        yield tuple(a[sel] for a in arrays)
