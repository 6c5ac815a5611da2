"""Every conv/pool formulation computes the same function, and the same gradients, as XLA's;
average pooling is the patch mean."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.test_util import check_grads

from mnistlab.models import _conv, _pool
from mnistlab.models._conv import conv2d
from mnistlab.models._pool import avg_pool, max_pool

pytestmark = pytest.mark.usefixtures("cheap_compiles")  # many small programs, each run once

FAST_CONV = ("im2col", "cols", "direct", "winograd")
# XLA's forward convolution for y and, transposed, for dx; a patch matmul for dw. Not chosen by
# "auto" (no faster in a whole model), so checked on the float64 cases and check_grads only.
ALL_MM = (*FAST_CONV, "xla+im2col", "xla+cols")

# (input shape in its layout, HWIO kernel, stride, padding, layout)
CONV_CASES = {
    "S7-conv1": ((2, 28, 28, 1), (5, 5, 1, 12), 1, "VALID", "NHWC"),
    "S7-conv2": ((2, 23, 23, 12), (5, 5, 12, 16), 1, "VALID", "NHWC"),
    "S3-conv1": ((2, 1, 28, 28), (4, 4, 1, 16), 4, "VALID", "NCHW"),
    "S3-conv2": ((2, 16, 7, 7), (3, 3, 16, 32), 1, "VALID", "NCHW"),
    "CNN-conv2": ((2, 13, 13, 8), (3, 3, 8, 16), 1, "VALID", "NHWC"),
    "same-odd": ((2, 9, 10, 3), (3, 3, 3, 4), 1, "SAME", "NHWC"),
    "same-stride2-rect": ((2, 3, 9, 10), (4, 2, 3, 5), 2, "SAME", "NCHW"),
    "stride-beyond-kernel": ((2, 11, 8, 2), (2, 2, 2, 3), 3, "VALID", "NHWC"),
    "explicit-pads": ((2, 2, 7, 9), (3, 3, 2, 4), 2, ((1, 2), (0, 3)), "NCHW"),
    "1x1-same": ((2, 5, 5, 3), (1, 1, 3, 4), 1, "SAME", "NHWC"),
    "CNN-conv2-cropped": ((2, 12, 12, 8), (3, 3, 8, 16), 1, "VALID", "NHWC"),
    "speedrun-conv2": ((2, 6, 6, 12), (3, 3, 12, 24), 1, "VALID", "NHWC"),
    "explicit-pads-stride1": ((2, 2, 7, 9), (3, 3, 2, 4), 1, ((1, 2), (0, 3)), "NCHW"),
}


def _fitting(impls, case):
    """The impls that take the case: "winograd" is for 3x3 kernels at stride 1 only."""
    _, ws, stride, _, _ = CONV_CASES[case]
    return tuple(i for i in impls if i != "winograd" or (ws[:2] == (3, 3) and stride == 1))


def _assert_close(actual, expected, rel):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = max(np.max(np.abs(expected)), 1e-30)
    np.testing.assert_array_less(np.max(np.abs(actual - expected)) / scale, rel)


def _conv_and_vjp(impls, stride, padding, layout):
    """For each impl, y and (dx, dw) for cotangent r: one compiled function for all of them."""

    def one(x, w, r, impl):
        y, vjp = jax.vjp(
            lambda x, w: conv2d(x, w, stride=stride, padding=padding, layout=layout, impl=impl), x, w
        )
        return (y, *vjp(r))

    return jax.jit(lambda x, w, r: {impl: one(x, w, r, impl) for impl in (*impls, "xla")})


def _normal(rng, shape, dtype):
    # numpy's generator: jax.random compiles a PRNG program per shape and dtype, ~1 s each here.
    return jnp.asarray(rng.standard_normal(shape), dtype)


def _inputs(case, dtype, seed=0):
    xs, ws, stride, padding, layout = CONV_CASES[case]
    rng = np.random.default_rng(seed)
    x = _normal(rng, xs, dtype)
    w = _normal(rng, ws, dtype) / np.sqrt(np.prod(ws[:3]))
    y = jax.eval_shape(lambda: conv2d(x, w, stride=stride, padding=padding, layout=layout, impl="xla"))
    return x, w, _normal(rng, y.shape, dtype), stride, padding, layout


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_matches_xla_float64(case, x64):
    x, w, r, stride, padding, layout = _inputs(case, jnp.float64)
    impls = _fitting(ALL_MM, case)
    out = _conv_and_vjp(impls, stride, padding, layout)(x, w, r)
    for impl in impls:
        for a, b in zip(out[impl], out["xla"], strict=True):
            assert a.dtype == jnp.float64
            _assert_close(a, b, 1e-10)


@pytest.mark.parametrize(
    "case", ["S7-conv1", "S7-conv2", "S3-conv1", "same-stride2-rect", "CNN-conv2", "speedrun-conv2"]
)
def test_conv_matches_xla_float32(case):
    x, w, r, stride, padding, layout = _inputs(case, jnp.float32)
    impls = _fitting(FAST_CONV, case)
    out = _conv_and_vjp(impls, stride, padding, layout)(x, w, r)
    for impl in impls:
        for a, b in zip(out[impl], out["xla"], strict=True):
            assert a.dtype == jnp.float32
            _assert_close(a, b, 1e-5)


@pytest.mark.parametrize("case", ["S7-conv2", "CNN-conv2"])
def test_conv_bfloat16_follows_float32(case):
    x, w, r, stride, padding, layout = _inputs(case, jnp.float32)
    bf = jnp.bfloat16
    impls = _fitting(FAST_CONV, case)
    out32 = _conv_and_vjp(impls, stride, padding, layout)(x, w, r)
    out16 = _conv_and_vjp(impls, stride, padding, layout)(x.astype(bf), w.astype(bf), r.astype(bf))
    for impl in impls:
        for a, b in zip(out16[impl], out32[impl], strict=True):
            assert a.dtype == bf
            _assert_close(a, b, 3e-2)


def test_conv_promotes_mixed_dtypes():
    x = jnp.ones((1, 5, 5, 2), jnp.bfloat16)
    w = jnp.ones((3, 3, 2, 1), jnp.float32)
    for impl in ("xla", *FAST_CONV):
        assert jax.eval_shape(lambda impl=impl: conv2d(x, w, impl=impl)).dtype == jnp.float32


@pytest.mark.parametrize("case", ["S7-conv1", "S7-conv2", "same-stride2-rect", "CNN-conv2-cropped"])
def test_conv_under_vmap_over_seeds(case, x64):
    """The engine vmaps whole training over seeds: kernels and inputs both get a leading axis."""
    x, w, r, stride, padding, layout = _inputs(case, jnp.float64)
    xs = jnp.stack([x, 2 * x, -x])
    ws = jnp.stack([w, w[::-1], 0.5 * w])

    def grads(xs, ws, r, impl):
        def loss(x, w):
            return jnp.sum(conv2d(x, w, stride=stride, padding=padding, layout=layout, impl=impl) * r)

        return jax.vmap(jax.value_and_grad(loss, argnums=(0, 1)))(xs, ws)

    impls = _fitting(FAST_CONV, case)
    out = jax.jit(lambda *a: {impl: grads(*a, impl) for impl in (*impls, "xla")})(xs, ws, r)
    for impl in impls:
        for a, b in zip(jax.tree.leaves(out[impl]), jax.tree.leaves(out["xla"]), strict=True):
            _assert_close(a, b, 1e-10)


@pytest.mark.parametrize("impl", ALL_MM)
def test_conv_check_grads(impl, x64):
    case = "explicit-pads" if _fitting([impl], "explicit-pads") else "explicit-pads-stride1"
    x, w, _, stride, padding, layout = _inputs(case, jnp.float64)
    f = jax.jit(lambda x, w: conv2d(x, w, stride=stride, padding=padding, layout=layout, impl=impl))
    check_grads(f, (x, w), order=1, modes=("rev",))


# ----------------------------------------------------------------------------------------------
# Max-pooling

# stride == window takes the tiling gradient (remainder rows and columns included: 9 x 11 input).
POOL_CASES = [(2, 1, "NHWC"), (2, 2, "NHWC"), (2, 1, "NCHW"), (2, 2, "NCHW"), (3, 2, "NHWC"), (3, 3, "NCHW")]


def _pool_and_vjp(window, stride, layout):
    def one(x, r, impl):
        y, vjp = jax.vjp(lambda x: max_pool(x, window=window, stride=stride, layout=layout, impl=impl), x)
        return y, vjp(r)[0]

    return jax.jit(lambda x, r: (one(x, r, "slices"), one(x, r, "auto"), one(x, r, "xla")))


@pytest.mark.parametrize(("window", "stride", "layout"), POOL_CASES)
def test_pool_matches_xla_exactly_even_on_ties(window, stride, layout, x64):
    """Integer-valued inputs tie often; the gradient must still go where reduce_window's goes."""
    shape = (2, 9, 11, 3) if layout == "NHWC" else (2, 3, 9, 11)
    rng = np.random.default_rng(1)
    # Small integers after a ReLU: many windows hold ties, many hold zeros only.
    x = jnp.maximum(jnp.round(2 * _normal(rng, shape, jnp.float64)), 0.0)
    y = jax.eval_shape(lambda: max_pool(x, window=window, stride=stride, layout=layout, impl="xla"))
    r = _normal(rng, y.shape, jnp.float64)
    (y1, g1), (y2, g2), (y_ref, g_ref) = _pool_and_vjp(window, stride, layout)(x, r)
    for y, g in ((y1, g1), (y2, g2)):
        np.testing.assert_array_equal(y, y_ref)
        # Same routing exactly; the values only up to the order in which overlapping windows add up.
        np.testing.assert_array_equal(g != 0, g_ref != 0)
        _assert_close(g, g_ref, 1e-14)


