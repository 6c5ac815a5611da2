"""Convolution and max-pooling with one mathematics and the fastest formulation per backend.

Kernels are HWIO ``(kh, kw, in, out)`` like Flax's; inputs are NHWC or NCHW. ``impl="xla"`` is
``lax.conv_general_dilated`` / ``lax.reduce_window``; ``impl="auto"`` may choose a different
formulation of the same function where measurement showed it to be faster on the backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax import lax

LAYOUTS = ("NHWC", "NCHW")
CONV_IMPLS = ("auto", "xla", "im2col", "rows", "cols")
POOL_IMPLS = ("auto", "xla", "slices", "slices_split")


def _check(layout: str, impl: str, impls: Sequence[str]) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if impl not in impls:
        raise ValueError(f"impl must be one of {impls}, got {impl!r}")


def _pads(hw, khw, stride: int, padding) -> list[tuple[int, int]]:
    if isinstance(padding, str):
        return [tuple(p) for p in lax.padtype_to_pads(hw, khw, (stride, stride), padding.upper())]
    return [(int(lo), int(hi)) for lo, hi in padding]


def _to_nhwc(x, layout):
    return x if layout == "NHWC" else jnp.transpose(x, (0, 2, 3, 1))


def _from_nhwc(y, layout):
    return y if layout == "NHWC" else jnp.transpose(y, (0, 3, 1, 2))


def _window(x, i: int, j: int, ho: int, wo: int, sh: int, sw: int):
    """``x[:, i + sh*a, j + sw*b, :]`` for ``a < ho, b < wo`` (NHWC), as one strided slice."""
    n, _, _, c = x.shape
    return lax.slice(x, (0, i, j, 0), (n, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c), (1, sh, sw, 1))


def _contract_last(p, w2):
    """``p[..., k] @ w2[k, o]`` as one matmul, keeping the leading axes of ``p``."""
    return lax.dot_general(p, w2, (((p.ndim - 1,), (0,)), ((), ())))


def _conv_xla(x, w, stride, pads, layout):
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (layout, "HWIO", layout))
    return lax.conv_general_dilated(x, w, (stride, stride), pads, dimension_numbers=dn)


def _conv_im2col(x, w, stride, pads):
    kh, kw, c, o = w.shape
    x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    ho = (x.shape[1] - kh) // stride + 1
    wo = (x.shape[2] - kw) // stride + 1
    cols = [_window(x, i, j, ho, wo, stride, stride) for i in range(kh) for j in range(kw)]
    p = cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)
    return _contract_last(p, w.reshape(kh * kw * c, o))


def _conv_rows(x, w, stride, pads):
    """Patches along H only; the W taps become extra output columns that are summed shifted."""
    kh, kw, c, o = w.shape
    x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    hp, wp = x.shape[1], x.shape[2]
    ho = (hp - kh) // stride + 1
    wo = (wp - kw) // stride + 1
    cols = [_window(x, i, 0, ho, wp, stride, 1) for i in range(kh)]
    p = cols[0] if kh == 1 else jnp.concatenate(cols, axis=-1)  # (n, ho, wp, kh*c)
    z = _contract_last(p, jnp.transpose(w, (0, 2, 1, 3)).reshape(kh * c, kw * o))
    n = z.shape[0]
    z = z.reshape(n, ho, wp, kw, o)
    y = None
    for j in range(kw):
        t = lax.slice(z, (0, 0, j, j, 0), (n, ho, j + (wo - 1) * stride + 1, j + 1, o), (1, 1, stride, 1, 1))
        y = t if y is None else y + t
    return y.reshape(n, ho, wo, o)


def _conv_cols(x, w, stride, pads):
    """Patches along W only; the H taps become extra output columns that are summed shifted."""
    kh, kw, c, o = w.shape
    x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    hp, wp = x.shape[1], x.shape[2]
    ho = (hp - kh) // stride + 1
    wo = (wp - kw) // stride + 1
    cols = [_window(x, 0, j, hp, wo, 1, stride) for j in range(kw)]
    p = cols[0] if kw == 1 else jnp.concatenate(cols, axis=-1)  # (n, hp, wo, kw*c)
    z = _contract_last(p, jnp.transpose(w, (1, 2, 0, 3)).reshape(kw * c, kh * o))
    n = z.shape[0]
    z = z.reshape(n, hp, wo, kh, o)
    y = None
    for i in range(kh):
        t = lax.slice(z, (0, i, 0, i, 0), (n, i + (ho - 1) * stride + 1, wo, i + 1, o), (1, stride, 1, 1, 1))
        y = t if y is None else y + t
    return y.reshape(n, ho, wo, o)


_CONV = {"im2col": _conv_im2col, "rows": _conv_rows, "cols": _conv_cols}


def _auto_conv_impl() -> str:
    return "im2col" if jax.default_backend() == "cpu" else "xla"


def conv2d(x, w, *, stride: int = 1, padding: str = "VALID", layout: str = "NHWC", impl: str = "auto"):
    """2-D cross-correlation of ``x`` with HWIO kernel ``w`` (no bias)."""
    _check(layout, impl, CONV_IMPLS)
    x, w = jnp.asarray(x), jnp.asarray(w)
    dt = jnp.result_type(x, w)
    x, w = x.astype(dt), w.astype(dt)
    hw = x.shape[1:3] if layout == "NHWC" else x.shape[2:4]
    pads = _pads(hw, w.shape[:2], stride, padding)
    if impl == "auto":
        impl = _auto_conv_impl()
    if impl == "xla":
        return _conv_xla(x, w, stride, pads, layout)
    return _from_nhwc(_CONV[impl](_to_nhwc(x, layout), w, stride, pads), layout)


def _pool_slices(x, window, stride, split_ties: bool):
    n, h, w, c = x.shape
    ho, wo = (h - window) // stride + 1, (w - window) // stride + 1
    views = [_window(x, i, j, ho, wo, stride, stride) for i in range(window) for j in range(window)]
    if split_ties:
        y = views[0]
        for v in views[1:]:
            y = jnp.maximum(y, v)
        return y
    # Route the gradient to the first maximum in row-major window order, which is what
    # reduce_window's transpose (select_and_scatter with >=) does; jnp.maximum would split it
    # evenly between tied elements instead.
    m = views[0]
    for v in views[1:]:
        m = jnp.maximum(m, v)
    m = lax.stop_gradient(m)
    y, taken = m, None
    for v in views:
        hit = lax.stop_gradient(v) == m
        if taken is not None:
            hit = hit & ~taken
        y = jnp.where(hit, v, y)
        taken = hit if taken is None else taken | hit
    return y


def _auto_pool_impl() -> str:
    return "slices" if jax.default_backend() == "cpu" else "xla"


def max_pool(x, *, window: int = 2, stride: int = 1, layout: str = "NHWC", impl: str = "auto"):
    """Max over ``window x window`` patches (VALID), moved ``stride`` pixels at a time."""
    _check(layout, impl, POOL_IMPLS)
    if impl == "auto":
        impl = _auto_pool_impl()
    if impl == "xla":
        if layout == "NHWC":
            dims, strides = (1, window, window, 1), (1, stride, stride, 1)
        else:
            dims, strides = (1, 1, window, window), (1, 1, stride, stride)
        return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, "VALID")
    y = _pool_slices(_to_nhwc(x, layout), window, stride, split_ties=impl == "slices_split")
    return _from_nhwc(y, layout)


__all__ = ["LAYOUTS", "conv2d", "max_pool"]
