"""Pure transforms of images, labels and datasets.

Pixel transforms take uint8 (or float) arrays and return new float arrays; dataset transforms
take a :class:`Dataset` and return a new one whose provenance records the step. Anything random
takes a JAX PRNG ``key`` (split it at the call site): the same key gives the same result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .._errors import ConfigError, check_int
from ._dataset import Dataset

if TYPE_CHECKING:  # annotations only: jaxtyping's import costs half of `import mnistlab`
    from jaxtyping import Bool, Float, Int, Shaped


def _permutation(key, n: int) -> np.ndarray:
    import jax

    return np.asarray(jax.random.permutation(key, n))


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ConfigError(f"dtype must be a floating type (float32, float64, ...); got {dtype}")
    return dtype


def scale(images: Shaped[np.ndarray, "*shape"], dtype=np.float32) -> Float[np.ndarray, "*shape"]:
    """uint8 pixels -> ``dtype`` in [0, 1]."""
    return np.asarray(images, dtype=_float_dtype(dtype)) / np.asarray(255, dtype)


def standardize_per_image(
    images: Shaped[np.ndarray, "n h w"], dtype=np.float32, eps: float = 1e-8
) -> Float[np.ndarray, "n h w"]:
    """Each image to zero mean and unit variance (study S8). A blank image stays all zeros."""
    x = np.asarray(images, dtype=_float_dtype(dtype))
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    out = (x - mean) / np.maximum(std, np.asarray(eps, x.dtype))
    # A uniform image (blank, or any constant) has nothing to standardise. Its computed mean can be
    # off by rounding (float input), and that error divided by ``eps`` would not be zero.
    flat = x.reshape(len(x), -1)
    out[(flat == flat[:, :1]).all(axis=1)] = 0
    return out


@dataclass(frozen=True)
class NormStats:
    """Global pixel statistics fitted on a training split (study S12)."""

    mean: float
    std: float


def pixel_moments(images: Shaped[np.ndarray, "*shape"]) -> tuple[float, float]:
    """Mean and standard deviation of every pixel, in [0, 1] units (uint8 input is divided by 255).

    For uint8 images both come exactly from a 256-bin histogram: no float copy of the data
    (376 MB for Fashion-MNIST's training split) is ever made.
    """
    images = np.asarray(images)
    if images.size == 0:
        raise ConfigError("images must hold at least one pixel; got an empty array")
    if images.dtype != np.uint8:
        x = np.asarray(images, np.float64)
        return float(x.mean()), float(x.std())
    return moments_from_histogram(pixel_histogram(images))


def pixel_histogram(images: Shaped[np.ndarray, "*shape"]) -> Int[np.ndarray, 256]:
    """How many pixels of uint8 ``images`` take each value 0..255: one pass, no copy."""
    return np.bincount(np.asarray(images, np.uint8).ravel(), minlength=256)


def moments_from_histogram(counts: Int[np.ndarray, 256]) -> tuple[float, float]:
    """Exact mean and standard deviation, in [0, 1] units, of the pixels a histogram counts."""
    weights = counts.astype(np.float64)
    total = weights.sum()
    values = np.arange(256, dtype=np.float64) / 255.0
    mean = weights @ values / total
    var = weights @ (values - mean) ** 2 / total
    return float(mean), float(np.sqrt(var))


def fit_normalization(train_images: Shaped[np.ndarray, "n h w"]) -> NormStats:
    """Mean and standard deviation over every pixel of the training images, in [0, 1] units."""
    mean, std = pixel_moments(train_images)
    return NormStats(mean=mean, std=std)


def normalize(
    images: Shaped[np.ndarray, "n h w"], stats: NormStats, dtype=np.float32
) -> Float[np.ndarray, "n h w"]:
    """``(scale(images) - mean) / std`` with statistics fitted on the training split only."""
    if not stats.std > 0:
        raise ConfigError(f"stats.std must be > 0; got {stats.std} (were the training images blank?)")
    x = scale(images, dtype)
    return (x - np.asarray(stats.mean, x.dtype)) / np.asarray(stats.std, x.dtype)


def one_hot(labels: Int[np.ndarray, " n"], num_classes: int, dtype=np.float32) -> Float[np.ndarray, "n k"]:
    """Integer labels -> one-hot rows."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels must be integers for one_hot; got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ConfigError(
            f"labels must lie in [0, {num_classes - 1}] for num_classes={num_classes}; "
            f"found {int(labels.min())}..{int(labels.max())}"
        )
    return np.eye(num_classes, dtype=dtype)[labels]


