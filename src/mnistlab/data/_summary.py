"""Descriptive statistics of a dataset split, for ``mnistlab data info`` and reports."""

from __future__ import annotations

import numpy as np

from ._dataset import Dataset
from ._transforms import moments_from_histogram, pixel_histogram


def summarize(ds: Dataset) -> dict:
    """Counts per class, pixel statistics and provenance, as plain JSON-ready values."""
    counts = ds.class_counts()
    pixels = {"mean": float("nan"), "std": float("nan"), "min": 0, "max": 0, "zero_fraction": float("nan")}
    if ds.images.size:
        # One pass over the pixels: every statistic below follows from the histogram.
        hist = pixel_histogram(ds.images)
        mean, std = moments_from_histogram(hist)
        present = np.flatnonzero(hist)
        pixels = {
            "mean": mean,
            "std": std,
            "min": int(present[0]),
            "max": int(present[-1]),
            "zero_fraction": float(hist[0] / ds.images.size),
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
