"""mnistlab.scratch: study S9's network written three ways agrees with itself, with finite
differences, and with its own training; the sklearn baseline follows ``fit`` exactly."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from mnistlab import ConfigError, scratch
from mnistlab.models import initializers
from mnistlab.studies import load_data

# Every program here is compiled once and run on a few hundred images: skip XLA's optimisations.
pytestmark = pytest.mark.usefixtures("cheap_compiles")

SMALL = (12, 7, 5, 10)  # every coordinate can be finite-differenced


def rel(a, b) -> float:
    """Norm-wise relative difference: robust to the many near-zero entries of a gradient."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale else 0.0


def all_grads(params, x, y):
    """The gradient four ways: NumPy batched, NumPy per-example einsum, JAX by hand, jax.grad."""
    w = np.full(len(y), 1 / len(y))
    jp = jax.device_put(params)
    out = {
        "numpy": scratch.numpy_loss_and_grad(params, x, y)[1],
        "einsum": scratch.numpy_loss_and_grad(params, x, y, form="einsum")[1],
        # Jitted: one compilation each rather than one per primitive, op by op.
        "jax": jax.jit(scratch.jax_manual_loss_and_grad)(jp, x, y, w)[1],
        "jax-grad": jax.jit(scratch.jax_autograd_loss_and_grad)(jp, x, y, w)[1],
    }
    return {k: scratch.as_numpy(g) for k, g in out.items()}


def np_loss(params, x, y) -> float:
    logits = scratch.numpy_forward(params, x)
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def replace_entry(params, layer: int, field: str, index, value):
    arrays = [list(layer_) for layer_ in params]
    a = arrays[layer][("w", "b").index(field)].copy()
    a[index] = value
    arrays[layer][("w", "b").index(field)] = a
    return tuple(scratch.Layer(*pair) for pair in arrays)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """NumPy's BLAS on one thread: on a 2-core machine shared with XLA's threads and other jobs, its
    spinning worker threads make the small matrix products here several times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def sample():
    """The first images of the MNIST sample's training split, float32 in [0, 1], flattened."""
    d = load_data("mnist-sample", "float32", progress=False)
    return d.x_train, d.y_train


@pytest.fixture
def small_problem(x64):
    rng = np.random.default_rng(0)
    params = scratch.init_params(jax.random.key(1), SMALL, init_range=3.0, dtype="float64")
    # Non-zero biases, so their gradients flow through every layer in the check.
    params = tuple(scratch.Layer(p.w, rng.normal(0, 0.1, p.b.shape)) for p in params)
    x = rng.uniform(0, 1, (9, SMALL[0]))
    y = rng.integers(0, 10, 9).astype(np.int32)
    return params, x, y


# --- gradients -------------------------------------------------------------------------------


def test_gradients_agree_with_each_other_and_central_differences(small_problem):
    params, x, y = small_problem
    grads = all_grads(params, x, y)
    eps = 1e-6
    for li, layer in enumerate(params):
        for field in ("w", "b"):
            a = getattr(layer, field)
            fd = np.zeros_like(a)
            for index in np.ndindex(a.shape):
                up = np_loss(replace_entry(params, li, field, index, a[index] + eps), x, y)
                down = np_loss(replace_entry(params, li, field, index, a[index] - eps), x, y)
                fd[index] = (up - down) / (2 * eps)
            for name, g in grads.items():
                assert rel(getattr(g[li], field), fd) < 1e-6, (name, li, field)
                assert rel(getattr(g[li], field), getattr(grads["numpy"][li], field)) < 1e-12, (name, li)