def select_classes(ds: Dataset, classes: Sequence[int] | Mapping[int, int]) -> Dataset:
    """Keep only ``classes`` and relabel them.

    A sequence relabels by position (``[7, 1]``: 7 -> 0, 1 -> 1); a mapping says it outright
    (``{1: 1, 7: 0}``, study S8's "1 vs 7"). New labels must be 0..k-1, each used once.
    """
    pairs = list(classes.items()) if isinstance(classes, Mapping) else [(c, i) for i, c in enumerate(classes)]
    pairs = [(check_int("classes", o), check_int("classes (new label)", n)) for o, n in pairs]
    old = [o for o, _ in pairs]
    if len(set(old)) != len(old) or not old:
        raise ConfigError(f"classes must be distinct and non-empty; got {old}")
    bad = [c for c in old if not 0 <= c < ds.num_classes]
    if bad:
        raise ConfigError(f"classes must lie in [0, {ds.num_classes - 1}] for {ds.title}; got {bad}")
    new = sorted(n for _, n in pairs)
    if new != list(range(len(new))):
        raise ConfigError(
            f"classes must map to new labels 0..{len(new) - 1}, each once; got {[n for _, n in pairs]}"
        )
    mapping = dict(pairs)
    lut = np.full(ds.num_classes, -1, np.int32)
    for o, n in mapping.items():
        lut[o] = n
    keep = np.flatnonzero(lut[ds.labels] >= 0)
    names = [""] * len(new)
    for o, n in mapping.items():
        names[n] = ds.class_names[o]
    step = "classes " + ", ".join(f"{o}->{n}" for o, n in mapping.items())
    return replace(
        ds,
        images=ds.images[keep],
        labels=lut[ds.labels[keep]],
        class_names=tuple(names),
        provenance=ds.provenance.derived(step),
    )


def corrupt_labels(ds: Dataset, k: int, *, key) -> tuple[Dataset, Bool[np.ndarray, " n"]]:
    """Study S6's corruption: permute the first ``k`` images among themselves; labels stay.

    Returns the corrupted dataset and a mask of the examples whose label no longer matches their
    image's true class (about 90% of the first ``k`` for ten balanced classes).
    """
    k = check_int("k", k)
    if not 0 <= k <= len(ds):
        raise ConfigError(f"k must lie in [0, {len(ds)}] for a dataset of {len(ds)} images; got {k}")
    perm = _permutation(key, k)
    order = np.concatenate([perm, np.arange(k, len(ds))]).astype(np.int64)
    images = ds.images[order]
    mislabelled = ds.labels[order] != ds.labels
    out = replace(ds, images=images, provenance=ds.provenance.derived(f"label corruption of first {k}"))
    return out, mislabelled


def stratified_split_indices(
    labels: Int[np.ndarray, " n"], fraction: float, *, key
) -> tuple[Int[np.ndarray, " n_a"], Int[np.ndarray, " n_b"]]:
    """Disjoint index sets ``(rest, held_out)`` with ``round(fraction * n)`` held out, stratified.

    Each class contributes in proportion to its size (largest remainders settle the rounding);
    which examples is decided by ``key``. Both index arrays are sorted.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"fraction must lie strictly between 0 and 1; got {fraction}")
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    target = round(fraction * len(labels))
    exact = counts * fraction
    take = np.floor(exact).astype(int)
    short = target - take.sum()
    if short > 0:  # largest remainders, ties broken by class order
        take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    import jax

    held = []
    for i, (c, t) in enumerate(zip(classes, take, strict=True)):
        members = np.flatnonzero(labels == c)
        held.append(members[_permutation(jax.random.fold_in(key, i), len(members))[:t]])
    held_out = np.sort(np.concatenate(held))
    mask = np.ones(len(labels), bool)
    mask[held_out] = False
    return np.flatnonzero(mask), held_out


def train_val_split(ds: Dataset, val_fraction: float, *, key) -> tuple[Dataset, Dataset]:
    """A disjoint, stratified, seeded split of ``ds`` into training and validation parts."""
    rest, held = stratified_split_indices(ds.labels, val_fraction, key=key)
    step = f"train/validation split ({val_fraction:g} held out)"
    return ds.subset(rest, split="train", step=step), ds.subset(held, split="validation", step=step)
