"""Where a run's arrays live: a device mesh ``members x data`` and several processes.

Why JAX's own machinery and nothing home-made: a ``jax.sharding.Mesh`` with named axes,
``NamedSharding`` for placement, ``jax.shard_map`` for the per-device program and
``jax.distributed.initialize`` across processes and hosts. XLA does the communication.

- ``members``: the vmapped axis of a run (its seeds) is split over these devices; each member's
  arithmetic is unchanged, so results are bit-identical to one device;
- ``data``: each member's batch is split over these devices (data parallel), the gradients summed
  across them; the summation order changes, so results agree to float rounding.

- :func:`plan`: the mesh a run asks for (``--devices``, ``--mesh``), checked against what exists;
- :func:`place`, :func:`to_host`: arrays onto a mesh (each process only onto its own devices),
  and back as NumPy (gathered across processes when needed);
- :func:`initialize`, :func:`is_primary`: several processes (``--coordinator`` or SLURM).
"""

from ._mesh import DATA, DEVICES, MEMBERS, MESH, Layout, parse_mesh, plan
from ._place import is_fully_addressable, place, to_host
from ._processes import (
    Coordinator,
    DistributedError,
    coordinator_from_env,
    initialize,
    is_primary,
    process_count,
)

__all__ = [
    "DATA",
    "DEVICES",
    "MEMBERS",
    "MESH",
    "Coordinator",
    "DistributedError",
    "Layout",
    "coordinator_from_env",
    "initialize",
    "is_fully_addressable",
    "is_primary",
    "parse_mesh",
    "place",
    "plan",
    "process_count",
    "to_host",
]