def test_full_network_gradients_agree_on_a_real_batch(x64, sample):
    x, y = sample[0][:8].astype(np.float64), sample[1][:8]
    params = scratch.init_params(jax.random.key(0), dtype="float64")
    assert [p.w.shape for p in params] == [(784, 500), (500, 250), (250, 10)]
    grads = all_grads(params, x, y)
    for name, g in grads.items():
        for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(grads["numpy"]), strict=True):
            assert a.dtype == np.float64
            assert rel(a, b) < 1e-10, name
    # Directional central differences, all 520,260 coordinates at once, along unit directions that
    # mix the gradient with noise (a purely random direction is nearly orthogonal to it), and a
    # step small enough that no ReLU changes side.
    rng = np.random.default_rng(0)
    flat = np.concatenate([a.ravel() for a in jax.tree.leaves(grads["numpy"])])
    for _ in range(3):
        v = flat / np.linalg.norm(flat) + rng.normal(size=flat.size) / np.sqrt(flat.size)
        v /= np.linalg.norm(v)
        eps = 1e-6
        fd = (np_loss(shift(params, v, eps), x, y) - np_loss(shift(params, v, -eps), x, y)) / (2 * eps)
        for name, g in grads.items():
            exact = float(np.concatenate([a.ravel() for a in jax.tree.leaves(g)]) @ v)
            assert abs(exact - fd) <= 1e-6 * abs(exact), name


def shift(params, v, step):
    """``params + step * v`` with ``v`` flat, in the order of ``jax.tree.leaves``."""
    leaves, treedef = jax.tree.flatten(params)
    out, start = [], 0
    for a in leaves:
        out.append(a + step * v[start : start + a.size].reshape(a.shape))
        start += a.size
    return jax.tree.unflatten(treedef, out)


def test_check_grads_on_the_loss_and_on_the_hand_written_backward(small_problem):
    params, x, y = small_problem
    params = jax.device_put(params)
    w = jnp.full(len(y), 1 / len(y))
    check_grads(jax.jit(lambda p: scratch.jax_loss(p, x, y, w)), (params,), order=1, modes=("rev",))

    # The hand-written backward pass as the VJP of the loss: check_grads then tests it, not jax.grad.
    @jax.custom_vjp
    def manual_loss(p):
        return scratch.jax_manual_loss_and_grad(p, x, y, w)[0]

    def fwd(p):
        value, grads = scratch.jax_manual_loss_and_grad(p, x, y, w)
        return value, grads

    def bwd(grads, ct):
        return (jax.tree.map(lambda g: ct * g, grads),)

    manual_loss.defvjp(fwd, bwd)
    check_grads(jax.jit(manual_loss), (params,), order=1, modes=("rev",))


def test_weights_leave_out_padding_like_numpy_leaves_it_out(x64, small_problem):
    params, x, y = small_problem
    mask = np.array([True] * 6 + [False] * 3)
    w = mask / mask.sum()
    value, grads = scratch.jax_manual_loss_and_grad(jax.device_put(params), x, y, w)
    ref_value, ref = scratch.numpy_loss_and_grad(params, x[mask], y[mask])
    assert float(value) == pytest.approx(ref_value, rel=1e-12)
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(ref), strict=True):
        assert rel(a, b) < 1e-12


# --- training --------------------------------------------------------------------------------


def one_epoch_each(x, y, dtype):
    init_key, order_key = jax.random.split(jax.random.key(3))
    plan = scratch.batch_plan(order_key, len(y), 50, 1)
    assert plan.steps_per_epoch == 13
    assert plan.mask[0, -1].sum() == 20
    with scratch.precision(dtype):
        params = scratch.init_params(init_key, dtype=dtype)
        before = [a.copy() for a in jax.tree.leaves(params)]
        x = x.astype(dtype)
        trainers = (scratch.NumpyTrainer(), scratch.JaxTrainer("manual"), scratch.JaxTrainer("autograd"))
        results = [scratch.train(t, params, x, y, plan, [0.1]) for t in trainers]
    # The shared start is shared, not consumed: no implementation wrote into it.
    for a, b in zip(jax.tree.leaves(params), before, strict=True):
        np.testing.assert_array_equal(a, b)
    return params, plan, results


