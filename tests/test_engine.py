"""The training engine at the library level: learning, determinism, compilation, batching, divergence,
precision, checkpoints and configs, on small subsets of the offline MNIST sample."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import cheap_compilation
from mnistlab import data
from mnistlab._compute import precision
from mnistlab._errors import ConfigError, DataError
from mnistlab.models import as_model
from mnistlab.train import (
    Engine,
    TrainConfig,
    TrainState,
    build_model_for,
    fit,
    from_dict,
    load_checkpoint,
    load_toml,
    resolve,
    save_checkpoint,
    to_toml,
)
from mnistlab.train import train as train_run

# Engines with the same program (the same config twice, another seed) share its compilation.
pytestmark = pytest.mark.usefixtures("compilation_cache")

N_TRAIN = 1000
# The base of most runs here: a small MLP that learns the 1,000-image subset in three epochs.
BASE = dict(dataset="mnist-sample", model="mlp", widths=(32,), optimizer="adam", lr=3e-3, epochs=3)
DIVERGED_RE = r"diverged at epoch \d+, step \d+: loss is (nan|inf|-inf); try a smaller learning rate"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(train subset of 1,000, validation subset of 500, the 1,000 test images) of the MNIST sample."""
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse conftest fixture is not active yet
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        train = data.load("mnist-sample", "train")
        test = data.load("mnist-sample", "test")
    return train.subset(np.arange(N_TRAIN)), train.subset(np.arange(N_TRAIN, N_TRAIN + 500)), test


def make_engine(*, custom=None, n_train: int = N_TRAIN, **overrides) -> Engine:
    """An Engine for BASE with ``overrides``; ``custom`` replaces the named model by a user's model."""
    config = resolve(TrainConfig(**{**BASE, **overrides}))
    model = custom if custom is not None else build_model_for(config, 10, (28, 28))
    return Engine(model, config, n_train=n_train, image_shape=(28, 28), num_classes=10)


def run_fit(sample, *, evals=("validation", "test"), **overrides):
    """``fit`` of BASE with ``overrides`` on the 1,000-image subset, scored on the sets named in ``evals``."""
    train, val, test = sample
    engine = make_engine(**overrides)
    result = fit(
        engine, train, evals={k: v for k, v in {"validation": val, "test": test}.items() if k in evals}
    )
    return engine, result


def template(engine: Engine) -> TrainState:
    """Zeros shaped like ``engine.init()``, without running the (eager, slow) initialisation."""
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), jax.eval_shape(engine.init))


def leaves(tree) -> list[np.ndarray]:
    return [np.asarray(a) for a in jax.tree.leaves(tree)]


def assert_trees_equal(a, b) -> None:
    la, lb = leaves(a), leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        assert x.dtype == y.dtype
        assert np.array_equal(x, y)


def seed_slice(tree, i: int):
    return jax.tree.map(lambda a: np.asarray(a)[i], tree)


def column(result, key: str) -> list:
    return [record[key] for record in result.history.epochs]


@pytest.fixture(scope="module")
def mlp_run(sample):
    """The reference run: seed 0, 3 epochs, scored on validation (500), test (1,000) and train (1,000)."""
    return run_fit(sample, eval_train=True)


@pytest.fixture(scope="module")
def seed_run(sample):
    """Single-seed runs of the reference config by seed (seed 0 is the reference run itself)."""
    runs = {}

    def get(seed: int):
        if seed not in runs:
            runs[seed] = run_fit(sample, eval_train=True, seeds=(seed,))
        return runs[seed]

    return get


# --- learning ------------------------------------------------------------------------------------


def test_loss_decreases_and_the_model_learns(mlp_run):
    _, result = mlp_run
    assert result.status == "completed"
    assert result.message == ""
    assert result.epochs_done == 3
    losses = [r[0] for r in column(result, "train_loss")]
    assert losses[-1] < losses[0]
    assert all(math.isfinite(v) for v in losses)
    test_acc = column(result, "test_accuracy")[-1][0]
    assert test_acc > 0.70, test_acc
    # One record per epoch, numbered from 1, counting steps; per-step losses for every step.
    assert column(result, "epoch") == [1, 2, 3]
    assert column(result, "step") == [8, 16, 24]
    assert [a.shape for a in result.history.step_loss] == [(1, 8)] * 3


