"""Descriptive statistics of a dataset split, for ``mnistlab data info`` and reports."""

from __future__ import annotations

import numpy as np

from ._dataset import Dataset


def summarize(ds: Dataset) -> dict:
    """Counts per class, pixel statistics and provenance, as plain JSON-ready values."""
    x = ds.images.astype(np.float64) / 255.0
    counts = ds.class_counts()
    return {
        "dataset": ds.name,
        "title": ds.title,
        "split": ds.split,
        "n": len(ds),
        "image_shape": list(ds.image_shape),
        "classes": {name: int(c) for name, c in zip(ds.class_names, counts, strict=True)},
        "pixels": {
            "mean": float(x.mean()) if x.size else float("nan"),
            "std": float(x.std()) if x.size else float("nan"),
            "min": int(ds.images.min()) if x.size else 0,
            "max": int(ds.images.max()) if x.size else 0,
            "zero_fraction": float((ds.images == 0).mean()) if x.size else float("nan"),
        },
        "provenance": ds.provenance.as_dict(),
    }
