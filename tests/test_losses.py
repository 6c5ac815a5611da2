"""Per-example losses, penalties and accuracy helpers: values, gradients, stability, errors.

Speed on a shared CPU: compiling dominates these tests, and every primitive run eagerly is its
own XLA compile. So the functions are called through ``jax.jit`` (one program per shape, as the
training engine calls them), test-side arithmetic is NumPy, and inputs mostly share the shapes
(B, K) and (B,) so compiled programs are reused across tests.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jax.test_util import check_grads

from mnistlab import ConfigError
from mnistlab.train._losses import (
    LOSSES,
    binary_cross_entropy,
    correct,
    get_loss,
    l1_penalty,
    l2_penalty,
    softmax_cross_entropy,
    squared_error,
)

B, K = 4, 5
finite = st.floats(-30, 30, allow_nan=False, width=32)
logit_arrays = hnp.arrays(np.float32, (B, K), elements=finite)
label_arrays = hnp.arrays(np.int32, (B,), elements=st.integers(0, K - 1))
binary_labels = hnp.arrays(np.int32, (B,), elements=st.integers(0, 1))
z_arrays = hnp.arrays(np.float32, (B,), elements=finite)
SETTINGS = settings(max_examples=40, deadline=None)
F32_EPS = float(np.finfo(np.float32).eps)
_X64_AT_IMPORT = jax.config.read("jax_enable_x64")

ce = jax.jit(softmax_cross_entropy)
bce = jax.jit(binary_cross_entropy)
se = jax.jit(squared_error)
l2 = jax.jit(l2_penalty)
l1 = jax.jit(l1_penalty)
acc = jax.jit(correct, static_argnames="kind")


def one_hot(labels, k=K):
    return np.eye(k, dtype=np.float32)[np.asarray(labels)]


# Tiny programs compiled once and run a few times: skip most XLA optimisation.
pytestmark = pytest.mark.usefixtures("cheap_compiles")


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------------------ gradients (float64)


def _grad_cases():
    """``name -> (function, args)`` for every loss and penalty, in float64 (needs x64 on)."""
    rng = _rng(1)
    labels = jnp.asarray([0, 3, 4, 1])
    y = jnp.asarray([0, 1, 1, 0])
    # |x| has a kink at 0: keep the L1 points (and the finite-difference steps) well away from it.
    away_from_zero = rng.choice([-1.0, 1.0], size=(B, K)) * rng.uniform(0.5, 2.0, size=(B, K))
    params = {"w": away_from_zero, "b": [np.asarray([0.7, -1.3, 1.1, -0.9])]}
    return {
        "cross-entropy, int labels": (
            lambda lg: softmax_cross_entropy(lg, labels),
            (rng.normal(size=(B, K)),),
        ),
        # Differentiable in soft targets too (they enter linearly).
        "cross-entropy, probabilities": (
            softmax_cross_entropy,
            (rng.normal(size=(B, K)), rng.dirichlet(np.ones(K), size=B)),
        ),
        "binary cross-entropy": (lambda z: binary_cross_entropy(z, y), (3 * rng.normal(size=B),)),
        "squared error": (squared_error, (rng.normal(size=(B, K)), rng.normal(size=(B, K)))),
        "l2 penalty": (l2_penalty, (params,)),
        "l1 penalty": (l1_penalty, (params,)),
    }


def test_gradients_of_every_loss_and_penalty(x64):
    """``check_grads``: forward and reverse derivatives, to second order, against finite differences.

    Checked as ONE jitted function of all the inputs: check_grads compiles a program for f and
    for each derivative of it, so six separate checks would compile six times as much (seconds
    on the shared CPU). On a failure each case is re-checked alone to name the culprit.
    """
    cases = {
        name: (fn, jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), args))
        for name, (fn, args) in _grad_cases().items()
    }
    assert all(x.dtype == jnp.float64 for _, args in cases.values() for x in jax.tree.leaves(args))
    names = list(cases)

    @jax.jit
    def everything(*all_args):
        return {name: cases[name][0](*args) for name, args in zip(names, all_args, strict=True)}

    try:
        check_grads(everything, tuple(args for _, args in cases.values()), order=2, modes=("fwd", "rev"))
    except AssertionError:
        for name, (fn, args) in cases.items():
            try:
                check_grads(fn, args, order=2, modes=("fwd", "rev"))
            except AssertionError as exc:
                raise AssertionError(f"gradient check failed for {name}") from exc
        raise


def test_float64_values_and_penalty_gradients(x64):
    params = {"w": np.asarray([[0.5, -2.0], [3.0, -0.25]]), "b": np.asarray([1.5, -1.0])}

    @jax.jit
    def values_and_grads(params, z, y):
        return (
            jax.value_and_grad(l2_penalty)(params),
            jax.value_and_grad(l1_penalty)(params),
            binary_cross_entropy(z, y),
        )

    # The binary form equals -y log s - (1 - y) log(1 - s), s = sigmoid(z), to float64 precision.
    z = np.linspace(-8, 8, 8)
    y = np.asarray([0, 1] * 4)
    s = 1 / (1 + np.exp(-z))
    (v2, g2), (v1, g1), binary = values_and_grads(params, z, y)
    assert v2.dtype == v1.dtype == binary.dtype == jnp.float64
    np.testing.assert_array_equal(g2["w"], 2 * params["w"])
    np.testing.assert_array_equal(g1["b"], [1.0, -1.0])
    np.testing.assert_allclose(binary, -y * np.log(s) - (1 - y) * np.log(1 - s), rtol=1e-12)


def test_x64_fixture_restored():
    # Runs after the float64 tests in file order: the fixture must have put the setting back.
    assert jax.config.read("jax_enable_x64") == _X64_AT_IMPORT


# ------------------------------------------------------------------------------ values


class TestCrossEntropy:
    @pytest.mark.parametrize("k", [2, K])
    def test_uniform_logits_give_log_k(self, k):
        loss = ce(np.zeros((B, k), np.float32), np.asarray([0, 1, k - 1, 1]))
        assert loss.shape == (B,)
        np.testing.assert_allclose(loss, math.log(k), rtol=1e-6)

    def test_hand_computed_and_soft_targets(self):
        logits = np.zeros((B, K), np.float32)
        logits[0, :3] = [1.0, 2.0, 3.0]
        logits[1, :2] = [0.0, math.log(3.0)]
        targets = one_hot([0, 0, 2, 3])
        targets[1, :3] = [0.5, 0.5, 0.0]
        row0 = -(1.0 - math.log(math.exp(1) + math.exp(2) + math.exp(3) + 2))
        # softmax(row 1) = (1, 3, 1, 1, 1) / 7
        row1 = -(0.5 * math.log(1 / 7) + 0.5 * math.log(3 / 7))
        np.testing.assert_allclose(ce(logits, targets), [row0, row1, math.log(K), math.log(K)], rtol=1e-6)

    def test_int_labels_equal_one_hot(self):
        logits = _rng(6).normal(size=(B, K)).astype(np.float32)
        labels = np.asarray([0, 4, 2, 2])
        # The same formula, but two separately compiled programs: XLA may vectorise the
        # log-softmax differently, so allow a few float32 ulps (rtol 1e-7 was below one ulp).
        np.testing.assert_allclose(ce(logits, labels), ce(logits, one_hot(labels)), rtol=4 * F32_EPS)
        # Eagerly too, as a user calling it outside jit would.
        np.testing.assert_allclose(softmax_cross_entropy(logits, labels), ce(logits, labels), rtol=1e-6)

    def test_huge_logits_stay_finite(self):
        logits = np.zeros((B, K), np.float32)
        logits[0, :2] = [1e4, -1e4]
        logits[1, 1:3] = [1e4, 1e4]
        logits[2:, 4] = -1e4
        labels = np.asarray([1, 0, 0, 4])
        loss = ce(logits, labels)
        np.testing.assert_allclose(
            loss, [2e4, 1e4 + math.log(2), math.log(K - 1), 1e4 + math.log(K - 1)], rtol=1e-6
        )
        np.testing.assert_allclose(ce(logits, one_hot(labels)), loss, rtol=1e-6)
        grad = jax.jit(jax.grad(lambda lg: softmax_cross_entropy(lg, labels).sum()))(logits)
        assert np.isfinite(np.asarray(grad)).all()
        # d/dlogits = softmax - onehot: each row sums to 0, and row 0's true class gets -1.
        np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-6)
        np.testing.assert_allclose(grad[0], [1, -1, 0, 0, 0], atol=1e-6)

    def test_out_of_range_label_is_nan_not_a_silent_class(self):
        loss = np.asarray(ce(np.zeros((B, K), np.float32), np.asarray([1, K, -7, 0])))
        assert np.isfinite(loss[[0, 3]]).all()
        assert np.isnan(loss[[1, 2]]).all()

    def test_float_labels_refused(self):
        with pytest.raises(ConfigError, match=r"integer labels; got float32"):
            softmax_cross_entropy(np.zeros((B, K)), np.zeros(B, np.float32))

    def test_shape_mismatch_refused(self):
        with pytest.raises(
            ConfigError, match=r"labels of shape \(4,\) or rows of shape \(4, 5\).*got shape \(4, 3\)"
        ):
            ce(np.zeros((B, K), np.float32), np.zeros((B, 3), np.float32))

    @SETTINGS
    @given(logit_arrays, label_arrays, st.floats(-100, 100, width=32))
    def test_properties(self, logits, labels, shift):
        loss = np.asarray(ce(logits, labels))
        assert loss.shape == (B,)
        assert (loss >= 0).all()
        # Softmax ignores a constant added to every logit.
        np.testing.assert_allclose(ce(logits + np.float32(shift), labels), loss, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ce(logits, one_hot(labels)), loss, rtol=1e-6, atol=1e-6)
        # Against a float64 NumPy log-sum-exp.
        x = logits.astype(np.float64)
        ref = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1) - x[np.arange(B), labels]
        np.testing.assert_allclose(loss, ref, rtol=1e-5, atol=1e-5)


class TestBinaryCrossEntropy:
    def test_zero_logit_gives_log_2(self):
        np.testing.assert_allclose(
            bce(np.zeros(B, np.float32), np.asarray([0, 1, 1, 0])), [math.log(2)] * B, rtol=1e-6
        )

    def test_is_the_logaddexp_form(self):
        z = np.asarray([-2.0, 0.5, 3.0, -0.1], np.float32)
        y = np.asarray([1, 0, 1, 0])
        form = jax.jit(lambda z, y: jnp.logaddexp(0, -z * (2 * y.astype(z.dtype) - 1)))
        np.testing.assert_array_equal(bce(z, y), form(z, y))

    def test_label_dtypes(self):
        z = np.asarray([-1.0, 2.0, 0.5, -3.0], np.float32)
        expected = bce(z, np.asarray([0, 1, 1, 0]))
        for y in ([False, True, True, False], [0.0, 1.0, 1.0, 0.0], np.asarray([0, 1, 1, 0], np.uint8)):
            np.testing.assert_array_equal(bce(z, np.asarray(y)), expected)

    def test_huge_logits_stay_finite(self):
        z = np.asarray([1e4, -1e4, 1e4, -1e4], np.float32)
        y = np.asarray([1, 1, 0, 0])
        np.testing.assert_allclose(bce(z, y), [0.0, 1e4, 1e4, 0.0], rtol=1e-6)
        grad = jax.jit(jax.grad(lambda z: binary_cross_entropy(z, y).sum()))(z)
        # d/dz = sigmoid(z) - y, exactly 0 or +-1 here.
        np.testing.assert_allclose(grad, [0.0, -1.0, 1.0, 0.0], atol=1e-6)

    def test_shape_mismatch_refused(self):
        with pytest.raises(ConfigError, match=r"same shape; got \(4, 1\) and \(4,\)"):
            bce(np.zeros((B, 1), np.float32), np.zeros(B, np.float32))

    @SETTINGS
    @given(z_arrays, binary_labels)
    def test_properties(self, z, y):
        loss = np.asarray(bce(z, y))
        assert loss.shape == (B,)
        assert (loss >= 0).all()
        # Flipping both the logit and the label changes nothing.
        np.testing.assert_allclose(bce(-z, 1 - y), loss, rtol=1e-6)
        # Two-class softmax cross-entropy with logits (0, z) is the same loss.
        two_class = np.stack([np.zeros_like(z), z], axis=1)
        np.testing.assert_allclose(ce(two_class, y), loss, rtol=1e-5, atol=1e-6)


class TestSquaredError:
    def test_hand_computed(self):
        out = np.zeros((B, K), np.float32)
        target = np.zeros((B, K), np.float32)
        out[0, :2] = [1.0, 2.0]
        target[1, :2] = [3.0, -1.0]
        out[2] = target[2] = 7.0
        np.testing.assert_allclose(se(out, target), [0.5 * 5, 0.5 * 10, 0.0, 0.0])

    def test_sums_every_non_batch_axis(self):
        out = np.ones((B, 2, 3), np.float32)
        np.testing.assert_allclose(se(out, np.zeros_like(out)), [3.0] * B)
        np.testing.assert_allclose(se(np.asarray([1.0, 3.0, 0, 0]), np.zeros(B)), [0.5, 4.5, 0, 0])

    def test_shape_mismatch_refused(self):
        with pytest.raises(ConfigError, match=r"same shape; got \(4, 5\) and \(4, 3\)"):
            se(np.zeros((B, K)), np.zeros((B, 3)))
        with pytest.raises(ConfigError, match="leading batch axis"):
            squared_error(np.float32(1.0), np.float32(2.0))

    @SETTINGS
    @given(logit_arrays, logit_arrays)
    def test_properties(self, a, b):
        loss = np.asarray(se(a, b))
        assert loss.shape == (B,)
        assert (loss >= 0).all()
        np.testing.assert_allclose(se(b, a), loss, rtol=1e-6)
        np.testing.assert_array_equal(se(a, a), np.zeros(B))


class TestPenalties:
    def test_values(self):
        params = {"w": np.asarray([[1.0, -2.0]]), "layers": [np.asarray([3.0]), (np.asarray(-0.5),)]}
        np.testing.assert_allclose(l2(params), 1 + 4 + 9 + 0.25)
        np.testing.assert_allclose(l1(params), 1 + 2 + 3 + 0.5)

    def test_empty_tree_is_zero(self):
        assert float(l2_penalty({})) == 0.0
        assert float(l1_penalty([])) == 0.0

    def test_s8_convention(self):
        # S8's 0.5 * lambda * ||theta||^2 is l2_penalty with coefficient lambda / 2.
        theta = {"w": np.asarray([0.3, -1.2, 2.0, 0.0], np.float32)}
        lam = 0.01
        np.testing.assert_allclose((lam / 2) * l2(theta), 0.5 * lam * np.sum(theta["w"] ** 2), rtol=1e-6)

    @SETTINGS
    @given(logit_arrays, st.floats(-4, 4, width=32))
    def test_homogeneity(self, w, c):
        c = np.float32(c)
        np.testing.assert_allclose(l2({"w": c * w}), c * c * l2({"w": w}), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(l1({"w": c * w}), abs(c) * l1({"w": w}), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------ registry, accuracy


def test_registry():
    assert set(LOSSES) == {"cross-entropy", "binary-cross-entropy", "squared-error"}
    assert get_loss("cross-entropy") is softmax_cross_entropy
    assert get_loss("binary-cross-entropy") is binary_cross_entropy
    assert get_loss("squared-error") is squared_error


@pytest.mark.parametrize("name", ["mse", "Cross-Entropy", "", None])
def test_unknown_loss(name):
    with pytest.raises(
        ConfigError, match=r"unknown loss \(--loss\).*cross-entropy, binary-cross-entropy, squared-error"
    ):
        get_loss(name)


class TestCorrect:
    def test_classifier(self):
        logits = np.zeros((B, K), np.float32)
        logits[0, 1] = logits[1, 0] = logits[2, 4] = logits[3, 3] = 1.0
        labels = np.asarray([1, 1, 4, 2])
        got = acc(logits, labels, kind="classifier")
        assert got.shape == (B,)
        np.testing.assert_array_equal(got, [True, False, True, False])
        np.testing.assert_array_equal(acc(logits, one_hot(labels), kind="classifier"), got)

    def test_binary_threshold_is_sigmoid_half(self):
        z = np.asarray([-3.0, -1e-3, 0.0, 1e-3], np.float32)
        predicted = 1 / (1 + np.exp(-z)) > 0.5
        for y in ([0, 0, 0, 0], [1, 1, 1, 1], [0.0, 1.0, 0.0, 1.0], [False, True, True, True]):
            y = np.asarray(y)
            np.testing.assert_array_equal(acc(z, y, kind="binary"), predicted == (y == 1))

    def test_masked_mean_is_an_accuracy(self):
        logits = np.eye(K, dtype=np.float32)[:B]
        mask = np.asarray([True, True, True, False])  # the last row is batch padding
        ok = np.asarray(acc(logits, np.asarray([0, 1, 0, 0]), kind="classifier"))
        assert (ok * mask).sum() / mask.sum() == pytest.approx(2 / 3)

    def test_errors(self):
        with pytest.raises(ConfigError, match=r"kinds classifier, binary; got kind 'autoencoder'"):
            correct(np.zeros((B, K)), np.zeros((B, K)), "autoencoder")
        with pytest.raises(ConfigError, match=r"labels of shape \(4,\) or \(4, 5\); got \(5,\)"):
            correct(np.zeros((B, K)), np.zeros(K, np.int32), "classifier")
        with pytest.raises(ConfigError, match=r"same shape; got \(4, 1\) and \(4,\)"):
            correct(np.zeros((B, 1)), np.zeros(B), "binary")
