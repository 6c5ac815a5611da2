"""Reading the per-epoch records of metrics.jsonl for the learning-curve figures: per-seed values
as arrays (NaN where missing, null or diverged), their mean and spread, and which splits they hold."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from .._errors import ConfigError

# Splits in the order a reader expects them.
SPLITS = ("train", "train_eval", "validation", "test")
SPLIT_LABELS = {
    "train": "train (running, during the epoch)",
    "train_eval": "train (after the epoch)",
    "validation": "validation",
    "test": "test",
}


def _check_records(param: str, records) -> list[dict]:
    if isinstance(records, str | bytes) or not isinstance(records, Sequence):
        raise ConfigError(
            f"{param} must be a list of per-epoch records (dicts, as in metrics.jsonl); "
            f"got {type(records).__name__}"
        )
    if not records:
        raise ConfigError(f"{param} must hold at least one per-epoch record; got an empty list")
    for i, r in enumerate(records):
        if not isinstance(r, Mapping):
            raise ConfigError(
                f"{param}[{i}] must be a dict (one line of metrics.jsonl); got {type(r).__name__}"
            )
    return list(records)


def _values(v) -> list[float]:
    """One record's value as per-seed floats: a scalar (one seed), a list, or null (diverged)."""
    if v is None:
        return [np.nan]
    if isinstance(v, list | tuple):
        return [np.nan if x is None else float(x) for x in v]
    return [float(v)]


def _series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """``(epochs, values)`` of ``key``: values are ``(epochs, seeds)``, NaN where missing or null."""
    x = np.array([float(r.get("epoch", i + 1)) for i, r in enumerate(records)])
    rows = []
    for i, r in enumerate(records):
        try:
            rows.append(_values(r.get(key)))
        except (TypeError, ValueError):
            raise ConfigError(
                f"epochs[{i}][{key!r}] must be a number or a list of numbers (one per seed); "
                f"got {r.get(key)!r:.60}"
            ) from None
    seeds = max(len(row) for row in rows)
    values = np.full((len(rows), seeds), np.nan)
    for i, row in enumerate(rows):
        # A missing key or a single null stands for every seed of that epoch.
        values[i, : len(row) if len(row) > 1 else seeds] = row
    values[~np.isfinite(values)] = np.nan
    return x, values


def _mean_std(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std over seeds (the axis 1), as the console report gives them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN epochs stay NaN: a gap, not a warning
        mean = np.nanmean(values, axis=1)
        n = np.sum(np.isfinite(values), axis=1)
        std = np.where(n > 1, np.nanstd(values, axis=1, ddof=1), 0.0) if values.shape[1] > 1 else 0 * mean
    return mean, std


def _splits(records: list[dict], suffix: str) -> list[str]:
    found: list[str] = []
    for r in records:
        for k in r:
            if k.endswith(suffix) and k != suffix.lstrip("_"):
                split = k[: -len(suffix)]
                if split not in found and split != "epoch":
                    found.append(split)
    order = {s: i for i, s in enumerate(SPLITS)}
    return sorted(found, key=lambda s: (order.get(s, len(SPLITS)), s))


def _diverged_epochs(records: list[dict]) -> list[float]:
    return [float(r.get("epoch", i + 1)) for i, r in enumerate(records) if r.get("diverged")]


def _metric_label(metric: str, *, units: bool = True) -> str:
    for suffix, what in (("_accuracy", "accuracy (%)" if units else "accuracy"), ("_loss", "loss")):
        if metric.endswith(suffix):
            split = metric[: -len(suffix)]
            return f"{SPLIT_LABELS.get(split, split.replace('_', ' '))} {what}"
    return metric.replace("_", " ")
