"""Descriptive statistics of a dataset split, for ``mnistlab data info`` and reports."""

from __future__ import annotations

import numpy as np

from ._dataset import Dataset
from ._transforms import pixel_moments


def summarize(ds: Dataset) -> dict:
    """Counts per class, pixel statistics and provenance, as plain JSON-ready values."""
    counts = ds.class_counts()
    pixels = {"mean": float("nan"), "std": float("nan"), "min": 0, "max": 0, "zero_fraction": float("nan")}
    if ds.images.size:
        mean, std = pixel_moments(ds.images)
        pixels = {
            "mean": mean,
            "std": std,
            "min": int(ds.images.min()),
            "max": int(ds.images.max()),
            "zero_fraction": float(np.count_nonzero(ds.images == 0) / ds.images.size),
        }
    return {
        "dataset": ds.name,
        "title": ds.title,
        "split": ds.split,
        "n": len(ds),
        "image_shape": list(ds.image_shape),
        "classes": {name: int(c) for name, c in zip(ds.class_names, counts, strict=True)},
        "pixels": pixels,
        "provenance": ds.provenance.as_dict(),
    }
