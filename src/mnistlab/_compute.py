"""Small JAX helpers shared by training, evaluation and the report: the one place for each.

- :func:`precision`: the numeric mode a dtype needs (float64 only inside an x64 context);
- :func:`eval_indices`: a set of ``n`` examples as padded, masked fixed-size chunks, so a
  compiled evaluation program sees one shape whatever the set's size;
- :func:`chunk_size`: how big those chunks are for a set of ``n``.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np


def precision(dtype: str):
    """The JAX numeric mode ``dtype`` needs: float64 arrays exist only with x64 enabled.

    A context rather than a global switch, so a float64 run does not change the integer widths
    (and so the shuffles) of float32 runs in the same process.
    """
    if dtype != "float64":
        return contextlib.nullcontext()
    import jax

    return jax.enable_x64(True)


def eval_indices(n: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """``(chunks, batch)`` indices covering ``0..n-1`` once, and the mask of the real (unpadded) ones."""
    batch = min(batch, n)
    b = math.ceil(n / batch)
    idx = np.zeros(b * batch, np.int32)
    idx[:n] = np.arange(n)
    mask = np.arange(b * batch) < n
    return idx.reshape(b, batch), mask.reshape(b, batch)


def chunk_size(n: int, largest: int) -> int:
    """Rows per compiled call: ``largest``, or for a smaller set the next power of two, so sets of
    many sizes share a few programs while a small set is not padded to ``largest``."""
    if n >= largest:
        return largest
    return min(largest, 1 << max(n - 1, 0).bit_length())