def test_pool_float32_random_and_check_grads(x64):
    rng = np.random.default_rng(2)
    x = _normal(rng, (2, 8, 8, 4), jnp.float32)

    def value_and_grad(x, impl, stride):
        return jax.value_and_grad(lambda x: jnp.sum(max_pool(x, stride=stride, impl=impl) ** 2))(x)

    out = jax.jit(lambda x: {(i, s): value_and_grad(x, i, s) for i in ("slices", "xla") for s in (1, 2)})(x)
    for stride in (1, 2):
        for a, b in zip(out["slices", stride], out["xla", stride], strict=True):
            _assert_close(a, b, 1e-6)
    f = jax.jit(lambda x: max_pool(x, window=2, stride=1, impl="slices"))
    check_grads(f, (_normal(rng, (2, 6, 7, 2), jnp.float64),), order=1, modes=("rev",))


@pytest.mark.parametrize(("window", "stride", "layout"), POOL_CASES)
def test_avg_pool_is_the_patch_mean_in_float64(window, stride, layout, x64):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 9, 11, 3))
    ho, wo = (9 - window) // stride + 1, (11 - window) // stride + 1
    expected = np.empty((2, ho, wo, 3))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, i * stride : i * stride + window, j * stride : j * stride + window]
            expected[:, i, j] = patch.mean(axis=(1, 2))
    if layout == "NCHW":
        x, expected = x.transpose(0, 3, 1, 2), expected.transpose(0, 3, 1, 2)
    got = avg_pool(jnp.asarray(x), window=window, stride=stride, layout=layout)
    # Sums of window**2 float64 terms in another order: a few ulps of the values (|x| < ~5).
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)
    f = jax.jit(lambda x: avg_pool(x, window=window, stride=stride, layout=layout))
    check_grads(f, (jnp.asarray(x),), order=1, modes=("rev",))


