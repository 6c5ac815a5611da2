"""Max- and average-pooling with one mathematics and the fastest formulation per backend.

Max-pooling: ``impl="xla"`` is ``lax.reduce_window``, whose gradient (``select_and_scatter``) is
slow on XLA:CPU inside a scanned epoch; ``"slices"`` has a gradient of its own that routes each
window's cotangent to the window's first maximum in row-major order, where ``reduce_window``'s
goes, as masked sums of shifted slices (see ``_conv`` for why formulations differ at all).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ._conv import _check, _from_nhwc, _put, _sum, _to_nhwc, _views

POOL_IMPLS = ("auto", "xla", "slices")


# ----------------------------------------------------------------------------------------------
# Max-pooling


def _pool_views(x, window, stride):
    return _views(x, window, window, stride)


@partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _pool_slices(x, window, stride):
    return _max(_pool_views(x, window, stride))


def _max(views):
    y = views[0]
    for v in views[1:]:
        y = jnp.maximum(y, v)
    return y


def _pool_slices_fwd(x, window, stride):
    if stride < window:
        # Training, overlapping windows: the same maxima by reduce_window, which XLA:CPU computes
        # once. As a maximum of shifted views it fused into the next layer's patch matrix and was
        # recomputed for every tap (S7's scanned epoch: 14.6 s that way, 13.6 s this way); tiling
        # windows gain nothing (the default CNN: 9.5 s either way). Not in the primal above, which
        # inference and export trace: jax2onnx turns an NHWC reduce_window into a MaxPool that
        # onnxruntime refuses.
        return _max_pool_xla(x, window, stride, "NHWC"), x
    return _pool_slices(x, window, stride), x


def _pool_slices_bwd(window, stride, x, dy):
    # The gradient of each window goes to its first maximum in row-major order, as in the transpose
    # of reduce_window (select_and_scatter keeping the current pick while it is >= the next), so
    # "slices" and "xla" agree exactly, ties included; autodiff of jnp.maximum would split a tie's
    # gradient evenly instead. (After a ReLU most ties are at 0, where the ReLU's gradient is 0
    # anyway.) Recomputing the max here is cheaper than saving it: it fuses into this loop.
    views = _pool_views(x, window, stride)
    y = _max(views)
    if stride == 1:
        return (_stride1_pool_grad(views, y, dy, x.shape, window),)
    zero = jnp.zeros((), dy.dtype)
    picks, taken = [], None
    for v in views:
        hit = v == y if taken is None else (v == y) & ~taken
        taken = hit if taken is None else taken | hit
        picks.append(jnp.where(hit, dy, zero))
    if stride == window:
        # Windows tile the input: interleave the picks (one fused write) instead of summing
        # window**2 zero-padded full-size copies; rows and columns past the last window get 0.
        n, ho, wo, c = dy.shape
        rows = [jnp.stack(picks[i * window : (i + 1) * window], axis=3) for i in range(window)]
        dx = jnp.stack(rows, axis=2).reshape(n, ho * window, wo * window, c)
        return (jnp.pad(dx, ((0, 0), (0, x.shape[1] - ho * window), (0, x.shape[2] - wo * window), (0, 0))),)
    # Other overlapping windows (1 < stride < window): sum each row of window offsets along W, then
    # the rows along H. The window**2 doubly padded terms summed at once made a loop 2-3x slower.
    rows = [
        _sum([_put(picks[i * window + j], 2, j, x.shape[2], stride) for j in range(window)])
        for i in range(window)
    ]
    return (_sum([_put(r, 1, i, x.shape[1], stride) for i, r in enumerate(rows)]),)


def _stride1_pool_grad(views, y, dy, shape, window):
    """Windows moved one pixel at a time: each window's offset of its first maximum, then every
    input pixel sums, over the offsets, ``dy`` of the window that has it at that offset. Both
    small arrays are padded once by ``window - 1`` so that each term is a plain slice. As a sum of
    zero-padded picks (a pad per term, as for other strides), XLA:CPU recomputed every pick in
    each padded term with a bounds check per element: S7's first pooling took 4 ms of a 29 ms
    step, and its scanned epoch 15.0 s against 13.0 s this way."""
    first = jnp.full(y.shape, len(views) - 1, jnp.int32)
    for k in range(len(views) - 2, -1, -1):
        first = jnp.where(views[k] == y, k, first)
    pad = ((0, 0), (window - 1, window - 1), (window - 1, window - 1), (0, 0))
    first, dy = jnp.pad(first, pad, constant_values=-1), jnp.pad(dy, pad)
    h, w = shape[1:3]
    zero = jnp.zeros((), dy.dtype)
    terms = []
    for a in range(window):
        for b in range(window):
            i, j = window - 1 - a, window - 1 - b  # where this offset's windows start, padded
            at = (slice(None), slice(i, i + h), slice(j, j + w))
            terms.append(jnp.where(first[at] == a * window + b, dy[at], zero))
    return _sum(terms)


_pool_slices.defvjp(_pool_slices_fwd, _pool_slices_bwd)


def _windows(window: int, stride: int, layout: str):
    """reduce_window's window dimensions and strides for ``layout``."""
    if layout == "NHWC":
        return (1, window, window, 1), (1, stride, stride, 1)
    return (1, 1, window, window), (1, 1, stride, stride)


def _max_pool_xla(x, window: int, stride: int, layout: str):
    return lax.reduce_window(x, -jnp.inf, lax.max, *_windows(window, stride, layout), "VALID")


def _auto_pool_impl() -> str:
    # reduce_window's gradient (select_and_scatter) made S7's and the CNN's scanned epochs 1.3x and
    # 1.5x slower on XLA:CPU than shifted slices with the masked-sum gradient below.
    return "slices" if jax.default_backend() == "cpu" else "xla"


def max_pool(x, *, window: int = 2, stride: int = 1, layout: str = "NHWC", impl: str = "auto"):
    """Max over ``window x window`` patches (VALID), moved ``stride`` pixels at a time.

    ``"slices"`` is the elementwise maximum of the ``window**2`` strided views, with a custom VJP
    (reverse mode only); its gradient matches ``"xla"``'s exactly, ties included.
    """
    _check(layout, impl, POOL_IMPLS)
    if impl == "auto":
        impl = _auto_pool_impl()
    if impl == "xla":
        return _max_pool_xla(x, window, stride, layout)
    return _from_nhwc(_pool_slices(_to_nhwc(x, layout), window, stride), layout)


# ----------------------------------------------------------------------------------------------
# Average pooling


def avg_pool(x, *, window: int = 2, stride: int = 1, layout: str = "NHWC"):
    """Mean over ``window x window`` patches (VALID), moved ``stride`` pixels at a time.

    One formulation on every backend, XLA's ``reduce_window`` sum: unlike max-pooling's, its
    gradient is no bottleneck on XLA:CPU. A scanned LeNet-5 epoch (30 steps of 128 images, the
    min of 15 interleaved runs on a shared 2-core machine) took 488 ms with it, 508 ms with
    reshape-and-mean (which needs stride = window) and 558 ms with summed shifted slices.
    """
    _check(layout, "xla", ("xla",))
    dims, strides = _windows(window, stride, layout)
    # A concrete (NumPy) zero: reduce_window is differentiable only as a sum it can recognise.
    total = lax.reduce_window(x, np.zeros((), x.dtype), lax.add, dims, strides, "VALID")
    return total * (1.0 / (window * window))  # a Python scalar keeps x's dtype


__all__ = ["POOL_IMPLS", "avg_pool", "max_pool"]