def test_same_config_and_seed_give_bit_identical_parameters(mlp_run, sample):
    _, first = mlp_run
    _, again = run_fit(sample, eval_train=True)  # a new Engine, compiled again
    assert_trees_equal(first.state.params, again.state.params)
    assert_trees_equal(first.state.opt_state, again.state.opt_state)
    for a, b in zip(first.history.step_loss, again.history.step_loss, strict=True):
        assert np.array_equal(a, b)
    assert column(first, "test_accuracy") == column(again, "test_accuracy")


def test_a_different_seed_gives_different_parameters(mlp_run, seed_run):
    _, first = mlp_run
    _, other = seed_run(1)
    pairs = zip(leaves(first.state.params), leaves(other.state.params), strict=True)
    assert not any(np.array_equal(a, b) for a, b in pairs)  # different init AND different shuffles
    assert column(first, "train_loss") != column(other, "train_loss")


@pytest.fixture(scope="module")
def float64_seed_runs(sample):
    """The reference config in float64, evaluated on test and train: seeds 0, 1, 2 in one program,
    and each seed alone (compiled cheaply: four short runs of programs compiled once each)."""
    common = dict(evals=("test",), eval_train=True, dtype="float64")
    with precision("float64"), cheap_compilation():
        multi = run_fit(sample, seeds=(0, 1, 2), **common)[1]
        singles = [run_fit(sample, seeds=(seed,), **common)[1] for seed in (0, 1, 2)]
    return multi, singles


# Vmapped and single-seed programs block their matmuls differently, so they round differently, and
# three epochs of Adam amplify that: in float32 a parameter differed by 8e-5 relative on a loaded CI
# machine (6e-5 relative, 9e-7 absolute measured here), past any tolerance one could justify. In
# float64 the largest difference measured, with XLA's optimisations on or off, is 1.7e-15 absolute
# (parameters are ~1e-3 to 1) and the epoch losses differ by <= 2.2e-16: these bounds leave a margin
# of about 1,000 for other machines, while a real mix-up (another seed's data, key or state)
# differs by 1e-2 or more.
SEED_RTOL, SEED_ATOL = 1e-9, 1e-12


def test_seeds_in_one_program_equal_separate_single_seed_runs(float64_seed_runs):
    multi, singles = float64_seed_runs
    for i, single in enumerate(singles):
        for a, b in zip(
            leaves(seed_slice(multi.state.params, i)), leaves(seed_slice(single.state.params, 0)), strict=True
        ):
            assert a.dtype == b.dtype == np.float64
            worst = float(np.max(np.abs(a - b) / (np.abs(b) + SEED_ATOL / SEED_RTOL)))
            np.testing.assert_allclose(a, b, rtol=SEED_RTOL, atol=SEED_ATOL, err_msg=f"worst {worst:.1e}")
        for key in ("test_accuracy", "train_eval_accuracy"):
            per_seed = column(multi, key)[-1][i]
            alone = column(single, key)[-1][0]
            assert abs(per_seed - alone) <= 1 / 1000 + 1e-12, (key, i, per_seed, alone)  # one example
        np.testing.assert_allclose(
            [r[i] for r in column(multi, "train_loss")],
            [r[0] for r in column(single, "train_loss")],
            rtol=SEED_RTOL,
        )
    assert multi.history.step_loss[0].shape == (3, 8)


# --- compilation ---------------------------------------------------------------------------------


def test_one_trace_per_program_and_no_retrace(mlp_run, sample):
    engine, result = mlp_run
    train, val, test = sample
    # The epoch program, and one evaluation program per set size: validation (500); test and the
    # training set scored by eval_train (both 1,000) share one.
    assert engine.traces == 1 + 2
    images, labels = jnp.asarray(train.images), jnp.asarray(train.labels)
    state, totals, _, _ = engine.run_epoch(result.state, 3, images, labels)
    assert np.isfinite(np.asarray(totals)).all()
    assert np.asarray(totals).shape == (1, 8)
    engine.evaluate(state.params, jnp.asarray(val.images), jnp.asarray(val.labels))
    engine.evaluate(state.params, jnp.asarray(test.images), jnp.asarray(test.labels))
    assert engine.traces == 3
    assert isinstance(state, TrainState)