def test_avg_pool_keeps_the_dtype():
    for dtype in (jnp.float32, jnp.bfloat16):
        assert avg_pool(jnp.ones((1, 4, 4, 2), dtype)).dtype == dtype


# ----------------------------------------------------------------------------------------------
# In a scanned training loop, and the dispatch


def test_scanned_sgd_matches_xla(x64):
    """A few SGD steps of conv -> ReLU -> pool -> conv -> dense inside lax.scan, as the engine runs."""
    rng = np.random.default_rng(4)
    params = {
        "w1": _normal(rng, (5, 5, 1, 8), jnp.float64) / 5,
        "w2": _normal(rng, (3, 3, 8, 6), jnp.float64) / 8,  # 72 features: "auto" picks "cols"
        "d": _normal(rng, (6 * 6 * 6, 10), jnp.float64) / 15,
    }
    xs = _normal(rng, (3, 4, 14, 14, 1), jnp.float64)
    ys = jnp.arange(12).reshape(3, 4) % 10

    def train(impl):
        def loss(p, x, y):
            h = max_pool(jax.nn.relu(conv2d(x, p["w1"], impl=impl)), stride=1, impl=impl)
            h = max_pool(jax.nn.relu(conv2d(h, p["w2"], impl=impl)), stride=1, impl=impl)
            logits = h.reshape(h.shape[0], -1) @ p["d"]
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

        def step(p, batch):
            value, g = jax.value_and_grad(loss)(p, *batch)
            return jax.tree.map(lambda a, b: a - 0.1 * b, p, g), value

        return jax.jit(lambda p, xs, ys: lax.scan(step, p, (xs, ys)))(params, xs, ys)

    for a, b in zip(jax.tree.leaves(train("auto")), jax.tree.leaves(train("xla")), strict=True):
        _assert_close(a, b, 1e-10)


