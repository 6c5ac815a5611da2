"""From scikit-learn's ``X`` to the engine's images: uint8 ``(n, h, w)``.

Why uint8: the engine keeps the training set on the device as uint8 pixels and scales each batch
inside the compiled step (``mnistlab.train.fit`` takes a uint8 :class:`~mnistlab.data.Dataset`),
so every input becomes pixels 0-255 first. For images this loses nothing (uint8 as given, or
floats mapped back by their known range); for arbitrary float features (scikit-learn's own
checks, tabular data) it is an affine map of the training range onto 0-255, a MinMaxScaler
quantised to 256 levels.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import Interval, Items, Options, check
from .._errors import ConfigError, DataError

# Rows converted at a time: the float64 working copy of a 60,000-image set would be 376 MB.
_CHUNK = 8192

PIXEL_RANGE = (Options(("auto",)), Items(Interval(float, None, None), min_len=2, max_len=2, name="pair"))


def image_shape_for(n_features: int, given: tuple[int, int] | None) -> tuple[int, int]:
    """``(h, w)``: as given by a 3-d ``X``; else a square when ``n_features`` is one; else ``(1, d)``.

    A ``(1, d)`` "image" is what a flat model (softmax, mlp, binary-mlp) sees as ``d`` features; the
    CNNs refuse it (:func:`check_layout`).
    """
    if given is not None:
        return given
    side = math.isqrt(n_features)
    return (side, side) if side * side == n_features else (1, n_features)


def check_layout(model: str, layout: str, image_shape: tuple[int, int], square: bool) -> None:
    """A CNN needs real images: a 3-d ``X``, or a flat one whose width is a perfect square."""
    if layout != "flat" and not square:
        w = image_shape[1]
        raise DataError(
            f"model {model!r} takes images: give X as (n, height, width), or flattened with a square "
            f"number of pixels; got {w} features per row (a flat model, e.g. 'mlp', takes any width)"
        )


def fit_pixel_range(X: np.ndarray, pixel_range) -> tuple[float, float]:
    """The input values that map to pixels 0 and 255.

    ``"auto"``: ``(0, 255)`` for uint8 ``X``, else the training ``X``'s minimum and maximum.
    A pair ``(low, high)`` fixes it: ``(0, 1)`` for float images in [0, 1], ``(0, 255)`` for
    float or integer pixels; values outside it are clipped.
    """
    check("pixel_range", pixel_range, PIXEL_RANGE)
    if isinstance(pixel_range, str):
        if X.dtype == np.uint8:
            return 0.0, 255.0
        return float(X.min()), float(X.max())
    low, high = float(pixel_range[0]), float(pixel_range[1])
    if not high > low:
        raise ConfigError(f"pixel_range must be (low, high) with low < high; got {tuple(pixel_range)!r}")
    return low, high


def to_pixels(X: np.ndarray, pixel_range: tuple[float, float], image_shape: tuple[int, int]) -> np.ndarray:
    """``X`` (n, h*w) as uint8 images (n, h, w): ``rint(255 * (X - low) / (high - low))``, clipped.

    uint8 ``X`` with the range ``(0, 255)`` passes through unchanged (no copy). A constant
    training ``X`` (``low == high``) maps to zeros.
    """
    low, high = pixel_range
    n = X.shape[0]
    if X.dtype == np.uint8 and (low, high) == (0.0, 255.0):
        return X.reshape(n, *image_shape)
    out = np.empty((n, X.shape[1]), np.uint8)
    factor = 255.0 / (high - low) if high > low else 0.0
    for start in range(0, n, _CHUNK):
        part = np.asarray(X[start : start + _CHUNK], np.float64)
        out[start : start + _CHUNK] = np.clip(np.rint((part - low) * factor), 0, 255)
    return out.reshape(n, *image_shape)