# --- batching ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def partial_batch_runs(sample):
    """Softmax regression, 1,000 examples in batches of 300: the last batch kept (100) or dropped."""
    common = dict(model="softmax", widths=None, optimizer="sgd", lr=0.1, epochs=1, batch_size=300)
    with cheap_compilation():  # two one-epoch runs: compiling dominates
        kept = run_fit(sample, evals=(), **common)
        dropped = run_fit(sample, evals=(), drop_last=True, **common)
    return kept, dropped


def test_last_partial_batch_is_kept_and_counted_once(partial_batch_runs):
    engine, result = partial_batch_runs[0]
    assert engine.steps_per_epoch == 4
    steps = result.history.step_loss[0]
    assert steps.shape == (1, 4)
    record = result.history.epochs[0]
    correct = record["train_accuracy"][0] * N_TRAIN
    assert abs(correct - round(correct)) < 1e-6
    # Each step's loss is its batch mean; the epoch's loss weighs them by 300, 300, 300 and 100.
    expected = (300 * steps[0, :3].sum() + 100 * steps[0, 3]) / N_TRAIN
    assert record["train_loss"][0] == pytest.approx(float(expected), rel=1e-5)


def test_drop_last_drops_the_partial_batch(partial_batch_runs):
    engine, result = partial_batch_runs[1]
    assert engine.steps_per_epoch == 3
    assert result.history.step_loss[0].shape == (1, 3)
    assert result.history.epochs[0]["step"] == 3


def test_drop_last_averages_over_the_examples_seen(partial_batch_runs):
    _, result = partial_batch_runs[1]
    steps = result.history.step_loss[0]  # three full batches of 300: the epoch mean is their mean
    record = result.history.epochs[0]
    assert record["train_loss"][0] == pytest.approx(float(steps.mean()), rel=1e-5)
    correct = record["train_accuracy"][0] * 900
    assert abs(correct - round(correct)) < 1e-6


def _as_float64(params):
    return jax.tree.map(lambda a: np.asarray(a, np.float64), params)


# The engine's evaluation (chunks of 300, inside a scan) and the NumPy references below multiply
# matrices of other shapes, so they round differently: in float32 a near-tie of two logits could
# flip an argmax and the loss agree only to ~1e-6. In float64 (the trained float32 parameters,
# widened) both agree to ~1e-15, far inside the tolerances, and an argmax flips only on a tie
# closer than that.


def test_evaluate_covers_every_example(mlp_run, sample):
    _, result = mlp_run
    train, _, test = sample
    images = np.concatenate([test.images, train.images[:1]])  # 1,001: batches of 300 leave 101
    labels = np.concatenate([test.labels, train.labels[:1]])
    with precision("float64"):
        engine = make_engine(eval_batch_size=300, dtype="float64")
        params = _as_float64(result.state.params)
        loss, acc = engine.evaluate(params, jnp.asarray(images), jnp.asarray(labels))
        logits = np.asarray(engine.model.apply(seed_slice(params, 0), images.reshape(-1, 784) / 255.0))
    assert loss.shape == acc.shape == (1,)
    assert logits.dtype == np.float64
    logz = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    ref_loss = np.mean(logz - logits[np.arange(len(labels)), labels])
    ref_acc = np.mean(logits.argmax(1) == labels)
    assert loss[0] == pytest.approx(ref_loss, rel=1e-12)
    assert acc[0] == pytest.approx(ref_acc, abs=1e-12)


def test_evaluate_sets_of_two_sizes_with_the_same_number_of_batches(mlp_run, sample):
    _, result = mlp_run
    train, _, test = sample
    images = np.concatenate([test.images, train.images[:1]])
    labels = np.concatenate([test.labels, train.labels[:1]])
    with precision("float64"):
        engine = make_engine(eval_batch_size=300, dtype="float64")
        params = _as_float64(result.state.params)
        _, acc_1001 = engine.evaluate(params, jnp.asarray(images), jnp.asarray(labels))
        _, acc_1000 = engine.evaluate(params, jnp.asarray(images[:1000]), jnp.asarray(labels[:1000]))
        logits = engine.model.apply(seed_slice(params, 0), images[1000:].reshape(1, 784) / 255.0)
    last_right = int(np.asarray(logits).argmax() == labels[1000])
    # Both sets are four chunks of 300: the first 1,000 rows are scored by the same arithmetic.
    assert acc_1001[0] * 1001 == pytest.approx(acc_1000[0] * 1000 + last_right, abs=1e-9)


