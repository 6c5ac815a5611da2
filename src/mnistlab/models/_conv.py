"""Convolution with one mathematics and the fastest formulation per backend (pooling: ``_pool``).

Kernels are HWIO ``(kh, kw, in, out)`` like Flax's; inputs are NHWC or NCHW. ``impl="xla"`` is
``lax.conv_general_dilated`` / ``lax.reduce_window``; ``impl="auto"`` may choose a different
formulation of the same function where measurement showed it to be faster on the backend.

Why other formulations exist at all: XLA:CPU is fast at matrix products but slow at the gradients
of convolutions and of ``reduce_window`` pooling, most of all inside a compiled loop (``lax.scan``
over the batches of an epoch). Seconds per scanned epoch as multiples of PyTorch CPU's, measured on
the shared 2-core machines this project targets (``bench/conv_formulations.py``): S7 LeNet, XLA
17-23x, ``impl="auto"`` 1.15-1.25x; default 3x3 CNN, XLA 24-28x, auto 0.85x; strided S3, XLA
5-6x, auto 0.6-1.0x. (A Python loop over a per-step ``jax.jit`` with XLA ops: 2.7-3.5x.) With
the changes of 2026-12 (``"direct"``, the padded input-gradient product here; the stride-1
pooling gradient of ``_pool``; pooling before the bias and ReLU, and only the rows a pooling
reads, in ``_modules.CNN``), the engine's epochs in ``bench/train_speed.py``: S7 0.79-0.88x, the
default CNN 0.58-0.63x.

Formulations (the ``impl`` names):

``"im2col"``
    All ``kh*kw`` shifted views of the input side by side as one patch matrix, then one matmul.
    Exact flops, but the patch matrix is ``kh*kw`` times the input (55 MB for the S7's second
    convolution at batch 128), which XLA:CPU writes and reads at memory speed, twice more for the
    backward pass. Best for few input channels (the first layer) and strides >= kernel.
``"cols"``
    Patches along W only (``kw*C`` features); the matmul produces ``kh*O`` outputs per position and
    the H taps are summed with shifts afterwards. Patch and product matrices several times smaller
    than im2col's for ``(H_in / H_out - 1)`` more flops. In NHWC each patch row is a contiguous run
    of ``kw*C`` input values.

``"direct"``
    No patch matrix: the output is the sum over taps of each shifted view of the input times that
    tap's weights, one elementwise loop that writes only the output. For one input channel (a
    first layer on grayscale images) this avoids the ``kh*kw``-wide patch matrix, whose rows are
    too short to vectorize, and a matmul with ``K = kh*kw``: the default CNN's first layer (9
    taps, 32 channels at 26x26) costs 1.2 ms less per step than im2col. The weight gradient is
    one matmul of the taps stacked tap-major (each a contiguous shifted copy) with the output
    gradient. XLA fuses this loop into every consumer, so the output is never written but each
    consumer recomputes it: cheap for 9 taps, not for 25 (S7's 5x5 first layer: its stride-1
    pooling's gradient took 20 ms a step instead of 4). Strided, its gather of strided views lost
    too (the speedrun's 5x5 stride-2 layer: 1.5 s an epoch with im2col, 2.2 s with this).

``"winograd"``
    Winograd's F(2x2, 3x3) minimal filtering for 3x3 kernels at stride 1 (``_winograd``): the
    three products 2.25x smaller for a few additions over the arrays. ``"auto"`` picks it where it
    would pick ``"cols"`` for a 3x3 kernel with outputs of at least 8x8: the default CNN's second
    layer (its epoch 0.93x of ``"cols"``'s on two cores, 0.88x on one).

``"xla+im2col"``, ``"xla+cols"``
    XLA's convolution for the output and, with the kernel flipped, for the input gradient (col2im
    as one transposed product); the weight gradient from the named patch matrix. Not chosen by
    ``"auto"``: per layer up to ~10% less CPU time on the default CNN's second convolution, more
    on S7's, and no difference in a whole scanned epoch of either (2026-12, loaded machine).

All four come with a ``jax.custom_vjp`` whose backward pass is two matmuls plus sums of shifted slices.
Autodiff of the same forward pass was 2-3x slower: XLA:CPU copied the patch matrix transposed for
the weight gradient, materialized each of the ``kh*kw`` col2im terms separately, and fused the
cheap producers (bias, ReLU, pooling) into each of the ``kh*kw`` patch slices. Forward-mode
differentiation (``jax.jvp``) therefore needs ``impl="xla"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

LAYOUTS = ("NHWC", "NCHW")
CONV_IMPLS = ("auto", "xla", "im2col", "cols", "direct", "winograd", "xla+im2col", "xla+cols")


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
    lo, hi, st = [0] * x.ndim, list(x.shape), [1] * x.ndim
    lo[axis], hi[axis], st[axis] = start, start + (count - 1) * stride + 1, stride
    return lax.slice(x, lo, hi, st)


def _put(x, axis: int, start: int, size: int, stride: int):
    """Transpose of :func:`_take`: ``x`` at ``start, start + stride, ...`` of zeros of ``size``."""
    cfg = [(0, 0, 0)] * x.ndim
    cfg[axis] = (start, size - start - (x.shape[axis] - 1) * stride - 1, stride - 1)
    return lax.pad(x, jnp.zeros((), x.dtype), cfg)


def _stack(parts, axis: int):
    # XLA:CPU fuses a concatenation into a single loop only when it has at most 8 operands and
    # does not run along the minor dimension; a new axis just before C satisfies the second.
    if len(parts) <= 8:
        return jnp.stack(parts, axis=axis)
    k = -(-len(parts) // 8)
    return jnp.concatenate(
        [jnp.stack(parts[i : i + k], axis=axis) for i in range(0, len(parts), k)], axis=axis
    )


def _sum(parts):
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _dot(a, b):
    """``a[..., k] @ b[k, o]``."""
    return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))


def _dot_t(a, b):
    """``a[..., o] @ b[k, o].T`` without a transposed copy of ``b``.

    ``k`` (the output width: an input gradient's patch features) is padded with zero rows to a
    multiple of 16, AVX-512's floats per vector, and the extra columns sliced off. S7's second
    layer (``k = 60``) took 5.7 ms of a 26 ms training step that way; with ``k = 64`` its scanned
    epoch went from 12.3 to 11.3 s (the engine, interleaved).
    """
    k = b.shape[0]
    if k % 16:
        b = jnp.pad(b, ((0, -k % 16), (0, 0)))
    return lax.dot_general(a, b, (((a.ndim - 1,), (1,)), ((), ())))[..., :k]


def _gram(a, b):
    """``A.T @ B`` for ``a``, ``b`` flattened to 2-D over their leading axes: a weight gradient.

    Contracting the long axis as the major axis of two 2-D operands keeps XLA:CPU on its Eigen
    kernel without copying either operand. Other spellings (4-D operands, or a transposed patch
    matrix) made XLA transpose the big patch matrix first, and the XNNPACK kernel it then picks for
    the transposed form ran at half the speed.
    """
    return lax.dot_general(a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1]), (((0,), (0,)), ((), ())))


# ----------------------------------------------------------------------------------------------
# Convolution as matmuls. x is NHWC, w HWIO, stride an int, pads ((lo, hi), (lo, hi)).


def _im2col_patches(xp, kh, kw, stride):
    """``(n, ho, wo, kh*kw*c)``, features in HWI order like ``w.reshape(-1, o)``."""
    n, hp, wp, c = xp.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    # Two nested stacks on different axes: each fuses into the one loop that writes the patch
    # matrix, where a flat 25-way stack is an unfused concatenation of 25 separately
    # materialized slices, each recomputing the producer (ReLU, pooling) it was fused with.
    rows = [_take(xp, 1, i, ho, stride) for i in range(kh)]
    p = jnp.stack([jnp.stack([_take(r, 2, j, wo, stride) for j in range(kw)], axis=3) for r in rows], axis=3)
    return p.reshape(n, ho, wo, kh * kw * c)


def _cols_patches(xp, kw, stride):
    """``(n, hp, wo, kw*c)``: patches along W only, at every input row."""
    n, hp, wp, c = xp.shape
    wo = (wp - kw) // stride + 1
    return _stack([_take(xp, 2, j, wo, stride) for j in range(kw)], axis=3).reshape(n, hp, wo, kw * c)


def _views(xp, kh, kw, stride):
    """The ``kh*kw`` strided views of the padded input that meet each tap, row-major, each
    ``(n, ho, wo, c)``."""
    ho, wo = (xp.shape[1] - kh) // stride + 1, (xp.shape[2] - kw) // stride + 1
    return [_take(_take(xp, 1, i, ho, stride), 2, j, wo, stride) for i in range(kh) for j in range(kw)]


def _direct(views, w):
    """``sum_t views[t] @ w[t]``; with one input channel a broadcast product per tap, which XLA
    fuses into one elementwise loop (a ``K = 1`` product would go to a matmul library)."""
    kh, kw, c, o = w.shape
    taps = w.reshape(kh * kw, c, o)
    return _sum([v * taps[t, 0] if c == 1 else _dot(v, taps[t]) for t, v in enumerate(views)])


def _direct_gram(views, dy):
    """The weight gradient ``(kh*kw*c, o)`` from the views stacked tap-major: ``(kh*kw*c, m)``
    rows, each a contiguous copy, contracted with ``dy`` as ``(m, o)``."""
    rows = jnp.stack([jnp.moveaxis(v, -1, 0) for v in views]).reshape(-1, dy[..., 0].size)
    return lax.dot_general(rows, dy.reshape(-1, dy.shape[-1]), (((1,), (0,)), ((), ())))


def _cols_weight(w):
    kh, kw, c, o = w.shape
    return jnp.transpose(w, (1, 2, 0, 3)).reshape(kw * c, kh * o)  # rows (j, c), columns (i, o)


def _conv_fwd(x, w, stride, pads, kind):
    kh, kw, c, o = w.shape
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    hp = xp.shape[1]
    ho = (hp - kh) // stride + 1
    if kind == "direct":
        return _direct(_views(xp, kh, kw, stride), w), (xp, w, xp.shape[1:3])
    if kind == "im2col":
        p = _im2col_patches(xp, kh, kw, stride)
        y = _dot(p, w.reshape(kh * kw * c, o))
    else:
        p = _cols_patches(xp, kw, stride)
        z = _dot(p, _cols_weight(w)).reshape(*p.shape[:3], kh, o)
        y = _sum([_take(z[:, :, :, i], 1, i, ho, stride) for i in range(kh)])
    return y, (p, w, xp.shape[1:3])


def _conv_bwd(stride, pads, kind, res, dy):
    p, w, (hp, wp) = res
    kh, kw, c, o = w.shape
    n, ho, wo, _ = dy.shape
    if kind in ("im2col", "direct"):
        if kind == "direct":  # p is the padded input
            dw = _direct_gram(_views(p, kh, kw, stride), dy).reshape(w.shape)
        else:
            dw = _gram(p, dy).reshape(w.shape)
        dp = _dot_t(dy, w.reshape(kh * kw * c, o)).reshape(n, ho, wo, kh * kw, c)
        terms = [
            _put(_put(dp[:, :, :, t], 1, t // kw, hp, stride), 2, t % kw, wp, stride) for t in range(kh * kw)
        ]
    else:
        # dz[:, r, :, i] = dy[:, (r - i) / stride]: the cotangent of the shifted sum over H taps.
        dz = _stack([_put(dy, 1, i, hp, stride) for i in range(kh)], axis=3).reshape(n, hp, wo, kh * o)
        dw = jnp.transpose(_gram(p, dz).reshape(kw, c, kh, o), (2, 0, 1, 3))
        dp = _dot_t(dz, _cols_weight(w)).reshape(n, hp, wo, kw, c)
        terms = [_put(dp[:, :, :, j], 2, j, wp, stride) for j in range(kw)]
    dxp = _sum(terms)  # col2im: each patch entry added back where it was read from
    (h0, h1), (w0, w1) = pads
    return dxp[:, h0 : hp - h1, w0 : wp - w1], dw


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv_mm(x, w, stride, pads, kind):
    return _conv_fwd(x, w, stride, pads, kind)[0]


_conv_mm.defvjp(_conv_fwd, _conv_bwd)


def _conv_dx_xla(dy, w, stride, pads, hw):
    """The input gradient as one forward convolution: ``dy`` (dilated by ``stride``, padded by
    ``k - 1``) correlated with the flipped kernel, its I and O swapped. This is col2im done by one
    transposed product, the way XLA:CPU runs forward convolutions fast, in place of ``kh*kw`` (or
    ``kw``) shifted partial sums."""
    kh, kw, _, _ = w.shape
    ho, wo = dy.shape[1:3]
    (h0, h1), (w0, w1) = pads
    hp, wp = hw[0] + h0 + h1, hw[1] + w0 + w1
    # Rows and columns of the padded input that no window reached get a zero gradient.
    extra_h, extra_w = hp - (ho - 1) * stride - kh, wp - (wo - 1) * stride - kw
    wt = jnp.swapaxes(jnp.flip(w, (0, 1)), 2, 3)
    dn = lax.conv_dimension_numbers(dy.shape, wt.shape, ("NHWC", "HWIO", "NHWC"))
    dxp = lax.conv_general_dilated(
        dy,
        wt,
        (1, 1),
        ((kh - 1, kh - 1 + extra_h), (kw - 1, kw - 1 + extra_w)),
        lhs_dilation=(stride, stride),
        dimension_numbers=dn,
    )
    return dxp[:, h0 : hp - h1, w0 : wp - w1]


def _conv_x_fwd(x, w, stride, pads, kind):
    return _conv_xla(x, w, stride, pads, "NHWC"), (x, w)


def _conv_x_bwd(stride, pads, kind, res, dy):
    x, w = res
    kh, kw, c, o = w.shape
    n, _, wo, _ = dy.shape
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    hp = xp.shape[1]
    if kind == "im2col":
        dw = _gram(_im2col_patches(xp, kh, kw, stride), dy).reshape(w.shape)
    else:
        dz = _stack([_put(dy, 1, i, hp, stride) for i in range(kh)], axis=3).reshape(n, hp, wo, kh * o)
        dw = jnp.transpose(_gram(_cols_patches(xp, kw, stride), dz).reshape(kw, c, kh, o), (2, 0, 1, 3))
    return _conv_dx_xla(dy, w, stride, pads, x.shape[1:3]), dw


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv_x(x, w, stride, pads, kind):
    return _conv_x_fwd(x, w, stride, pads, kind)[0]


_conv_x.defvjp(_conv_x_fwd, _conv_x_bwd)


def _conv_xla(x, w, stride, pads, layout):
    dn = lax.conv_dimension_numbers(x.shape, w.shape, (layout, "HWIO", layout))
    return lax.conv_general_dilated(x, w, (stride, stride), pads, dimension_numbers=dn)


def _auto_conv_impl(w_shape, stride: int, out_hw: tuple[int, int] = (0, 0)) -> str:
    """Chosen at trace time: cuDNN and friends are fast, so only XLA:CPU gets matmul formulations.

    "direct" for one input channel, 3x3 or smaller, at stride 1 (a first layer); im2col where its
    patch matrix stays small (few input channels) or where strides make "cols" compute mostly
    discarded rows; "winograd" for other 3x3 kernels at stride 1 with outputs of at least 8x8;
    "cols" otherwise. Measured per layer on S7, S3, the default CNN and the speedrun's
    (bench/conv_formulations.py, the engine's epoch): either choice made the other's layers
    slower. Winograd's products have one row per 2x2 output tile, so a 4x4 output (the speedrun
    nets' second layer: 4 tiles an image) leaves them too small to pay for the transforms: the
    MNIST net's epoch took 1.04x as long as with "cols", the Fashion-MNIST net's 0.93x but with
    1.2-2 s more compile time, the same from process start.
    """
    if jax.default_backend() != "cpu":
        return "xla"
    kh, kw, c, _ = w_shape
    if c == 1 and stride == 1 and kh * kw <= 9:
        return "direct"
    if stride > 1 or kh * kw * c <= 64:
        return "im2col"
    return "winograd" if (kh, kw) == (3, 3) and min(out_hw) >= 8 else "cols"


def conv2d(x, w, *, stride: int = 1, padding: str = "VALID", layout: str = "NHWC", impl: str = "auto"):
    """2-D cross-correlation of ``x`` with HWIO kernel ``w`` (no bias).

    ``padding`` is ``"VALID"``, ``"SAME"`` (XLA's convention) or ``((top, bottom), (left, right))``.
    Every ``impl`` computes the same function (``"winograd"``: 3x3 kernels at stride 1 only); the
    matmul formulations support reverse-mode differentiation only (``jax.grad``, ``jax.vjp``),
    ``"xla"`` both modes.
    """
    _check(layout, impl, CONV_IMPLS)
    x, w = jnp.asarray(x), jnp.asarray(w)
    dt = jnp.result_type(x, w)
    x, w = x.astype(dt), w.astype(dt)
    hw = x.shape[1:3] if layout == "NHWC" else x.shape[2:4]
    pads = _pads(hw, w.shape[:2], stride, padding)
    if impl == "auto":
        sizes = zip(hw, pads, w.shape[:2], strict=True)
        out_hw = tuple((n + lo + hi - k) // stride + 1 for n, (lo, hi), k in sizes)
        impl = _auto_conv_impl(w.shape, stride, out_hw)
    if impl == "xla":
        return _conv_xla(x, w, stride, pads, layout)
    if impl == "winograd":
        from ._winograd import winograd_conv  # here: _winograd takes its strided slices from this module

        if stride != 1:
            raise ValueError(f"impl='winograd' needs stride 1, got stride {stride}")
        return _from_nhwc(winograd_conv(_to_nhwc(x, layout), w, pads), layout)
    if impl.startswith("xla+"):
        return _from_nhwc(_conv_x(_to_nhwc(x, layout), w, stride, pads, impl[4:]), layout)
    return _from_nhwc(_conv_mm(_to_nhwc(x, layout), w, stride, pads, impl), layout)


__all__ = ["CONV_IMPLS", "LAYOUTS", "conv2d"]