def test_auto_picks_matmuls_on_cpu_only(monkeypatch):
    if jax.default_backend() == "cpu":
        assert _conv._auto_conv_impl((3, 3, 1, 32), 1) == "direct"  # one input channel, 9 taps
        assert _conv._auto_conv_impl((5, 5, 1, 12), 1) == "im2col"  # 25 taps
        assert _conv._auto_conv_impl((3, 3, 4, 8), 1) == "im2col"  # few input channels
        assert _conv._auto_conv_impl((4, 4, 1, 16), 4) == "im2col"  # strided
        assert _conv._auto_conv_impl((5, 5, 12, 16), 1) == "cols"
        assert _conv._auto_conv_impl((3, 3, 32, 64), 1, (10, 10)) == "winograd"  # 3x3, many channels
        assert _conv._auto_conv_impl((3, 3, 48, 96), 1, (4, 4)) == "cols"  # too few tiles
        assert _conv._auto_conv_impl((3, 3, 32, 64), 2, (10, 10)) == "im2col"
        assert _pool._auto_pool_impl() == "slices"
    monkeypatch.setattr(_conv.jax, "default_backend", lambda: "gpu")
    assert _conv._auto_conv_impl((5, 5, 12, 16), 1) == "xla"
    assert _pool._auto_pool_impl() == "xla"


def test_xla_impl_supports_forward_mode():
    x = jnp.ones((1, 6, 6, 2))
    w = jnp.ones((3, 3, 2, 3))
    _, t = jax.jvp(lambda w: conv2d(x, w, impl="xla"), (w,), (w,))
    assert t.shape == (1, 4, 4, 3)


def test_rejects_unknown_layout_and_impl():
    x, w = jnp.ones((1, 6, 6, 2)), jnp.ones((3, 3, 2, 3))
    with pytest.raises(ValueError, match="layout"):
        conv2d(x, w, layout="HWCN")
    with pytest.raises(ValueError, match="impl"):
        conv2d(x, w, impl="fft")
    with pytest.raises(ValueError, match="3x3 kernel"):
        conv2d(x, jnp.ones((2, 2, 2, 3)), impl="winograd")
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(x, w, stride=2, impl="winograd")
    with pytest.raises(ValueError, match="impl"):
        max_pool(x, impl="cols")
    with pytest.raises(ValueError, match="layout"):
        avg_pool(x, layout="HWCN")
