"""One training loop for every implementation, timed the same way for each.

A *trainer* adapts one implementation to the loop: ``prepare`` (put data on the device, compile
ahead of time; returns the compile seconds), ``epoch`` (one pass; returns when it is finished),
``evaluate`` and ``predict``. The loop times only ``epoch``: compilation is reported on its own,
and the per-epoch scoring of the whole training set (the learning curves) happens outside the
timed region, so "training seconds" is the same quantity for every implementation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from . import _jax, _numpy
from ._common import BatchPlan, Params, as_numpy, check_dtype

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Float, Int

EvalSets = Mapping[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainResult:
    """What a training run produced: final parameters, one record per epoch, and timings.

    Each record holds ``epoch``, ``lr``, ``seconds`` (the epoch alone), ``mean_batch_loss`` and,
    for every evaluation set ``name`` (always ``train``), ``{name}_cross_entropy`` and
    ``{name}_accuracy`` over ALL its examples after the epoch, plus ``eval_seconds``.
    """

    name: str
    params: Params
    history: list[dict] = field(default_factory=list)
    compile_seconds: float = 0.0  # the epoch program
    eval_compile_seconds: float = 0.0  # the scoring programs of the evaluation sets
    status: str = "completed"  # or "diverged"
    message: str = ""
    state: Any = None  # the trainer's final state (parameters and optimizer state)

    @property
    def train_seconds(self) -> float:
        return float(sum(r["seconds"] for r in self.history))

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / len(self.history) if self.history else math.nan

    def curve(self, key: str) -> list[float]:
        return [r[key] for r in self.history]


class NumpyTrainer:
    """(a) NumPy, hand-written passes; ``form`` "batched" or "einsum" (per-example products)."""

    def __init__(self, form: str = "batched"):
        self.form = _numpy.check_form(form)
        self.name = "numpy" if form == "batched" else "numpy-einsum"

    def prepare(self, params, x, y, plan: BatchPlan, evals: EvalSets, lr0: float) -> tuple[float, float]:
        self.x, self.y, self.plan, self.evals = x, y, plan, evals
        return 0.0, 0.0  # nothing to compile

    def init_state(self, params):
        return params

    def params_of(self, state) -> Params:
        return state

    def epoch(self, state, e: int, lr: float):
        return _numpy.sgd_epoch(
            state, self.x, self.y, self.plan.idx[e], self.plan.mask[e], lr, form=self.form
        )

    def evaluate(self, state, name: str) -> tuple[float, float]:
        return _numpy.evaluate(state, *self.evals[name])

    def prepare_predict(self, state, x) -> float:
        return 0.0

    def predict(self, state, x) -> np.ndarray:
        return _numpy.predict(state, x)


class JaxTrainer:
    """(b) JAX with the hand-written passes (``method="manual"``) or (c) ``jax.grad``
    (``"autograd"``), each epoch one compiled ``lax.scan``. With ``tx`` (an Optax transformation
    without a step size, e.g. ``optax.scale_by_adam()``), the ``jax.grad`` gradients go through it.
    """

    def __init__(self, method: str = "manual", *, tx=None, name: str | None = None):
        self.method = _jax.check_method(method)
        if tx is not None and method != "autograd":
            raise ConfigError("an Optax transformation needs method='autograd'")
        self.tx = tx
        self.name = name or {"manual": "jax", "autograd": "jax-grad"}[method]

    def prepare(self, params, x, y, plan: BatchPlan, evals: EvalSets, lr0: float) -> tuple[float, float]:
        import jax

        self.plan = plan
        self.dtype = np.dtype(params[0].w.dtype)
        # The data goes to the device once; each epoch then only sends its batch order.
        self.x, self.y = jax.device_put(x), jax.device_put(np.asarray(y, np.int32))
        self.evals = {}
        for name, (ex, ey) in evals.items():
            same = ex is x and ey is y
            self.evals[name] = (self.x, self.y) if same else (jax.device_put(ex), jax.device_put(ey))
        state = self.init_state(params)
        lr = np.asarray(lr0, self.dtype)
        if self.tx is None:
            self._epoch, compile_s = _jax.compile_ahead(
                _jax.sgd_epoch, state, self.x, self.y, plan.idx[0], plan.mask[0], lr, method=self.method
            )
        else:
            self._epoch, compile_s = _jax.compile_ahead(
                _jax.optimizer_epoch, *state, self.x, self.y, plan.idx[0], plan.mask[0], lr, tx=self.tx
            )
        self._scores: dict[tuple, Any] = {}
        eval_s = sum(self._scores_for(self.params_of(state), ex, ey)[1] for ex, ey in self.evals.values())
        return compile_s, eval_s

    def _scores_for(self, params, x, y):
        key = (x.shape, str(x.dtype))
        if key in self._scores:
            return self._scores[key], 0.0
        fn, seconds = _jax.compile_ahead(_jax.scores, params, x, y)
        self._scores[key] = fn
        return fn, seconds

    def init_state(self, params):
        import jax

        params = jax.device_put(params)
        return params if self.tx is None else (params, self.tx.init(params))

    def params_of(self, state) -> Params:
        return state if self.tx is None else state[0]

    def epoch(self, state, e: int, lr: float):
        lr = np.asarray(lr, self.dtype)
        idx, mask = self.plan.idx[e], self.plan.mask[e]
        if self.tx is None:
            params, losses = self._epoch(state, self.x, self.y, idx, mask, lr)
            return params, np.asarray(losses)  # np.asarray waits for the epoch to finish
        params, opt_state, losses = self._epoch(*state, self.x, self.y, idx, mask, lr)
        return (params, opt_state), np.asarray(losses)

    def evaluate(self, state, name: str) -> tuple[float, float]:
        x, y = self.evals[name]
        params = self.params_of(state)
        fn, _ = self._scores_for(params, x, y)
        ce, correct = fn(params, x, y)
        return float(ce) / x.shape[0], int(correct) / x.shape[0]

    def prepare_predict(self, state, x) -> float:
        import jax

        self._x_pred = jax.device_put(x)
        self._predict, seconds = _jax.compile_ahead(_jax.predict, self.params_of(state), self._x_pred)
        return seconds

    def predict(self, state, x) -> np.ndarray:
        # The timed call includes moving the images to the device, as a user's prediction would.
        import jax

        return np.asarray(self._predict(self.params_of(state), jax.device_put(x)))


def train(
    trainer,
    params: Params,
    x: Float[np.ndarray, "n d"],
    y: Int[np.ndarray, " n"],
    plan: BatchPlan,
    lrs: Sequence[float],
    *,
    evals: EvalSets | None = None,
    on_epoch: Callable[[str, dict], None] | None = None,
) -> TrainResult:
    """Train ``params`` with ``trainer`` for ``plan.epochs`` epochs, epoch ``e`` at ``lrs[e]``.

    After each epoch (outside the timed region) every example of the training set and of each
    set in ``evals`` is scored. A non-finite loss stops training with status "diverged".
    Returns NumPy parameters; ``params`` itself is never modified.
    """
    check_dtype(params[0].w.dtype)
    if len(lrs) < plan.epochs:
        raise ConfigError(f"lrs must give a rate for each of the {plan.epochs} epochs; got {len(lrs)}")
    sets = {"train": (x, y), **(evals or {})}
    compile_s, eval_compile_s = trainer.prepare(params, x, y, plan, sets, float(lrs[0]))
    result = TrainResult(trainer.name, params, compile_seconds=compile_s, eval_compile_seconds=eval_compile_s)
    state = trainer.init_state(params)
    for e in range(plan.epochs):
        t0 = time.perf_counter()
        state, losses = trainer.epoch(state, e, float(lrs[e]))
        seconds = time.perf_counter() - t0
        record: dict[str, Any] = {
            "epoch": e + 1,
            "lr": float(lrs[e]),
            "seconds": seconds,
            "mean_batch_loss": float(np.mean(losses)),
        }
        t1 = time.perf_counter()
        for name in sets:
            record[f"{name}_cross_entropy"], record[f"{name}_accuracy"] = trainer.evaluate(state, name)
        record["eval_seconds"] = time.perf_counter() - t1
        result.history.append(record)
        if on_epoch is not None:
            on_epoch(trainer.name, record)
        if not (np.isfinite(losses).all() and math.isfinite(record["train_cross_entropy"])):
            result.status = "diverged"
            result.message = f"diverged in epoch {e + 1} (non-finite loss at lr {lrs[e]:g}); try a smaller lr"
            break
    result.state = state
    result.params = as_numpy(trainer.params_of(state))
    return result


def time_predict(trainer, state, x, y, *, repeats: int = 3) -> dict[str, float]:
    """Compile (JAX) and time predicting every row of ``x``: the median of ``repeats`` timed calls
    after one untimed warm-up. Returns compile seconds, seconds and the accuracy against ``y``."""
    compile_s = trainer.prepare_predict(state, x)
    labels = trainer.predict(state, x)  # warm-up: first-touch allocations, thread start-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        labels = trainer.predict(state, x)
        times.append(time.perf_counter() - t)
    return {
        "predict_compile_seconds": compile_s,
        "predict_seconds": float(np.median(times)),
        "test_accuracy": float((np.asarray(labels) == np.asarray(y)).mean()),
    }