# --- divergence ----------------------------------------------------------------------------------

LIMIT = 4.0  # the user model's outputs are NaN once sum(W**2) exceeds it


def _fragile_model():
    """Softmax regression whose outputs turn NaN once the weights grow past LIMIT.

    The added term is the same for every class, so it changes neither the cross-entropy nor its
    gradient while finite: training proceeds exactly as plain softmax regression until it is NaN.
    """

    def init(key, input_shape):
        return {"w": jnp.zeros((input_shape[-1], 10)), "b": jnp.zeros(10)}

    def apply(params, x):
        return x @ params["w"] + params["b"] + jnp.log(LIMIT - jnp.sum(params["w"] ** 2))

    return as_model((init, apply), name="fragile")


FRAGILE_RUN = dict(model="softmax", widths=None, optimizer="sgd", lr=0.5, batch_size=250, epochs=3)


def test_divergence_stops_with_the_last_finite_state(sample):
    train, _, _ = sample
    engine = make_engine(custom=_fragile_model(), **FRAGILE_RUN)
    saved = {}
    result = fit(engine, train, on_epoch=lambda epoch, state, history: saved.setdefault(epoch, state))

    assert result.status == "diverged"
    m = re.search(DIVERGED_RE, result.message)
    assert m, result.message
    epoch, step = map(int, re.search(r"epoch (\d+), step (\d+)", result.message).groups())
    assert epoch == 2  # sum(W**2) is about 2.6 after epoch 1 and about 5.8 after epoch 2
    # It really is non-finite there, and nowhere before.
    steps = result.history.step_loss
    assert np.isfinite(steps[0]).all()
    assert not np.isfinite(steps[1][0, step - 1])
    assert np.isfinite(steps[1][0, : step - 1]).all()
    # The history keeps the epoch before; the diverged epoch is recorded and marked.
    assert [r.get("diverged", False) for r in result.history.epochs] == [False, True]
    assert math.isfinite(result.history.epochs[0]["train_loss"][0])
    assert result.epochs_done == 1
    assert list(saved) == [1]  # on_epoch (checkpointing) never saw the diverged state
    # The returned state is the last finite one: the state after epoch 1.
    assert all(np.isfinite(a).all() for a in leaves(result.state))
    assert_trees_equal(result.state.params, saved[1].params)
    assert float(np.sum(np.asarray(result.state.params["w"]) ** 2)) < LIMIT


def test_divergence_through_train_writes_a_diverged_run(tmp_path):
    config = TrainConfig(dataset="mnist-sample", model="softmax", optimizer="sgd", lr=1e38, epochs=2)
    with cheap_compilation():
        result = train_run(config, out=tmp_path / "run", quiet=True)
    assert result.status == "diverged"
    assert re.search(DIVERGED_RE, result.message), result.message
    assert np.isnan(result.history.step_loss[-1]).any() or np.isinf(result.history.step_loss[-1]).any()
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "diverged"
    assert info["message"] == result.message
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["diverged"] is True
    assert all(np.isfinite(a).all() for a in leaves(result.state.params))
    with np.load(tmp_path / "run" / "params.npz") as z:
        assert all(np.isfinite(z[k]).all() for k in z.files if k != "__meta__")


# --- precision -----------------------------------------------------------------------------------


def test_float64_keeps_float64_parameters_and_agrees_with_float32(mlp_run, float64_seed_runs):
    _, f32 = mlp_run
    f64 = float64_seed_runs[1][0]  # seed 0 alone, trained inside precision("float64")
    assert all(a.dtype == np.float64 for a in leaves(f64.state.params))
    np.testing.assert_allclose(
        [r[0] for r in column(f64, "train_loss")], [r[0] for r in column(f32, "train_loss")], atol=1e-3
    )
    # The float64 mode ends with its context.
    assert jnp.zeros(1).dtype == jnp.float32
    assert jnp.arange(3).dtype == jnp.int32


def test_bfloat16_computes_in_bfloat16_but_keeps_float32_parameters(mlp_run, sample):
    _, f32 = mlp_run
    _, result = run_fit(sample, evals=(), dtype="bfloat16")
    assert all(a.dtype == np.float32 for a in leaves(result.state.params))
    losses = [r[0] for r in column(result, "train_loss")]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0] - 0.5
    # Rounded differently from the float32 run of the same config, but training the same way.
    reference = [r[0] for r in column(f32, "train_loss")]
    assert losses != reference
    np.testing.assert_allclose(losses, reference, atol=0.05)


