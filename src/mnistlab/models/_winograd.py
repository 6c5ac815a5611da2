"""Winograd's F(2x2, 3x3) convolution: ``impl="winograd"`` of :func:`~mnistlab.models._conv.conv2d`.

Why: a 3x3, stride-1 layer with many input channels spends its time in three matrix products
(output, weight gradient, input gradient). Winograd's minimal filtering computes each 2x2 block
of outputs from a 4x4 block of inputs with 16 multiplications where the direct sum takes 36, so
the three products shrink 2.25x, for transforms that are a few additions over the input, output
and gradient arrays. In matrix form (Lavin & Gray, "Fast Algorithms for Convolutional Neural
Networks", 2016), for every one of the 16 positions ``xi`` of a 4x4 tile::

    V[xi] = (B^T d B)[xi]   (tiles, c)     input tiles, transformed
    U[xi] = (G g G^T)[xi]   (c, o)         kernels, transformed
    M[xi] = V[xi] @ U[xi]   (tiles, o)     16 batched products with K = c
    y     = A^T M A         2x2 outputs per tile

and the backward pass is the same in reverse: ``dM = A dy A^T``, ``dU = V^T dM``, ``dV = dM U^T``,
``dw = G^T dU G`` and ``dx`` the overlap-add of ``B dV B^T`` (tiles overlap by 2 rows and columns).
Measured with the engine's scanned epoch against ``"cols"`` (2026-12, the shared 2-core machine,
interleaved): the default CNN's epoch 0.93x on two cores (CPU time 0.90x), 0.88x on one core.
Each transform is a stack of at most 4 parts, which XLA:CPU fuses into one loop; a 16-way stack
became 16 separate loops, each recomputing the pooling that produced its input (1.06x slower
than ``"cols"``). Small outputs do not pay: see ``_conv._auto_conv_impl``.

Rounding differs from the direct sum (the transforms add and subtract inputs before the
products), within float32's usual error for a sum of this length: the tests compare against XLA's
convolution in float64 to 1e-10 and in float32 to 1e-5.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ._conv import _take

# Lavin & Gray's F(2x2, 3x3) matrices (rows as tuples).
_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
_G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))
_AT = ((1, 1, 1, 0), (0, 1, -1, -1))


def _transpose(m):
    return tuple(zip(*m, strict=True))


def _combine(parts, rows):
    """``[sum_j rows[i][j] * parts[j] for each row i]``: adds and subtracts, no multiplies."""
    out = []
    for row in rows:
        acc = None
        for coef, part in zip(row, parts, strict=True):
            if coef == 0:
                continue
            term = part if coef == 1 else -part if coef == -1 else coef * part
            acc = term if acc is None else acc + term
        out.append(acc)
    return out


def _input_tiles(xp, th: int, tw: int):
    """``(16, n*th*tw, c)``: ``B^T d B`` of every 4x4 tile ``d`` (stride 2) of ``xp``, rows then columns."""
    n, _, _, c = xp.shape
    rows = jnp.stack(_combine([_take(xp, 1, i, th, 2) for i in range(4)], _BT))  # (4, n, th, wp, c)
    v = jnp.stack(_combine([_take(rows, 3, j, tw, 2) for j in range(4)], _BT), axis=1)
    return v.reshape(16, n * th * tw, c)


def _kernel_tiles(w):
    """``(16, c, o)``: ``G g G^T`` of every kernel ``g``."""
    g = jnp.asarray(_G, w.dtype)
    return jnp.einsum("ai,ijco,bj->abco", g, w, g).reshape(16, *w.shape[2:])


def _outputs(m, n: int, th: int, tw: int):
    """``(n, 2*th, 2*tw, o)``: ``A^T M A`` of every tile, the 2x2 blocks put in place."""
    m = m.reshape(4, 4, n, th, tw, -1)
    rows = jnp.stack(_combine([m[a] for a in range(4)], _AT))  # (2, 4, n, th, tw, o)
    y = jnp.stack(_combine([rows[:, b] for b in range(4)], _AT), axis=4)  # (2a, n, th, tw, 2b, o)
    y = jnp.swapaxes(jnp.moveaxis(y, 0, 3), 2, 3)  # (n, th, 2a, tw, 2b, o)
    return y.reshape(n, 2 * th, 2 * tw, -1)


def _overlap_add(parts, axis: int):
    """Tiles ``parts[i]`` (offset ``i`` within a tile, tiles every 2) summed into one axis of
    length ``2 * (tiles + 1)``: even positions get parts 0 and 2 (from the tile before), odd ones
    parts 1 and 3."""

    def shifted_sum(a, b):
        lo, hi = [(0, 0)] * a.ndim, [(0, 0)] * a.ndim
        lo[axis], hi[axis] = (0, 1), (1, 0)
        return jnp.pad(a, lo) + jnp.pad(b, hi)

    pair = jnp.stack([shifted_sum(parts[0], parts[2]), shifted_sum(parts[1], parts[3])], axis=axis + 1)
    shape = list(pair.shape)
    return pair.reshape(*shape[:axis], 2 * shape[axis], *shape[axis + 2 :])


def _bmm(a, b, contract: tuple[int, int]):
    return lax.dot_general(a, b, (((contract[0],), (contract[1],)), ((0,), (0,))))


def _fwd(xp, w):
    n, hp, wp, _ = xp.shape
    th, tw = (hp - 2) // 2, (wp - 2) // 2
    v, u = _input_tiles(xp, th, tw), _kernel_tiles(w)
    return _outputs(_bmm(v, u, (2, 1)), n, th, tw), (v, u, (n, th, tw))


def _bwd(res, dy):
    v, u, (n, th, tw) = res
    c = v.shape[-1]
    dy = dy.reshape(n, th, 2, tw, 2, -1)
    a = _transpose(_AT)
    rows = jnp.stack(_combine([dy[:, :, i] for i in range(2)], a))  # (4, n, th, tw, 2, o)
    dm = jnp.stack(_combine([rows[..., j, :] for j in range(2)], a), axis=1).reshape(16, n * th * tw, -1)
    du = _bmm(v, dm, (1, 1))  # (16, c, o)
    dv = _bmm(dm, u, (2, 2)).reshape(4, 4, n, th, tw, c)
    g = jnp.asarray(_G, u.dtype)
    dw = jnp.einsum("ai,abco,bj->ijco", g, du.reshape(4, 4, *du.shape[1:]), g)
    b = _transpose(_BT)
    cols = _combine([dv[:, j] for j in range(4)], b)  # column offset j: (4, n, th, tw, c) each
    rows = _overlap_add(cols, 3)  # (4, n, th, wp, c)
    return _overlap_add(_combine([rows[i] for i in range(4)], b), 1), dw


@jax.custom_vjp
def _winograd(xp, w):
    return _fwd(xp, w)[0]


_winograd.defvjp(_fwd, _bwd)


def winograd_conv(x, w, pads):
    """VALID correlation of NHWC ``x``, padded by ``pads`` ``((top, bottom), (left, right))``, with
    a 3x3 HWIO kernel ``w``. An odd output height or width gets one more zero row or column of
    input, and the extra output is cropped."""
    if w.shape[:2] != (3, 3):
        raise ValueError(f"impl='winograd' needs a 3x3 kernel, got {w.shape[0]}x{w.shape[1]}")
    h, wd = x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1])
    ho, wo = h - 2, wd - 2
    (t, b), (le, r) = pads
    xp = jnp.pad(x, ((0, 0), (t, b + ho % 2), (le, r + wo % 2), (0, 0)))
    return _winograd(xp, w)[:, :ho, :wo]


__all__ = ["winograd_conv"]
