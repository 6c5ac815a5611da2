"""Learning-rate schedules and optimizers: values by hand, equivalence to optax, registries, errors.

Compiling is nearly all the cost of these tests on a shared CPU, so schedules and optimizers run
eagerly on fixed shapes (each primitive compiles once for the file); one test per schedule checks
it under ``jax.jit`` with a traced int32 step, as optax's step counter is.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from mnistlab import ConfigError, optim, train
from mnistlab._checks import check
from mnistlab.optim import (
    OPTIMIZERS,
    SCHEDULES,
    current_lr,
    make_optimizer,
    make_schedule,
)

LR = 0.1
SPE = 10  # steps per epoch


# Tiny programs compiled once and run a few times: skip most XLA optimisation.
pytestmark = pytest.mark.usefixtures("cheap_compiles")


N_STEPS = 64


def values(schedule, steps) -> np.ndarray:
    """``schedule`` at each of ``steps`` (at most N_STEPS), by an eager vmap over int32 steps.

    Eager and always N_STEPS long: every schedule is made of the same few primitives, so they are
    compiled once for the file; jitting each schedule would compile a program per schedule.
    """
    steps = np.asarray(steps)
    padded = np.zeros(N_STEPS, np.int32)
    padded[: len(steps)] = steps
    return np.asarray(jax.vmap(schedule)(jnp.asarray(padded)), np.float64)[: len(steps)]


# ------------------------------------------------------------------------------ schedules


def test_names():
    assert SCHEDULES == ("constant", "exponential", "step", "cosine", "warmup-cosine", "one-cycle")
    assert OPTIMIZERS == ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop")


def test_constant():
    s = make_schedule("constant", LR, steps_per_epoch=SPE, epochs=3)
    np.testing.assert_allclose(values(s, [0, 1, 29, 30, 10**6]), LR, rtol=1e-7)


def test_exponential_is_a_per_epoch_staircase():
    s = make_schedule("exponential", LR, steps_per_epoch=SPE, epochs=5, factor=0.9)
    steps = np.arange(50)
    expected = LR * 0.9 ** (steps // SPE)  # S9: lr *= factor at each epoch start
    np.testing.assert_allclose(values(s, steps), expected, rtol=1e-6)
    np.testing.assert_allclose(values(s, [0, 9, 10, 19, 20]), [LR, LR, 0.09, 0.09, 0.081], rtol=1e-6)


def test_exponential_factor_one_is_constant():
    s = make_schedule("exponential", LR, steps_per_epoch=SPE, epochs=5, factor=1)
    np.testing.assert_allclose(values(s, [0, 15, 49]), LR, rtol=1e-7)


def test_step():
    s = make_schedule("step", LR, steps_per_epoch=SPE, epochs=9, factor=0.5, step_epochs=3)
    np.testing.assert_allclose(
        values(s, [0, 29, 30, 59, 60, 89]), [LR, LR, LR / 2, LR / 2, LR / 4, LR / 4], rtol=1e-6
    )


def test_cosine():
    s = make_schedule("cosine", LR, steps_per_epoch=SPE, epochs=10)  # 100 steps
    np.testing.assert_allclose(values(s, [0, 50, 100, 150]), [LR, LR / 2, 0, 0], atol=1e-8)
    quarter = LR * 0.5 * (1 + math.cos(math.pi / 4))
    np.testing.assert_allclose(values(s, [25]), [quarter], rtol=1e-6)


def test_cosine_to_final_lr_matches_optax():
    s = make_schedule("cosine", LR, steps_per_epoch=SPE, epochs=10, final_lr=0.01)
    np.testing.assert_allclose(values(s, [0, 50, 100, 500]), [LR, 0.055, 0.01, 0.01], rtol=1e-6)
    reference = optax.cosine_decay_schedule(LR, decay_steps=100, alpha=0.1)
    steps = np.arange(0, 110, 7)
    np.testing.assert_allclose(values(s, steps), values(reference, steps), rtol=1e-5)


def test_warmup_cosine():
    s = make_schedule("warmup-cosine", LR, steps_per_epoch=SPE, epochs=10, warmup_epochs=2)
    # Linear 0 -> lr over steps 0..20, then cosine over the remaining 80 steps to 0.
    np.testing.assert_allclose(
        values(s, [0, 5, 10, 20, 60, 100, 200]), [0, LR / 4, LR / 2, LR, LR / 2, 0, 0], atol=1e-8
    )
    reference = optax.warmup_cosine_decay_schedule(0.0, LR, warmup_steps=20, decay_steps=100, end_value=0.01)
    ours = make_schedule("warmup-cosine", LR, steps_per_epoch=SPE, epochs=10, warmup_epochs=2, final_lr=0.01)
    steps = np.arange(0, 110, 3)
    np.testing.assert_allclose(values(ours, steps), values(reference, steps), rtol=1e-5, atol=1e-9)


def test_warmup_cosine_fractional_and_zero_warmup():
    half = make_schedule("warmup-cosine", LR, steps_per_epoch=SPE, epochs=2, warmup_epochs=0.5)
    np.testing.assert_allclose(values(half, [0, 1, 5]), [0, LR / 5, LR], rtol=1e-6)
    none = make_schedule("warmup-cosine", LR, steps_per_epoch=SPE, epochs=2, warmup_epochs=0)
    plain = make_schedule("cosine", LR, steps_per_epoch=SPE, epochs=2)
    np.testing.assert_allclose(values(none, np.arange(21)), values(plain, np.arange(21)), rtol=1e-7)
    # Rounding a warmup up to the whole run still leaves one cosine step (no division by zero).
    tiny = make_schedule("warmup-cosine", LR, steps_per_epoch=1, epochs=1, warmup_epochs=0.9)
    assert np.isfinite(values(tiny, [0, 1, 2])).all()


def test_one_cycle():
    s = make_schedule("one-cycle", LR, steps_per_epoch=SPE, epochs=10)  # 100 steps, peak at 30
    start = LR / 25
    got = values(s, [0, 15, 30, 100, 200])
    mid_rise = start + (LR - start) * 0.5 * (1 - math.cos(math.pi * 0.5))
    np.testing.assert_allclose(got, [start, mid_rise, LR, start / 1e4, start / 1e4], rtol=1e-5)
    reference = optax.cosine_onecycle_schedule(100, LR)
    np.testing.assert_allclose(
        values(s, np.arange(0, 101, 5)), values(reference, np.arange(0, 101, 5)), rtol=1e-7
    )
    ends_at = make_schedule("one-cycle", LR, steps_per_epoch=SPE, epochs=10, final_lr=1e-3)
    np.testing.assert_allclose(values(ends_at, [0, 30, 100]), [start, LR, 1e-3], rtol=1e-5)


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_schedule_is_positive_bounded_and_jittable(name):
    extra = {
        "exponential": {"factor": 0.5},
        "step": {"factor": 0.5, "step_epochs": 2},
        "warmup-cosine": {"warmup_epochs": 1},
    }.get(name, {})
    s = make_schedule(name, LR, steps_per_epoch=SPE, epochs=4, **extra)
    v = values(s, np.arange(N_STEPS))
    assert np.isfinite(v).all()
    assert (v >= 0).all()
    assert (v <= LR * (1 + 1e-6)).all()
    # Under jit the step is a traced int32 scalar, as in optax.scale_by_schedule. Fused and eager
    # float32 may round differently; near a cosine's end 1 + cos(x) cancels, so the bound is
    # absolute: a few float32 ulps of 1, scaled by lr (what the cosine multiplies).
    traced = jax.jit(jax.vmap(s))(jnp.arange(N_STEPS, dtype=jnp.int32))
    np.testing.assert_allclose(traced, v, rtol=1e-6, atol=4 * np.finfo(np.float32).eps * LR)


def test_current_lr():
    s = make_schedule("exponential", LR, steps_per_epoch=SPE, epochs=5, factor=0.9)
    lr = current_lr(s, 10)
    assert type(lr) is float
    assert lr == pytest.approx(0.09, rel=1e-6)
    assert current_lr(s, np.int64(0)) == pytest.approx(LR)
    assert current_lr(0.5, 123) == 0.5
    with pytest.raises(ConfigError, match="step must be an integer"):
        current_lr(s, 1.5)


# ------------------------------------------------------------------------------ optimizers

PARAMS = {
    "w": np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3),
    "b": np.asarray([0.5, -2.0], np.float32),
}


def _grads(n: int, seed: int = 0):
    """``n`` gradient trees shaped like PARAMS, stacked on a leading axis."""
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=(n, *v.shape)).astype(np.float32) for k, v in PARAMS.items()}


def _run(tx, grads, params):
    """Apply ``tx`` to a sequence of gradient trees; the update of every step, stacked.

    Eager on purpose: every optimizer here is built from the same few primitives on the same two
    shapes, so eager dispatch compiles each primitive once for the whole file, where a jitted
    loop would compile one program per optimizer (most of this file's time on a shared CPU).
    """
    state = tx.init(params)
    steps = []
    for t in range(len(next(iter(grads.values())))):
        g = {k: v[t] for k, v in grads.items()}
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        steps.append(updates)
    return jax.tree.map(lambda *u: np.stack(u), *steps)


def updates_of(tx, grads=None, params=PARAMS):
    grads = _grads(6) if grads is None else grads
    return jax.tree.map(np.asarray, _run(tx, grads, params))


def assert_same_updates(ours, reference, rtol=1e-7):
    a, b = updates_of(ours), updates_of(reference)
    for key in PARAMS:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=1e-9, err_msg=key)


def constant(lr=LR):
    return make_schedule("constant", lr, steps_per_epoch=SPE, epochs=1)


@pytest.mark.parametrize(
    ("ours", "reference"),
    [
        (lambda: make_optimizer("sgd", constant()), lambda: optax.sgd(LR)),
        (lambda: make_optimizer("sgd", LR, momentum=0), lambda: optax.sgd(LR)),
        (lambda: make_optimizer("momentum", constant()), lambda: optax.sgd(LR, momentum=0.9)),
        (lambda: make_optimizer("momentum", constant(), momentum=0.5), lambda: optax.sgd(LR, momentum=0.5)),
        (lambda: make_optimizer("nesterov", constant()), lambda: optax.sgd(LR, momentum=0.9, nesterov=True)),
        (lambda: make_optimizer("adam", constant(1e-3)), lambda: optax.adam(1e-3)),
        (
            lambda: make_optimizer("adam", 1e-3, b1=0.8, b2=0.99, eps=1e-6),
            lambda: optax.adam(1e-3, b1=0.8, b2=0.99, eps=1e-6),
        ),
        (lambda: make_optimizer("adamw", constant(1e-3)), lambda: optax.adamw(1e-3)),
        (
            lambda: make_optimizer("adamw", constant(1e-3), weight_decay=0.05),
            lambda: optax.adamw(1e-3, weight_decay=0.05),
        ),
        (lambda: make_optimizer("adamw", constant(1e-3), weight_decay=0), lambda: optax.adam(1e-3)),
        (lambda: make_optimizer("rmsprop", constant(1e-3)), lambda: optax.rmsprop(1e-3)),
        (
            lambda: make_optimizer("rmsprop", constant(1e-3), momentum=0.9, rms_decay=0.95),
            lambda: optax.rmsprop(1e-3, decay=0.95, momentum=0.9),
        ),
    ],
    ids=[
        "sgd",
        "sgd-momentum-0",
        "momentum",
        "momentum-0.5",
        "nesterov",
        "adam",
        "adam-betas",
        "adamw",
        "adamw-wd",
        "adamw-wd-0-is-adam",
        "rmsprop",
        "rmsprop-momentum",
    ],
)
def test_matches_optax(ours, reference):
    assert_same_updates(ours(), reference())


def test_sgd_and_momentum_bit_for_bit():
    for ours, reference in [
        (make_optimizer("sgd", constant()), optax.sgd(LR)),
        (make_optimizer("momentum", constant()), optax.sgd(LR, momentum=0.9)),
        (make_optimizer("adam", constant(1e-3)), optax.adam(1e-3)),
    ]:
        a, b = updates_of(ours), updates_of(reference)
        for key in PARAMS:
            np.testing.assert_array_equal(a[key], b[key])


def test_momentum_is_s1s_heavy_ball():
    """``v = m v + g; theta -= lr v``: jax.example_libraries' momentum, which study S1 used."""
    grads = _grads(5, seed=1)
    ours = updates_of(make_optimizer("momentum", constant(), momentum=0.9), grads)
    v = {k: np.zeros_like(p) for k, p in PARAMS.items()}
    for t in range(5):
        for k in PARAMS:
            v[k] = 0.9 * v[k] + grads[k][t]
            np.testing.assert_allclose(ours[k][t], -LR * v[k], rtol=1e-6)


def test_schedule_drives_the_step_size():
    grads = _grads(25)
    s = make_schedule("exponential", LR, steps_per_epoch=SPE, epochs=3, factor=0.5)
    ours = updates_of(make_optimizer("sgd", s), grads)
    lr = LR * 0.5 ** (np.arange(25) // SPE)
    for k in PARAMS:
        np.testing.assert_allclose(ours[k], -lr.reshape(-1, *[1] * PARAMS[k].ndim) * grads[k], rtol=1e-6)


def test_clipping_bounds_the_global_norm():
    big = {k: 100 * v for k, v in _grads(4).items()}
    small = {k: 1e-3 * v for k, v in _grads(4).items()}
    tx = make_optimizer("sgd", 1.0, clip_norm=1.0)
    clipped, unclipped = updates_of(tx, big), updates_of(tx, small)
    for t in range(4):
        norm = math.sqrt(sum(float(np.sum(clipped[k][t] ** 2)) for k in PARAMS))
        assert norm == pytest.approx(1.0, rel=1e-5)
        # Small gradients pass unchanged (lr 1: update = -gradient).
        for k in PARAMS:
            np.testing.assert_allclose(unclipped[k][t], -small[k][t], rtol=1e-6)
    # Clipping happens before the adaptive scaling: with it, Adam sees the clipped gradients.
    ours = updates_of(make_optimizer("adam", 1e-3, clip_norm=1.0), big)
    reference = updates_of(optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3)), big)
    for k in PARAMS:
        np.testing.assert_allclose(ours[k], reference[k], rtol=1e-6)


