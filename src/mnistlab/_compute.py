"""Small JAX helpers shared by training, evaluation and the report: the one place for each.

- :func:`precision`: the numeric mode a dtype needs (float64 only inside an x64 context);
- :func:`eval_indices`: a set of ``n`` examples as padded, masked fixed-size chunks, so a
  compiled evaluation program sees one shape whatever the set's size;
- :func:`chunk_size`: how big those chunks are for a set of ``n``;
- :func:`padded_chunks` and :func:`map_chunks`: the same idea from Python, for programs called
  once per chunk (scoring, prediction, summed gradients);
- :func:`over_seeds`: a function of one seed's parameters mapped over a run's leading seed axis;
- :func:`available_memory` and :func:`check_memory`: refuse a job too big for the machine before
  anything is allocated, naming the estimate and what is available.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence

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


def padded_chunks(arrays: Sequence[np.ndarray], size: int) -> Iterator[tuple[list[np.ndarray], int]]:
    """Consecutive ``size``-row chunks of equally long ``arrays``, each with its number of real rows.

    The last chunk is padded with zero rows up to ``size``, so a program called on every chunk sees
    one shape (one compilation) and memory stays bounded whatever the set's size. The caller drops
    or masks the padded rows' results: zeros are valid inputs (a blank image, class 0), not
    neutral ones.
    """
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"padded_chunks needs arrays of one length; got {[len(a) for a in arrays]}")
    for start in range(0, n, size):
        part = [np.asarray(a[start : start + size]) for a in arrays]
        real = len(part[0])
        if real < size:
            part = [np.concatenate([p, np.zeros((size - real, *p.shape[1:]), p.dtype)]) for p in part]
        yield part, real


def map_chunks(fn: Callable, arrays: Sequence[np.ndarray], size: int):
    """``fn(*chunk)`` over :func:`padded_chunks` of ``arrays``, as if called on all of them at once.

    ``fn`` returns a pytree of arrays whose FIRST axis is the example axis; each leaf comes back as
    one NumPy array over the real rows of every chunk, padding cut off. ``arrays`` must not be empty.
    """
    import jax

    outs = [
        jax.tree.map(lambda a, r=real: np.asarray(a)[:r], fn(*part))
        for part, real in padded_chunks(arrays, size)
    ]
    if not outs:
        raise ValueError("map_chunks needs at least one row")
    return jax.tree.map(lambda *parts: np.concatenate(parts), *outs)


def over_seeds(fn: Callable, several: bool, in_axes: int | tuple | None = 0) -> Callable:
    """``fn`` (of one seed's arguments) over the leading seed axis of the arguments whose axis is 0.

    ``jax.vmap(fn, in_axes)`` for ``several`` seeds. For one, ``fn`` itself on the arguments with
    that axis dropped, its outputs given it back: a size-1 vmap is not free, it turns every matmul
    into a batched one, which XLA:CPU may run slower. ``in_axes`` is 0 or None per argument.
    """
    import jax

    if several:
        return jax.vmap(fn, in_axes=in_axes)

    def one(*args):
        axes = in_axes if isinstance(in_axes, tuple | list) else (in_axes,) * len(args)
        args = [jax.tree.map(lambda a: a[0], a) if ax == 0 else a for a, ax in zip(args, axes, strict=True)]
        return jax.tree.map(lambda a: a[None], fn(*args))

    return one


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def available_memory() -> tuple[int, str] | None:
    """Bytes the default device can still allocate, and where that number comes from; None when
    unknown. An accelerator reports its own (``memory_stats``); on CPU it is the host's
    ``MemAvailable`` (what the kernel can give without swapping), else ``sysconf``'s free pages."""
    import jax

    device = jax.devices()[0]
    if device.platform != "cpu":
        stats = getattr(device, "memory_stats", lambda: None)() or {}
        if "bytes_limit" in stats:
            free = int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
            return free, f"free on {getattr(device, 'device_kind', device.platform)}"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "MemAvailable in /proc/meminfo"
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "free memory (sysconf)"
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(estimate: int, what: str, fix: str) -> None:
    """Refuse (one-line :class:`~mnistlab.ConfigError`) a job whose ``estimate`` in bytes exceeds
    the memory available; ``what`` says what was counted, ``fix`` what to change."""
    from ._errors import ConfigError

    found = available_memory()
    if found is None or estimate <= found[0]:
        return
    available, source = found
    raise ConfigError(
        f"this needs about {gib(estimate)} of memory ({what}), but only {gib(available)} is available "
        f"({source}); {fix}"
    )