@pytest.mark.parametrize(("dtype", "tol"), [("float64", 1e-12), ("float32", 1e-5)])
def test_one_epoch_from_the_same_start_reaches_the_same_parameters(request, sample, dtype, tol):
    if dtype == "float64":
        request.getfixturevalue("x64")
    x, y = sample[0][:620], sample[1][:620]
    params, plan, results = one_epoch_each(x, y, dtype)
    reference = results[0]
    moved = max(
        float(np.abs(a - b).max())
        for a, b in zip(jax.tree.leaves(reference.params), jax.tree.leaves(params), strict=True)
    )
    assert moved > 1e-3  # training did something
    for r in results:
        assert r.status == "completed"
        for a, b in zip(jax.tree.leaves(r.params), jax.tree.leaves(reference.params), strict=True):
            assert a.dtype == np.dtype(dtype)
            assert np.abs(a - b).max() <= tol * np.abs(b).max(), r.name
        assert r.history[0]["train_accuracy"] == pytest.approx(
            reference.history[0]["train_accuracy"], abs=2e-3
        )
    if dtype == "float32":
        return
    # The per-example einsum form takes the same steps (three of them: it is slow by design).
    xx = x.astype(dtype)
    a, _ = scratch.numpy_sgd_epoch(params, xx, y, plan.idx[0], plan.mask[0], 0.1, form="einsum", steps=3)
    b, _ = scratch.numpy_sgd_epoch(params, xx, y, plan.idx[0], plan.mask[0], 0.1, steps=3)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert np.abs(u - v).max() <= tol * np.abs(v).max()


def test_annealing_multiplies_the_rate_after_each_epoch(sample):
    np.testing.assert_allclose(scratch.lr_schedule(0.1, 0.9, 3), [0.1, 0.09, 0.081])
    np.testing.assert_allclose(scratch.lr_schedule(0.2, 1.0, 2), [0.2, 0.2])
    x, y = sample[0][:300], sample[1][:300]
    key = jax.random.key(5)
    params = scratch.init_params(key)
    plan = scratch.batch_plan(key, len(y), 100, 2)
    lrs = scratch.lr_schedule(0.1, 0.5, 2)
    result = scratch.train(scratch.NumpyTrainer(), params, x, y, plan, lrs)
    assert [r["lr"] for r in result.history] == [0.1, 0.05]
    # By hand: epoch 0 at lr, epoch 1 at lr * anneal.
    p, _ = scratch.numpy_sgd_epoch(params, x, y, plan.idx[0], plan.mask[0], 0.1)
    p, _ = scratch.numpy_sgd_epoch(p, x, y, plan.idx[1], plan.mask[1], 0.05)
    for a, b in zip(jax.tree.leaves(result.params), jax.tree.leaves(p), strict=True):
        np.testing.assert_array_equal(a, b)
    for bad in ({"lr": 0.0, "anneal": 0.9}, {"lr": 0.1, "anneal": 1.5}, {"lr": 0.1, "anneal": 0.0}):
        with pytest.raises(ConfigError):
            scratch.lr_schedule(epochs=2, **bad)


def test_batch_plan_same_key_same_order_other_key_other_order():
    a = scratch.batch_plan(jax.random.key(0), 105, 10, 3)
    b = scratch.batch_plan(jax.random.key(0), 105, 10, 3)
    c = scratch.batch_plan(jax.random.key(1), 105, 10, 3)
    assert a.idx.shape == (3, 11, 10)
    assert (a.epochs, a.steps_per_epoch, a.batch_size) == (3, 11, 10)
    np.testing.assert_array_equal(a.idx, b.idx)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert not np.array_equal(a.idx, c.idx)
    assert not np.array_equal(a.idx[0], a.idx[1])  # a new order every epoch
    for e in range(3):
        np.testing.assert_array_equal(np.sort(a.idx[e][a.mask[e]]), np.arange(105))  # each example once
    assert a.mask[:, -1].sum(axis=1).tolist() == [5, 5, 5]
    assert a.mask[:, :-1].all()