# --- checkpoints ---------------------------------------------------------------------------------


def test_checkpoint_round_trip_is_bit_exact(mlp_run, tmp_path):
    engine, result = mlp_run
    path = tmp_path / "ck.npz"
    save_checkpoint(path, result.state, {"epoch": 3, "note": "x"})
    state, meta = load_checkpoint(path, engine.init())
    assert isinstance(state, TrainState)
    assert meta["epoch"] == 3
    assert meta["note"] == "x"
    assert_trees_equal(state, result.state)  # params, Adam's moments and counts, shuffle keys


@pytest.mark.parametrize(
    ("other", "leaf"),
    [
        (dict(model="softmax", widths=None), ".params['params']['out']['kernel']"),
        (dict(widths=(32, 16)), ".params['params']['hidden_1']"),
        (dict(optimizer="sgd"), ".opt_state[0].mu['params']"),
    ],
)
def test_checkpoint_of_another_model_is_refused_naming_the_leaf(mlp_run, tmp_path, other, leaf):
    _, result = mlp_run
    path = tmp_path / "ck.npz"
    save_checkpoint(path, result.state, {"epoch": 3})
    with pytest.raises(DataError, match=re.escape(leaf)):
        load_checkpoint(path, template(make_engine(**other)))


@pytest.fixture(scope="module")
def checkpoint_bytes(mlp_run, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ck") / "ck.npz"
    save_checkpoint(path, mlp_run[1].state, {"epoch": 3})
    return path.read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0, 1, exclude_max=True))
def test_truncated_checkpoint_is_a_data_error(mlp_run, checkpoint_bytes, cut):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "ck.npz"
        path.write_bytes(checkpoint_bytes[: int(cut * len(checkpoint_bytes))])
        with pytest.raises(DataError, match=r"ck\.npz"):
            load_checkpoint(path, mlp_run[1].state)


