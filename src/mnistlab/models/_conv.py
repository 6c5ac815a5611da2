"""Convolution and max-pooling with one mathematics and the fastest formulation per backend.

Kernels are HWIO ``(kh, kw, in, out)`` like Flax's; inputs are NHWC or NCHW. ``impl="xla"`` is
``lax.conv_general_dilated`` / ``lax.reduce_window``; ``impl="auto"`` may choose a different
formulation of the same function where measurement showed it to be faster on the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

LAYOUTS = ("NHWC", "NCHW")
CONV_IMPLS = ("auto", "xla", "im2col", "cols", "rows")
POOL_IMPLS = ("auto", "xla", "slices")


def _check(layout: str, impl: str, impls: Sequence[str]) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if impl not in impls:
        raise ValueError(f"impl must be one of {impls}, got {impl!r}")


def _pads(hw, khw, stride: int, padding) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        return tuple(tuple(p) for p in lax.padtype_to_pads(hw, khw, (stride, stride), padding.upper()))
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def _to_nhwc(x, layout):
    return x if layout == "NHWC" else jnp.transpose(x, (0, 2, 3, 1))


def _from_nhwc(y, layout):
    return y if layout == "NHWC" else jnp.transpose(y, (0, 3, 1, 2))


def _take(x, axis: int, start: int, count: int, stride: int):
    """``x[start : start + stride * count : stride]`` along ``axis``."""
    lo = [0] * x.ndim
    hi = list(x.shape)
    st = [1] * x.ndim
    lo[axis], hi[axis], st[axis] = start, start + (count - 1) * stride + 1, stride
    return lax.slice(x, lo, hi, st)


def _put(x, axis: int, start: int, size: int, stride: int):
    """Transpose of :func:`_take`: zeros except ``x`` at ``start, start + stride, ...`` of ``size``."""
    cfg = [(0, 0, 0)] * x.ndim
    cfg[axis] = (start, size - start - (x.shape[axis] - 1) * stride - 1, stride - 1)
    return lax.pad(x, jnp.zeros((), x.dtype), cfg)


def _stack(parts, axis: int):
    # XLA:CPU fuses a concatenation into one loop only with at most 8 operands and not along the
    # minor dimension; a new axis before C keeps both true for 5x5 kernels (nested for 25 taps).
    if len(parts) <= 8:
        return jnp.stack(parts, axis=axis)
    k = -(-len(parts) // 8)
    groups = [jnp.stack(parts[i : i + k], axis=axis) for i in range(0, len(parts), k)]
    return jnp.concatenate(groups, axis=axis)


def _sum(parts):
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _sum_materialized(parts, axis: int = 1, pieces: int = 9):
    """``_sum(parts)``, computed once into memory even when its consumers read it many times.

    XLA:CPU fuses cheap elementwise producers into every consumer: a sum of shifted terms read by a
    stride-1 max-pool or its gradient would be recomputed at 4 shifted positions, or worse, each
    term materialized separately. A concatenation of more than 8 operands is never fused, in either
    direction, so computing the sum in ``pieces`` slabs along ``axis`` and concatenating them makes
    one pass that writes the sum and nothing else.
    """
    if not VARIANT.get("mat"):
        return _sum(parts)
    size = parts[0].shape[axis]
    if size < pieces:
        return _sum(parts)
    bounds = [round(k * size / pieces) for k in range(pieces + 1)]
    slabs = [_sum([lax.slice_in_dim(p, lo, hi, axis=axis) for p in parts]) for lo, hi in zip(bounds, bounds[1:])]
    return jnp.concatenate(slabs, axis=axis)


def _dot_minor(a, b):
    """``a[..., k] @ b[k, o]``."""
    return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))


def _dot_minor_t(a, b):
    """``a[..., o] @ b[k, o].T``: the same matmul form as :func:`_dot_minor`, no transposed copy of b."""
    return lax.dot_general(a, b, (((a.ndim - 1,), (1,)), ((), ())))


def _dot_rows(a, b):
    """``sum over all leading axes of a[..., k, None] * b[..., None, o]`` -> ``(k, o)``: a weight gradient.

    Contracting the big leading axes of both operands in place is as fast as any rearrangement on
    XLA:CPU, and rearranging would cost a transposed copy of a large operand.
    """
    lead = tuple(range(a.ndim - 1))
    return lax.dot_general(a, b, ((lead, lead), ((), ())))


# ----------------------------------------------------------------------------------------------
# Convolution formulations. All take NHWC x, HWIO w, an int stride and ((lo, hi), (lo, hi)) pads.
#
# Why not autodiff through slices + matmul: XLA:CPU then (a) transposes the big patch matrix to
# get the weight gradient, (b) materializes each of the kh*kw padded col2im terms separately and
# (c) fuses cheap producers (ReLU, max-pool) into every one of the kh*kw patch slices. The
# custom VJPs below write each backward matmul in a form that needs no transposed copy and build
# patches and col2im sums as single fusions.


def _im2col_fwd(x, w, stride, pads):
    kh, kw, c, o = w.shape
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    n, hp, wp, _ = xp.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    rows = [_take(xp, 1, i, ho, stride) for i in range(kh)]
    views = [_take(r, 2, j, wo, stride) for r in rows for j in range(kw)]
    p = _stack(views, axis=3)  # (n, ho, wo, kh*kw, c): patch features in HWI order, like w
    y = _dot_minor(p.reshape(n, ho, wo, kh * kw * c), w.reshape(kh * kw * c, o))
    return y, (p, w, hp, wp)


def _im2col_bwd(stride, pads, res, dy):
    p, w, hp, wp = res
    kh, kw, c, o = w.shape
    n, ho, wo, _ = dy.shape
    pm = p.reshape(n, ho, wo, kh * kw * c)
    dw = _dot_rows(pm, dy).reshape(w.shape)
    dp = _dot_minor_t(dy, w.reshape(kh * kw * c, o)).reshape(n, ho, wo, kh * kw, c)
    parts = []
    for t in range(kh * kw):
        i, j = divmod(t, kw)
        parts.append(_put(_put(dp[:, :, :, t], 1, i, hp, stride), 2, j, wp, stride))
    dxp = _sum(parts)
    (h0, h1), (w0, w1) = pads
    return dxp[:, h0 : hp - h1, w0 : wp - w1], dw


VARIANT = {"split": "p2"}


def _split_geom(w, stride, pads, patch_axis, hp, wp):
    kh, kw, c, o = w.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    if patch_axis == 2:
        return dict(kp=kw, ks=kh, out_p=wo, out_s=ho, sum_axis=1, size_s=hp, size_p=wp, perm=(1, 2, 0, 3))
    return dict(kp=kh, ks=kw, out_p=ho, out_s=wo, sum_axis=2, size_s=wp, size_p=hp, perm=(0, 2, 1, 3))


def _split_pt(xp, g, stride):
    """Patch matrix transposed, ``(kp*C, N*H'*W')``, straight from NHWC input."""
    views = [jnp.transpose(_take(xp, g["patch_axis"], t, g["out_p"], stride), (3, 0, 1, 2)) for t in range(g["kp"])]
    pt = _stack(views, axis=0)
    return pt.reshape(pt.shape[0] * pt.shape[1], -1), pt.shape[2:]


def _split_fwd(x, w, stride, pads, patch_axis):
    """Patches along one spatial axis only; the other axis's taps become extra matmul outputs
    (``kh*O`` or ``kw*O`` columns) that are summed with shifts afterwards.

    Several times smaller patch matrices than im2col for a few percent more flops (the matmul also
    runs at the positions that only the summed shifts use). ``patch_axis=2`` ("cols") reads runs of
    ``kw*C`` contiguous floats from an NHWC input.
    """
    kh, kw, c, o = w.shape
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    n, hp, wp, _ = xp.shape
    g = _split_geom(w, stride, pads, patch_axis, hp, wp)
    g["patch_axis"] = patch_axis
    kp, ks = g["kp"], g["ks"]
    wt = jnp.transpose(w, g["perm"]).reshape(kp * c, ks * o)
    v = VARIANT["split"]
    if v == "zt":
        pt, sp = _split_pt(xp, g, stride)
        zt = lax.dot_general(wt, pt, (((0,), (0,)), ((), ()))).reshape(ks, o, *sp)
        yt = _sum([_take(zt[t], g["sum_axis"] + 1, t, g["out_s"], stride) for t in range(ks)])
        return jnp.transpose(yt, (1, 2, 3, 0)), (pt, w, xp)
    p = _stack([_take(xp, patch_axis, t, g["out_p"], stride) for t in range(kp)], axis=3)
    z = _dot_minor(p.reshape(*p.shape[:3], kp * c), wt)
    z = z.reshape(*z.shape[:3], ks, o)
    y = _sum_materialized([_take(z[:, :, :, t], g["sum_axis"], t, g["out_s"], stride) for t in range(ks)])
    return y, (p, w, xp)


def _split_bwd(stride, pads, patch_axis, res, dy):
    p, w, xp = res
    kh, kw, c, o = w.shape
    n, hp, wp, _ = xp.shape
    g = _split_geom(w, stride, pads, patch_axis, hp, wp)
    g["patch_axis"] = patch_axis
    kp, ks = g["kp"], g["ks"]
    wt = jnp.transpose(w, g["perm"]).reshape(kp * c, ks * o)
    dz = _stack([_put(dy, g["sum_axis"], t, g["size_s"], stride) for t in range(ks)], axis=3)
    dz = dz.reshape(*dz.shape[:3], ks * o)
    v = VARIANT["split"]
    if v == "p":
        dwt = _dot_rows(p.reshape(*p.shape[:3], kp * c), dz)
    elif v == "p2":
        dwt = lax.dot_general(p.reshape(-1, kp * c), dz.reshape(-1, ks * o), (((0,), (0,)), ((), ())))
    else:
        pt = p if v == "zt" else _split_pt(xp, g, stride)[0]
        dwt = lax.dot_general(pt, dz.reshape(-1, ks * o), (((1,), (0,)), ((), ())))
    inv = (2, 0, 1, 3) if patch_axis == 2 else (0, 2, 1, 3)
    dw = jnp.transpose(dwt.reshape(kp, c, ks, o), inv)
    dp = _dot_minor_t(dz, wt).reshape(*dz.shape[:3], kp, c)
    dxp = _sum_materialized([_put(dp[:, :, :, t], patch_axis, t, g["size_p"], stride) for t in range(kp)])
    (h0, h1), (w0, w1) = pads
    return dxp[:, h0 : hp - h1, w0 : wp - w1], dw


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_im2col(x, w, stride, pads):
    return _im2col_fwd(x, w, stride, pads)[0]


_conv_im2col.defvjp(_im2col_fwd, _im2col_bwd)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv_split(x, w, stride, pads, patch_axis):
    return _split_fwd(x, w, stride, pads, patch_axis)[0]


_conv_split.defvjp(_split_fwd, _split_bwd)


def _conv_xla(x, w, stride, pads, layout):
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (layout, "HWIO", layout))
    return lax.conv_general_dilated(x, w, (stride, stride), pads, dimension_numbers=dn)


def _auto_conv_impl(w_shape, stride: int) -> str:
    if jax.default_backend() != "cpu":
        return "xla"
    kh, kw, c, _ = w_shape
    return "im2col" if stride > 1 or kh * kw * c <= 64 else "cols"


def conv2d(x, w, *, stride: int = 1, padding: str = "VALID", layout: str = "NHWC", impl: str = "auto"):
    """2-D cross-correlation of ``x`` with HWIO kernel ``w`` (no bias)."""
    _check(layout, impl, CONV_IMPLS)
    x, w = jnp.asarray(x), jnp.asarray(w)
    dt = jnp.result_type(x, w)
    x, w = x.astype(dt), w.astype(dt)
    hw = x.shape[1:3] if layout == "NHWC" else x.shape[2:4]
    pads = _pads(hw, w.shape[:2], stride, padding)
    if impl == "auto":
        impl = _auto_conv_impl(w.shape, stride)
    if impl == "xla":
        return _conv_xla(x, w, stride, pads, layout)
    xn = _to_nhwc(x, layout)
    if impl == "im2col":
        y = _conv_im2col(xn, w, stride, pads)
    else:
        y = _conv_split(xn, w, stride, pads, 2 if impl == "cols" else 1)
    return _from_nhwc(y, layout)


# ----------------------------------------------------------------------------------------------
# Max-pooling


def _pool_views(x, window, stride):
    n, h, w, c = x.shape
    ho, wo = (h - window) // stride + 1, (w - window) // stride + 1
    return [_take(_take(x, 1, i, ho, stride), 2, j, wo, stride) for i in range(window) for j in range(window)]


@partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _pool_slices(x, window, stride):
    views = _pool_views(x, window, stride)
    y = views[0]
    for v in views[1:]:
        y = jnp.maximum(y, v)
    return y


def _pool_slices_fwd(x, window, stride):
    return _pool_slices(x, window, stride), (x,)


def _pool_slices_bwd(window, stride, res, dy):
    # The gradient goes to the first maximum of each window in row-major order, as in the
    # transpose of reduce_window (select_and_scatter with >=), so both impls agree even on ties;
    # autodiff of jnp.maximum would instead split it evenly between tied elements.
    (x,) = res
    views = _pool_views(x, window, stride)
    y = _pool_slices(x, window, stride)
    zero = jnp.zeros((), dy.dtype)
    parts, taken = [], None
    for t, v in enumerate(views):
        i, j = divmod(t, window)
        hit = v == y
        if taken is not None:
            hit = hit & ~taken
        taken = hit if taken is None else taken | hit
        parts.append(_put(_put(jnp.where(hit, dy, zero), 1, i, x.shape[1], stride), 2, j, x.shape[2], stride))
    return (_sum(parts),)


_pool_slices.defvjp(_pool_slices_fwd, _pool_slices_bwd)


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
    return _from_nhwc(_pool_slices(_to_nhwc(x, layout), window, stride), layout)


__all__ = ["CONV_IMPLS", "LAYOUTS", "POOL_IMPLS", "conv2d", "max_pool"]
