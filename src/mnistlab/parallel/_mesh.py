"""The mesh a run asks for: how many devices, split how between members and data.

Why refuse rather than pad a member count that does not divide the ``members`` axis: padded
members would be computed and thrown away, and the saved state would need un-padding everywhere
it is read; the default never needs either (see :func:`plan`), and an explicit ``--mesh`` that
does not fit says so in one line with the meshes that would.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError

MEMBERS, DATA = "members", "data"
_MESH_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


@dataclass(frozen=True)
class _DeviceCount:
    """``"all"`` or a whole number >= 1 (as text from the command line, or an int)."""

    def accepts(self, value) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return value >= 1
        return isinstance(value, str) and (value == "all" or (value.isdigit() and int(value) >= 1))

    def describe(self) -> str:
        return "'all' or a whole number >= 1"


@dataclass(frozen=True)
class _MeshShape:
    """``MEMBERSxDATA``, two whole numbers >= 1, e.g. ``4x2``."""

    def accepts(self, value) -> bool:
        m = isinstance(value, str) and _MESH_RE.match(value)
        return bool(m) and int(m.group(1)) >= 1 and int(m.group(2)) >= 1

    def describe(self) -> str:
        return "MEMBERSxDATA with two whole numbers >= 1, e.g. 4x2"


# The constraints of the config's ``devices`` and ``mesh`` fields (mnistlab._checks reads them).
DEVICES = (_DeviceCount(),)
MESH = (_MeshShape(),)


def parse_mesh(text: str) -> tuple[int, int]:
    """``"4x2"`` -> ``(4, 2)``: members, data."""
    m = _MESH_RE.match(text)
    if not m:
        raise ConfigError(f"mesh (--mesh) must be MEMBERSxDATA, e.g. 4x2; got {text!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass(frozen=True)
class Layout:
    """The mesh of one run: ``members`` x ``data`` devices (``mesh`` is None on one device)."""

    members: int
    data: int
    mesh: Any = None  # jax.sharding.Mesh, or None: one device, the engine's plain programs

    @property
    def size(self) -> int:
        return self.members * self.data

    def describe(self) -> str:
        """``mesh 4 members x 2 data on 8 cpu devices, 2 processes`` (the run summary's line)."""
        import jax

        kind = jax.devices()[0].platform
        where = f"{self.size} {kind} device" + ("s" if self.size != 1 else "")
        procs = jax.process_count()
        if procs > 1:
            where += f", {procs} processes"
        return f"mesh {self.members} members x {self.data} data on {where}"

    def as_dict(self) -> dict:
        return {"members": self.members, "data": self.data, "devices": self.size}


def _count(devices, available: int) -> int:
    if devices == "all":
        return available
    n = int(devices)
    if n > available:
        raise ConfigError(
            f"devices (--devices) asks for {n} devices but {available} are available; "
            f"give --devices {available} or --devices all"
        )
    return n


def plan(members: int, devices="1", mesh: str | None = None) -> Layout:
    """The layout for ``members`` vmapped members on ``devices`` devices, split as ``mesh``.

    Default split: as many devices to members as divide the member count (all of them when it
    divides, as with 8 seeds on 8 devices), the rest to data, so it never needs padding.
    Several processes must use every device: each process runs the same program on its share.
    """
    import jax
    import numpy as np

    available = jax.device_count()
    n = _count(devices, available)
    if mesh is not None:
        m, d = parse_mesh(mesh)
        if m * d != n:
            raise ConfigError(
                f"mesh (--mesh) {m}x{d} has {m * d} devices but --devices gives {n}; "
                f"give a mesh whose two numbers multiply to {n}"
            )
        if members % m:
            fits = [f"{k}x{n // k}" for k in range(1, n + 1) if n % k == 0 and members % k == 0]
            raise ConfigError(
                f"mesh (--mesh) {m}x{d} splits {members} members over {m} devices, which does not "
                f"divide; give a mesh whose members count divides {members}: {' or '.join(fits)}"
            )
    else:
        m = math.gcd(members, n)
        d = n // m
    if jax.process_count() > 1 and n != available:
        raise ConfigError(
            f"devices (--devices) gives {n} of the {available} devices of {jax.process_count()} "
            "processes; several processes must use them all: give --devices all"
        )
    if n == 1:
        return Layout(1, 1)
    from jax.sharding import Mesh

    return Layout(m, d, Mesh(np.array(jax.devices()[:n]).reshape(m, d), (MEMBERS, DATA)))