class TestWeightDecay:
    def test_adam_decay_is_decoupled(self):
        wd = 0.1
        grads = _grads(5, seed=2)
        ours = updates_of(make_optimizer("adam", 1e-3, weight_decay=wd), grads)
        # Decoupled: update = -lr * (adam_direction(g) + wd * theta), theta being the current params.
        adam = updates_of(optax.adam(1e-3), grads)
        params = {k: v.copy() for k, v in PARAMS.items()}
        for t in range(5):
            for k in PARAMS:
                expected = adam[k][t] - 1e-3 * wd * params[k]
                np.testing.assert_allclose(ours[k][t], expected, rtol=1e-5, atol=1e-9)
                params[k] = params[k] + ours[k][t]
        # Coupled (wd * theta folded into the gradient, then Adam-scaled) would differ.
        coupled = updates_of(optax.chain(optax.add_decayed_weights(wd), optax.adam(1e-3)), grads)
        assert not np.allclose(coupled["w"], ours["w"], rtol=1e-3)

    def test_zero_gradient_leaves_only_the_decay(self):
        zero = {k: np.zeros_like(v) for k, v in _grads(3).items()}
        for name in ("sgd", "momentum", "adam", "rmsprop"):
            updates = updates_of(make_optimizer(name, LR, weight_decay=0.1), zero)
            params = {k: v.copy() for k, v in PARAMS.items()}
            for t in range(3):
                for k in PARAMS:
                    # Not accumulated into momentum, not divided by Adam's or RMSprop's denominators.
                    np.testing.assert_allclose(updates[k][t], -LR * 0.1 * params[k], rtol=1e-6, err_msg=name)
                    params[k] = params[k] + updates[k][t]

    def test_adamw_default_and_others_default(self):
        zero = {k: np.zeros_like(v) for k, v in _grads(1).items()}
        w = PARAMS["w"]
        np.testing.assert_allclose(
            updates_of(make_optimizer("adamw", LR), zero)["w"][0], -LR * 1e-4 * w, rtol=1e-6
        )
        np.testing.assert_array_equal(updates_of(make_optimizer("adam", LR), zero)["w"][0], 0 * w)
        np.testing.assert_array_equal(
            updates_of(make_optimizer("adamw", LR, weight_decay=0), zero)["w"][0], 0 * w
        )


