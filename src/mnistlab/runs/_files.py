"""What every results folder records: package versions, the device, timestamps, strict JSON and CSV.

Run folders (``mnistlab train``) and study folders (``mnistlab study``) write their files through
these, so every folder states the same facts in the same form.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from .._fs import atomic_write_bytes


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("mnistlab", "jax", "jaxlib", "flax", "optax", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def device_info() -> dict[str, Any]:
    import jax

    d = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "kind": getattr(d, "device_kind", str(d)),
        "count": jax.device_count(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def finite(obj):
    """``obj`` with NaN and infinities as None: strict JSON readers (jq, browsers) reject NaN."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


def write_json(path: Path, obj) -> None:
    text = json.dumps(finite(obj), indent=2, default=_json_default, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON: {type(o)}")


def csv_bytes(rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation of a per-seed list (a lone number: itself and 0)."""
    values = values if isinstance(values, list) else [values]
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, 0.0
    # By hand rather than statistics.stdev, which fails on NaN (a diverged seed) instead of giving NaN.
    return m, math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


# Runs saved before the model recorded its input size were all trained on 28x28 images.
_LEGACY_IMAGE_SHAPE = (28, 28)


def run_image_shape(info: dict) -> tuple[int, int]:
    """The ``(height, width)`` the run's model takes, as ``run.json`` recorded it when it was built."""
    shape = (info.get("model") or {}).get("image_shape") or _LEGACY_IMAGE_SHAPE
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise DataError(f"run.json: model.image_shape must be [height, width]; found {shape!r}") from None
    return h, w
