"""Checkpoints: one ``.npz`` per save, written atomically, checked against the model on load.

Why not Orbax: a run here is a few MB of arrays saved once per epoch from one process. One npz
written to a temporary file, fsynced and renamed is atomic (a crash leaves the previous
checkpoint), loads bit-exactly with NumPy alone, and needs no background threads. Each leaf is
stored under its pytree path, so a checkpoint from a different model is a clear error rather
than a silent reshuffle.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from .._fs import atomic_write_bytes

_META = "__meta__"


def _flatten(tree) -> dict[str, np.ndarray]:
    import jax

    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


def save(path: str | Path, tree, meta: dict[str, Any]) -> None:
    """Write ``tree``'s leaves and a JSON ``meta`` dict to ``path`` atomically."""
    _save_arrays(path, _flatten(tree), meta)


def _save_arrays(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    buf = io.BytesIO()
    payload = {f"a{i}": a for i, a in enumerate(arrays.values())}
    meta = {**meta, "paths": list(arrays)}
    payload[_META] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(buf, **payload)
    atomic_write_bytes(path, buf.getvalue())


def read_meta(path: str | Path) -> dict[str, Any]:
    """The metadata alone (epoch, history, the arrays' paths): the arrays are not read."""
    return _open(path, meta_only=True)[1]


def read_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The stored arrays (keyed ``a0``, ``a1``, ... in the order of ``meta["paths"]``) and the
    metadata, without a template: for counting, not for loading a model."""
    return _open(path)


def verify(path: str | Path) -> None:
    """Raise a DataError unless ``path`` is a whole checkpoint: its metadata readable and every
    array's checksum right. Reads the file once, builds nothing (no model, no JAX)."""
    _open(path, meta_only=True)
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"checkpoint {path} is not a readable mnistlab checkpoint ({exc})") from None
    if bad is not None:
        raise DataError(f"checkpoint {path} is damaged: its array {bad} fails its checksum")


def extract(source: str | Path, dest: str | Path, prefix: str, meta: dict[str, Any]) -> int:
    """Copy the leaves of ``source`` stored under ``prefix`` (e.g. ``.params``) to ``dest``, as if
    their subtree had been saved on its own; returns how many values they hold.

    Why without a template: a run killed just after its last checkpoint finishes its bookkeeping
    (``params.npz``) from the checkpoint alone, with no model built, no data read, nothing compiled.
    """
    arrays, stored = _open(source)
    picked = {
        p[len(prefix) :]: arrays[f"a{i}"] for i, p in enumerate(stored["paths"]) if p.startswith(prefix + "[")
    }
    if not picked:
        raise DataError(f"checkpoint {source} holds no {prefix.lstrip('.')}; it was not written by mnistlab")
    _save_arrays(dest, picked, meta)
    return int(sum(a.size for a in picked.values()))


def _open(path: str | Path, meta_only: bool = False) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = [k for k in z.files if k == _META or not meta_only]
            arrays = {k: z[k] for k in names}
    except FileNotFoundError:
        raise DataError(f"checkpoint {path} does not exist") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"checkpoint {path} is not a readable mnistlab checkpoint ({exc})") from None
    if _META not in arrays:
        raise DataError(f"checkpoint {path} has no metadata; it was not written by mnistlab")
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"checkpoint {path} has damaged metadata ({exc})") from None
    paths = meta.get("paths") if isinstance(meta, dict) else None
    if not isinstance(paths, list) or (
        not meta_only and any(f"a{i}" not in arrays for i in range(len(paths)))
    ):
        raise DataError(f"checkpoint {path} has damaged metadata (its list of arrays does not match)")
    return arrays, meta


def load(path: str | Path, template) -> tuple[Any, dict[str, Any]]:
    """Leaves of ``path`` poured into ``template``'s structure; every path, shape and dtype must match."""
    import jax

    arrays, meta = _open(path)
    stored = dict(zip(meta["paths"], (arrays[f"a{i}"] for i in range(len(meta["paths"]))), strict=True))
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    out = []
    for key_path, leaf in leaves:
        key = jax.tree_util.keystr(key_path)
        if key not in stored:
            raise DataError(f"checkpoint {path} lacks {key}; it belongs to a different model or optimizer")
        a = stored[key]
        want = np.asarray(leaf)
        if a.shape != want.shape or a.dtype != want.dtype:
            raise DataError(
                f"checkpoint {path}: {key} is {a.dtype}{list(a.shape)}, the run's model needs "
                f"{want.dtype}{list(want.shape)}"
            )
        out.append(a)
    extra = set(stored) - {jax.tree_util.keystr(p) for p, _ in leaves}
    if extra:
        raise DataError(f"checkpoint {path} holds {sorted(extra)[0]}, which the run's model does not have")
    return jax.tree_util.tree_unflatten(treedef, out), meta