# ------------------------------------------------------------------------------ errors


def sched(name="exponential", lr=LR, **kw):
    kw = {"steps_per_epoch": SPE, "epochs": 5, **kw}
    if name in ("exponential", "step"):
        kw.setdefault("factor", 0.9)
    if name == "step":
        kw.setdefault("step_epochs", 2)
    if name == "warmup-cosine":
        kw.setdefault("warmup_epochs", 1)
    return lambda: make_schedule(name, lr, **kw)


def opt(name="sgd", schedule=LR, **kw):
    return lambda: make_optimizer(name, schedule, **kw)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            sched("linear"),
            r"schedule \(--schedule\) must be one of constant, exponential, "
            r"step, cosine, warmup-cosine, one-cycle; got 'linear'",
        ),
        (sched(lr=0), r"lr \(--lr\) must be > 0; got 0"),
        (sched(lr=-0.1), r"lr \(--lr\) must be > 0; got -0.1"),
        (sched(lr=float("nan")), r"lr \(--lr\) must be a finite number; got nan"),
        (sched(lr="0.1"), r"lr \(--lr\) must be a finite number; got '0.1'"),
        (sched(lr=True), r"lr \(--lr\) must be a finite number; got True"),
        (sched(steps_per_epoch=0), r"steps_per_epoch must be a positive integer \(>= 1\); got 0"),
        (sched(epochs=0), r"epochs \(--epochs\) must be a positive integer \(>= 1\); got 0"),
        (sched(epochs=2.5), r"epochs \(--epochs\) must be an integer; got 2.5"),
        (
            sched(factor=None),
            r"the exponential schedule needs factor \(--lr-factor\), a number in \(0, 1\]; got none",
        ),
        (sched(factor=0), r"factor \(--lr-factor\) must be in \(0, 1\]; got 0"),
        (sched(factor=1.5), r"factor \(--lr-factor\) must be in \(0, 1\]; got 1.5"),
        (sched(factor=float("inf")), r"factor \(--lr-factor\) must be a finite number; got inf"),
        (sched("step", factor=None), r"the step schedule needs factor \(--lr-factor\)"),
        (
            sched("step", step_epochs=None),
            r"the step schedule needs step_epochs \(--step-epochs\), a positive integer",
        ),
        (
            sched("step", step_epochs=0),
            r"step_epochs \(--step-epochs\) must be a positive integer \(>= 1\); got 0",
        ),
        (sched("step", step_epochs=1.5), r"step_epochs \(--step-epochs\) must be an integer; got 1.5"),
        (
            sched("warmup-cosine", warmup_epochs=None),
            r"the warmup-cosine schedule needs warmup_epochs "
            r"\(--warmup-epochs\), a number of epochs in \[0, epochs = 5\); got none",
        ),
        (
            sched("warmup-cosine", warmup_epochs=5),
            r"warmup_epochs \(--warmup-epochs\) must be in \[0, 5\); got 5",
        ),
        (
            sched("warmup-cosine", warmup_epochs=-1),
            r"warmup_epochs \(--warmup-epochs\) must be in \[0, 5\); got -1",
        ),
        (sched("cosine", final_lr=0.2), r"final_lr \(--final-lr\) must be in \[0, 0.1\]; got 0.2"),
        (sched("cosine", final_lr=-1e-3), r"final_lr \(--final-lr\) must be in \[0, 0.1\]; got -0.001"),
        (sched("one-cycle", final_lr=0), r"final_lr \(--final-lr\) must be in \(0, 0.1\); got 0"),
        (
            sched("cosine", factor=0.5),
            r"factor \(--lr-factor\) is only used by the exponential and step "
            r"schedules; got 0.5 with schedule 'cosine'",
        ),
        (
            sched("exponential", step_epochs=3),
            r"step_epochs \(--step-epochs\) is only used by the step schedule; "
            r"got 3 with schedule 'exponential'",
        ),
        (
            sched("constant", warmup_epochs=1),
            r"warmup_epochs \(--warmup-epochs\) is only used by the "
            r"warmup-cosine schedule; got 1 with schedule 'constant'",
        ),
        (
            sched("one-cycle", warmup_epochs=1),
            r"warmup_epochs \(--warmup-epochs\) is only used by the warmup-cosine",
        ),
        (
            sched("step", final_lr=0.0),
            r"final_lr \(--final-lr\) is only used by the cosine, warmup-cosine and "
            r"one-cycle schedules; got 0.0 with schedule 'step'",
        ),
        (
            opt("lbfgs"),
            r"optimizer \(--optimizer\) must be one of sgd, momentum, nesterov, adam, "
            r"adamw, rmsprop; got 'lbfgs'",
        ),
        (opt("adma"), r"got 'adma' \(did you mean 'adam'\?\)$"),
        (sched("cosin"), r"got 'cosin' \(did you mean 'cosine'\?\)$"),
        (opt(schedule=0.0), r"lr \(--lr\) must be > 0; got 0.0"),
        (
            opt(momentum=0.9),
            r"momentum \(--momentum\) must be unset or 0 for the sgd optimizer; got 0.9 \(use "
            r"--optimizer momentum or nesterov",
        ),
        (
            opt("adam", momentum=0.9),
            r"momentum \(--momentum\) must be unset for the adam optimizer \(its momentum "
            r"is b1 \(--b1\)\); got 0.9",
        ),
        (opt("momentum", momentum=1.0), r"momentum \(--momentum\) must be in \[0, 1\); got 1.0"),
        (opt("nesterov", momentum=-0.1), r"momentum \(--momentum\) must be in \[0, 1\); got -0.1"),
        (opt("rmsprop", momentum="high"), r"momentum \(--momentum\) must be a finite number; got 'high'"),
        (opt(weight_decay=-1e-4), r"weight_decay \(--weight-decay\) must be >= 0; got -0.0001"),
        (opt(weight_decay=float("nan")), r"weight_decay \(--weight-decay\) must be a finite number; got nan"),
        (opt(clip_norm=0), r"clip_norm \(--clip-norm\) must be > 0; got 0"),
        (opt("adam", b1=1.0), r"b1 \(--b1\) must be in \[0, 1\); got 1.0"),
        (opt("adamw", b2=-0.5), r"b2 \(--b2\) must be in \[0, 1\); got -0.5"),
        (opt("adam", eps=0), r"eps \(--eps\) must be > 0; got 0"),
        (opt("rmsprop", eps=-1.0), r"eps \(--eps\) must be > 0; got -1.0"),
        (opt("rmsprop", rms_decay=1), r"rms_decay \(--rms-decay\) must be in \[0, 1\); got 1"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_numpy_and_jax_scalars_are_accepted():
    s = make_schedule(
        "exponential",
        np.float32(LR),
        steps_per_epoch=np.int64(SPE),
        epochs=np.int32(5),
        factor=jnp.asarray(0.5),
    )
    assert current_lr(s, 10) == pytest.approx(LR / 2)
    make_optimizer("adam", jnp.asarray(1e-3), weight_decay=np.float64(0.1), clip_norm=np.int64(1))
    for bad in (np.asarray([LR]), np.complex64(1), np.bool_(True)):
        with pytest.raises(ConfigError, match=r"lr \(--lr\) must be a finite number"):
            make_schedule("constant", bad, steps_per_epoch=SPE, epochs=1)


def test_errors_are_value_errors_for_python_callers():
    with pytest.raises(ValueError, match="--lr-factor"):
        make_schedule("exponential", LR, steps_per_epoch=SPE, epochs=5, factor=2)


# ------------------------------------------------------------------------------ Optax's schedules
# The schedules are Optax's where Optax has the same function; each must still be the closed form
# documented in make_schedule. Compared in float64, where both sides round at most a few times:
# an absolute bound of 4 float64 ulps of lr (each of the ~5 operations is off by at most half an
# ulp of a value <= lr).

F64_ATOL = 4 * np.finfo(np.float64).eps * LR


def _f64(schedule, steps) -> np.ndarray:
    return np.asarray(jax.vmap(schedule)(jnp.asarray(steps, jnp.int64)), np.float64)


@pytest.mark.parametrize("factor", [0.9, 0.5, 0.999])
def test_exponential_and_step_are_the_per_epoch_staircase_in_float64(x64, factor):
    spe, epochs = 7, 400
    steps = np.arange(epochs * spe)
    for name, every, extra in (("exponential", spe, {}), ("step", 3 * spe, {"step_epochs": 3})):
        s = make_schedule(name, LR, steps_per_epoch=spe, epochs=epochs, factor=factor, **extra)
        expected = np.array([LR * factor**k for k in steps // every])
        np.testing.assert_allclose(_f64(s, steps), expected, rtol=4 * np.finfo(np.float64).eps, atol=0)


def test_staircase_changes_exactly_at_epoch_starts_in_float32():
    # Optax floors a float32 step / steps_per_epoch; the stair must still change exactly at each
    # epoch start (the quotient of n * spe - 1 stays below n while the run has < 2**24 steps).
    spe, epochs = 469, 300
    s = make_schedule("exponential", LR, steps_per_epoch=spe, epochs=epochs, factor=0.95)
    v = np.asarray(jax.jit(jax.vmap(s))(jnp.arange(epochs * spe, dtype=jnp.int32))).reshape(epochs, spe)
    assert (v == v[:, :1]).all()  # constant within each epoch
    assert (v[1:, 0] < v[:-1, 0]).all()  # and lower at every epoch start


@pytest.mark.parametrize("final_lr", [None, 0.01])
@pytest.mark.parametrize("warmup_epochs", [None, 0, 2.5])
def test_cosine_schedules_are_the_closed_form_in_float64(x64, final_lr, warmup_epochs):
    spe, epochs = 7, 10
    if warmup_epochs is None:
        s = make_schedule("cosine", LR, steps_per_epoch=spe, epochs=epochs, final_lr=final_lr)
        warmup = 0
    else:
        s = make_schedule(
            "warmup-cosine",
            LR,
            steps_per_epoch=spe,
            epochs=epochs,
            warmup_epochs=warmup_epochs,
            final_lr=final_lr,
        )
        warmup = round(warmup_epochs * spe)
    steps = np.arange((epochs + 2) * spe)
    final = final_lr or 0.0
    t = np.clip((steps - warmup) / (epochs * spe - warmup), 0.0, 1.0)
    expected = final + (LR - final) * 0.5 * (1.0 + np.cos(np.pi * t))
    if warmup:
        expected = np.where(steps < warmup, LR * steps / warmup, expected)
    np.testing.assert_allclose(_f64(s, steps), expected, rtol=0, atol=F64_ATOL)


# ------------------------------------------------------------------------------ registries


def test_default_learning_rates():
    assert {name: optim.default_lr(name) for name in OPTIMIZERS} == {
        "sgd": 0.1,
        "momentum": 0.01,
        "nesterov": 0.01,
        "adam": 1e-3,
        "adamw": 1e-3,
        "rmsprop": 1e-3,
    }
    with pytest.raises(ConfigError, match=r"optimizer \(--optimizer\) must be one of .*did you mean 'sgd'"):
        optim.default_lr("sdg")


def test_tables_describe_every_name():
    assert [row[0] for row in optim.optimizer_table()] == list(OPTIMIZERS)
    assert [row[0] for row in optim.schedule_table()] == list(SCHEDULES)
    assert dict((r[0], r[1]) for r in optim.optimizer_table())["nesterov"] == 0.01
    assert dict((r[0], r[1]) for r in optim.schedule_table())["step"] == "factor, step_epochs"
    for spec in optim.OPTIMIZER_SPECS.values():
        assert set(spec.params) <= set(optim.PARAM_CONSTRAINTS), spec.name
    for spec in optim.SCHEDULE_SPECS.values():
        assert set(spec.required) <= set(spec.params) <= set(optim.PARAM_CONSTRAINTS), spec.name


def test_train_re_exports_the_optim_names():
    assert train.make_optimizer is optim.make_optimizer
    assert train.make_schedule is optim.make_schedule
    assert train.current_lr is optim.current_lr
    assert (train.OPTIMIZERS, train.SCHEDULES) == (OPTIMIZERS, SCHEDULES)


def test_the_exported_constraints_are_the_ones_the_builders_apply():
    # A config validating with PARAM_CONSTRAINTS refuses exactly what the builders refuse.
    c = optim.PARAM_CONSTRAINTS
    for value in (0.0, 0.5, 0.999):
        check("momentum", value, c["momentum"])
        make_optimizer("momentum", LR, momentum=value)
    for value in (1.0, -0.1):
        with pytest.raises(ConfigError, match=r"momentum \(--momentum\) must be a number in \[0, 1\)"):
            check("momentum", value, c["momentum"], flag=optim.FLAGS["momentum"])
        with pytest.raises(ConfigError, match=r"momentum \(--momentum\) must be in \[0, 1\)"):
            make_optimizer("momentum", LR, momentum=value)
    # warmup_epochs is a float (fractional epochs), < epochs being the cross-field rule.
    check("warmup_epochs", 0.5, c["warmup_epochs"])
    make_schedule("warmup-cosine", LR, steps_per_epoch=SPE, epochs=1, warmup_epochs=0.5)
    assert optim.check_param("warmup_epochs", 2) == 2.0
    assert type(optim.check_param("step_epochs", np.int64(3))) is int


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_alias_is_what_make_optimizer_builds(name):
    alias = getattr(optim, name)
    a = updates_of(alias(constant(1e-3), weight_decay=0.01, clip_norm=1.0))
    b = updates_of(make_optimizer(name, constant(1e-3), weight_decay=0.01, clip_norm=1.0))
    for key in PARAMS:
        np.testing.assert_array_equal(a[key], b[key])