def test_initial_parameters_are_s9s_and_drawn_from_the_key():
    key = jax.random.key(7)
    params = scratch.init_params(key)
    kernel_init, _ = initializers("s9", 1.0)
    shapes = [(784, 500), (500, 250), (250, 10)]

    # The project's s9 initialiser on the same per-layer keys (compiled cheaply: run once).
    def reference(key):
        return [kernel_init(k, s, jnp.float32) for k, s in zip(jax.random.split(key, 3), shapes, strict=True)]

    expected = scratch.run_once(reference, key)
    for p, w, (fan_in, fan_out) in zip(params, expected, shapes, strict=True):
        assert isinstance(p.w, np.ndarray)
        assert p.w.dtype == np.float32
        assert p.w.shape == (fan_in, fan_out)
        np.testing.assert_array_equal(p.w, np.asarray(w))
        np.testing.assert_array_equal(p.b, np.zeros(fan_out, np.float32))
        assert np.abs(p.w).max() <= 2.45 / np.sqrt(fan_in + fan_out)
    # Another key, other weights (the same key gives the same ones: the reference above).
    assert not np.array_equal(scratch.init_params(jax.random.key(8))[0].w, params[0].w)
    p64 = scratch.init_params(key, SMALL, dtype="float64")  # needs no global x64 switch
    assert p64[0].w.dtype == np.float64
    assert jnp.zeros(1).dtype == jnp.float32  # and leaves none behind
    with pytest.raises(ConfigError, match="dtype must be one of float32, float64"):
        scratch.init_params(key, dtype="float16")


# --- the sklearn baseline ----------------------------------------------------------------------


def test_sklearn_baseline_is_one_fit_and_returns_the_documented_fields(sample):
    from sklearn.exceptions import ConvergenceWarning

    x, y = sample[0][:400], sample[1][:400]
    xt, yt = sample[0][400:600], sample[1][400:600]
    trainer = scratch.SklearnTrainer()
    seen = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = trainer.train(x, y, epochs=2, evals={"test": (xt, yt)}, on_epoch=lambda *a: seen.append(a))
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]  # silenced...
    assert trainer.converged is False  # ...and recorded
    assert trainer.fit_seconds >= result.train_seconds > 0
    assert result.name == "sklearn"
    assert result.status == "completed"
    assert [name for name, _ in seen] == ["sklearn", "sklearn"]
    assert [r["epoch"] for r in result.history] == [1, 2]
    for record in result.history:
        for k in (
            "lr",
            "seconds",
            "eval_seconds",
            "mean_batch_loss",
            "train_accuracy",
            "train_cross_entropy",
        ):
            assert k in record
        assert 0 <= record["test_accuracy"] <= 1
        assert record["train_cross_entropy"] > 0
    assert result.compile_seconds == 0
    predicted = scratch.time_predict(trainer, result.state, xt, yt)
    assert set(predicted) == {"predict_compile_seconds", "predict_seconds", "test_accuracy"}
    assert predicted["test_accuracy"] == pytest.approx(result.history[-1]["test_accuracy"])

    # Exactly MLPClassifier(**S9).fit: same parameters, loss curve, and per-epoch copies.
    reference = scratch.make_classifier(max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(x, y)
    params = reference.get_params()
    assert params["batch_size"] == 200
    assert params["nesterovs_momentum"]
    assert params["hidden_layer_sizes"] == (500, 250)
    pairs = zip(result.params, zip(reference.coefs_, reference.intercepts_, strict=True), strict=True)
    for ours, (w, b) in pairs:
        np.testing.assert_array_equal(ours.w, w)
        np.testing.assert_array_equal(ours.b, b)
    assert reference.loss_curve_ == [r["mean_batch_loss"] for r in result.history]
    assert reference.score(x, y) == pytest.approx(result.history[-1]["train_accuracy"])
    one = scratch.make_classifier(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one.fit(x, y)
    assert one.score(x, y) == pytest.approx(result.history[0]["train_accuracy"])
