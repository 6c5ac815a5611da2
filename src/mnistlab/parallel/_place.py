"""Arrays onto a mesh and back.

Why ``jax.make_array_from_callback`` rather than ``jax.device_put`` of the whole array: with
several processes, each process may only touch its own devices; the callback is asked for
exactly the slices those devices hold, so each process transfers only its devices' share.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def place(tree, mesh, spec) -> Any:
    """Every leaf of ``tree`` (host or device arrays) as a global array on ``mesh``, laid out by
    the ``PartitionSpec`` ``spec`` (one spec for all leaves)."""
    import jax
    from jax.sharding import NamedSharding

    sharding = NamedSharding(mesh, spec)

    def one(leaf):
        host = np.asarray(leaf)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(one, tree)


def is_fully_addressable(tree) -> bool:
    """True when this process holds every shard of every leaf (always, in one process)."""
    import jax

    return all(getattr(a, "is_fully_addressable", True) for a in jax.tree.leaves(tree))


def to_host(tree) -> Any:
    """Every leaf as a NumPy array holding the whole of it.

    Across processes this is a collective (every process must call it, in the same order): the
    shards other processes hold are gathered with ``multihost_utils.process_allgather``.
    """
    import jax

    if is_fully_addressable(tree):
        return jax.tree.map(np.asarray, tree)
    from jax.experimental import multihost_utils

    return jax.tree.map(np.asarray, multihost_utils.process_allgather(tree, tiled=True))