def test_missing_checkpoint_is_a_data_error(mlp_run, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz", mlp_run[1].state)


# --- configs -------------------------------------------------------------------------------------

EVERY_FIELD = TrainConfig(
    dataset="fashion-mnist",
    classes=(7, 1),
    val_fraction=0.1,
    preprocess="global",
    corrupt=5,
    data_seed=3,
    model="binary-mlp",
    widths=(16, 8),
    activation="tanh",
    layers="conv8k3,pool2,dense16",
    init="normal",
    init_scale=0.05,
    loss="squared-error",
    l1=1e-6,
    l2=1e-4,
    optimizer="momentum",
    lr=0.05,
    momentum=0.95,
    weight_decay=1e-5,
    clip_norm=1.0,
    schedule="step",
    lr_factor=0.5,
    step_epochs=2,
    warmup_epochs=1.5,
    final_lr=1e-5,
    epochs=4,
    steps=400,  # 4 epochs of 100 steps: consistent with epochs=4, as a resolved config is
    eval_every=100,
    batch_size=64,
    drop_last=True,
    seeds=(3, 1, 2**32 - 1),
    dtype="float64",
    devices="all",
    mesh="3x1",
    eval_train=True,
    eval_batch_size=500,
)


def test_every_field_is_set_in_the_round_trip_config():
    defaults = TrainConfig()
    assert all(getattr(EVERY_FIELD, k) != getattr(defaults, k) for k in defaults.as_dict())


@pytest.mark.parametrize("config", [EVERY_FIELD, TrainConfig(), resolve(TrainConfig(model="mlp"))])
def test_toml_round_trip(tmp_path, config):
    path = tmp_path / "config.toml"
    path.write_text(to_toml(config, header="a header\non two lines"))
    assert load_toml(path) == config


def test_toml_round_trip_of_a_string_with_a_newline(tmp_path):
    config = TrainConfig(model="cnn", layers="conv8k3,\ndense16")
    path = tmp_path / "config.toml"
    path.write_text(to_toml(config))
    assert load_toml(path) == config


def test_unknown_key_lists_the_valid_options(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(to_toml(TrainConfig()) + "learning_rate = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown option.*learning_rate") as info:
        load_toml(path)
    message = str(info.value)
    assert str(path) in message
    assert "valid options are" in message
    for name in TrainConfig().as_dict():
        assert name in message
    with pytest.raises(ConfigError, match=r"learning_rate.*valid options are"):
        from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize(
    ("change", "param"),
    [
        (dict(lr=-0.1), "lr"),
        (dict(lr=0.0), "lr"),
        (dict(lr=float("nan")), "lr"),
        (dict(epochs=0), "epochs"),
        (dict(epochs=1.5), "epochs"),
        (dict(dtype="float16"), "dtype"),
        (dict(classes=(3,)), "classes"),
        (dict(classes=(3, 3)), "classes"),
        (dict(seeds=(0, 0)), "seeds"),
        (dict(seeds=()), "seeds"),
        (dict(batch_size=0), "batch_size"),
        (dict(val_fraction=0.9), "val_fraction"),
        (dict(momentum=1.5), "momentum"),
    ],
)
def test_invalid_value_is_a_config_error_naming_the_parameter(change, param):
    with pytest.raises(ConfigError, match=rf"^{param} must"):
        TrainConfig(**change)
    with pytest.raises(ConfigError, match=rf"^options: {param} must"):
        from_dict({k: list(v) if isinstance(v, tuple) else v for k, v in change.items()}, source="options")


# --- custom models -------------------------------------------------------------------------------


class TwoLayerNet(nn.Module):
    """A user's linen module (it happens to have the shape of BASE's MLP, so its program is cached)."""

    @nn.compact
    def __call__(self, x):
        return nn.Dense(10)(nn.relu(nn.Dense(32)(x)))


def test_linen_module_trains_through_fit(sample):
    train, _, _ = sample
    engine = make_engine(custom=as_model(TwoLayerNet()))
    with cheap_compilation():
        result = fit(engine, train)
    assert result.status == "completed"
    losses = [r[0] for r in column(result, "train_loss")]
    assert losses[-1] < losses[0]
    assert column(result, "train_accuracy")[-1][0] > 0.6
    assert set(result.state.params["params"]) == {"Dense_0", "Dense_1"}


def test_init_apply_pair_trains_through_fit(sample):
    """The (init, apply) model of the divergence test, stopped before its weights grow too large."""
    train, _, _ = sample
    engine = make_engine(custom=_fragile_model(), **{**FRAGILE_RUN, "epochs": 1})
    result = fit(engine, train)
    assert result.status == "completed"
    steps = result.history.step_loss[0][0]
    assert np.all(np.diff(steps) < 0)  # every step lowers the loss
    assert result.history.epochs[0]["train_accuracy"][0] > 0.3  # counted while learning; chance is 0.1
    assert set(result.state.params) == {"w", "b"}


# --- the accuracy gate on full-size data -----------------------------------------------------------


@pytest.mark.full_data
def test_s4_mlp_reaches_82_percent_on_fashion_mnist_in_one_epoch(shared_data, tmp_path):
    config = TrainConfig(
        dataset="fashion-mnist",
        model="mlp",
        widths=(1024, 128),
        activation="tanh",
        init="normal",
        init_scale=0.1,
        optimizer="sgd",
        lr=0.1,
        batch_size=128,
        epochs=1,
    )
    result = train_run(config, data_dir=shared_data, out=tmp_path / "s4", quiet=True)
    accuracy = result.summary["final_test_accuracy"]
    print(f"S4 MLP, Fashion-MNIST, 1 epoch: test accuracy {100 * accuracy:.2f}%")
    assert result.status == "completed"
    assert accuracy >= 0.82


def test_each_seeds_keys_are_what_prngkey_of_the_python_int_gives_across_the_seed_range():
    # init_state derives the keys inside one compiled program from uint32 seeds; they must be
    # the bits PRNGKey(int) gives, or every run's initialisation and order would silently change.
    import optax

    from mnistlab.train._engine import init_state

    model = as_model(nn.Dense(3))
    seeds = (0, 1, 2**31, 2**32 - 1)
    state = init_state(model, optax.sgd(0.1), seeds, (1, 4), jnp.float32)
    for i, s in enumerate(seeds):
        init_key, shuffle_key = jax.random.split(jax.random.PRNGKey(s))
        assert np.array_equal(state.shuffle_key[i], shuffle_key)
        expected = model.init(init_key, (1, 4))
        pairs = zip(jax.tree.leaves(state.params), jax.tree.leaves(expected), strict=True)
        assert all(np.array_equal(a[i], b) for a, b in pairs)
