"""The compiled training engine: one XLA program per epoch, several seeds in one program.

Why it is shaped this way:
- The images stay on the device as uint8 (47 MB for 60k) and each batch is gathered, scaled and
  reshaped inside the compiled step, so no float copy of the dataset exists anywhere.
- Shuffling is ``batch_indices(fold_in(shuffle_key, epoch))`` inside the program: an epoch's
  order depends only on the seed and the epoch number, which is what makes resume exact. With
  ``--steps`` an epoch is a chunk of ``--eval-every`` steps cut from that same sequence of passes.
- A kept last partial batch is padded and masked, so every step has one shape: one compilation.
- Several seeds are ``jax.vmap`` of the single-seed epoch over a leading axis of the state; a
  sweep (``sweep=`` configs differing only in lr, penalties, momentum, weight decay, seeds) is
  the same program over ``points x seeds`` members, its hyperparameters carried as per-member
  values (``_points.py``).
- Both programs are compiled ahead of time (``jit(...).lower(...).compile()``), which measures
  compile time apart from epoch time and makes a retrace impossible rather than just unlikely.
- On several devices (``--devices``, ``--mesh``) the same programs run under ``shard_map`` on a
  mesh ``members x data`` (``_sharded.py``); on one device nothing of that is in the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import PartitionSpec as P

from .._compute import eval_indices, over_seeds
from .._errors import ConfigError
from ..data import NormStats, batch_indices, num_batches
from ..models import Model
from ..parallel import MEMBERS, place, plan, to_host
from ..runs import TrainConfig, resolve
from . import _losses, _points, _progress, _sharded

COMPUTE_DTYPES = {"float32": jnp.float32, "float64": jnp.float64, "bfloat16": jnp.bfloat16}


class TrainState(NamedTuple):
    """Everything that changes during training, each leaf with a leading axis of one per seed."""

    params: Any
    opt_state: Any
    shuffle_key: jax.Array  # raw uint32 keys (seeds, 2): plain arrays, easy to checkpoint


@dataclass
class History:
    """Per-epoch records (one dict per epoch, per-seed lists inside) and per-step losses."""

    epochs: list[dict] = field(default_factory=list)
    step_loss: list[np.ndarray] = field(default_factory=list)  # per epoch: (seeds, steps)

    def as_dict(self) -> dict:
        return {"epochs": self.epochs, "step_loss": [a.tolist() for a in self.step_loss]}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        return cls(list(d["epochs"]), [np.asarray(a, np.float32) for a in d["step_loss"]])


@dataclass
class FitResult:
    state: TrainState
    history: History
    status: str  # "completed", "diverged", "interrupted" or "stopped"
    message: str = ""
    compile_seconds: float = 0.0
    epochs_done: int = 0


# --- pieces ------------------------------------------------------------------------------------


def make_prepare(preprocess: str, norm: NormStats | None, layout: str, dtype) -> Callable:
    """uint8 ``(B, H, W)`` -> the model's input in ``dtype`` and layout, inside compiled code."""

    def prepare(images):
        x = images.astype(dtype) / jnp.asarray(255, dtype)
        if preprocess == "global":
            x = (x - jnp.asarray(norm.mean, dtype)) / jnp.asarray(norm.std, dtype)
        elif preprocess == "per-image":
            mean = x.mean(axis=(1, 2), keepdims=True)
            std = x.std(axis=(1, 2), keepdims=True)
            # A blank image has nothing to standardise: keep it zero rather than divide by ~0.
            x = jnp.where(std > 0, (x - mean) / jnp.where(std > 0, std, 1), 0)
        b, h, w = x.shape
        if layout == "flat":
            return x.reshape(b, h * w)
        return x[..., None] if layout == "NHWC" else x[:, None]

    return prepare


def resolve_loss(config: TrainConfig, kind: str) -> str:
    auto = {"classifier": "cross-entropy", "binary": "binary-cross-entropy", "autoencoder": "squared-error"}
    loss = auto[kind] if config.loss == "auto" else config.loss
    allowed = {
        "classifier": ("cross-entropy", "squared-error"),
        "binary": ("binary-cross-entropy", "squared-error"),
        "autoencoder": ("squared-error",),
    }[kind]
    if loss not in allowed:
        raise ConfigError(f"loss must be one of {', '.join(allowed)} for a {kind} model; got {loss!r}")
    return loss


def make_per_example(model: Model, loss_name: str, compute_dtype, num_classes: int) -> Callable:
    """``(params, x, y) -> (loss (B,), correct (B,))`` in the parameters' precision."""
    loss_fn = _losses.get_loss(loss_name)

    def per_example(params, x, y):
        p = params
        if compute_dtype == jnp.bfloat16:  # compute in bfloat16, keep float32 master parameters
            p = jax.tree.map(lambda a: a.astype(jnp.bfloat16), params)
            x = x.astype(jnp.bfloat16)
        out = model.apply(p, x)
        out_dtype = jax.tree.leaves(params)[0].dtype
        out = out.astype(out_dtype)
        if model.kind == "autoencoder":
            target = x.reshape(x.shape[0], -1).astype(out_dtype)
            return loss_fn(out, target), jnp.zeros(x.shape[0], out_dtype)
        if loss_name == "squared-error":
            if model.kind == "binary":
                loss = loss_fn(jax.nn.sigmoid(out), y.astype(out_dtype))
            else:
                loss = loss_fn(out, jax.nn.one_hot(y, num_classes, dtype=out_dtype))
        else:
            loss = loss_fn(out, y)
        return loss, _losses.correct(out, y, model.kind).astype(out_dtype)

    return per_example


def init_state(model: Model, tx, seeds, input_shape, param_dtype) -> TrainState:
    """Parameters, optimizer state and shuffle keys for each seed, stacked on a leading axis."""

    def one(seed):
        init_key, shuffle_key = jax.random.split(jax.random.PRNGKey(seed))
        params = jax.tree.map(lambda a: a.astype(param_dtype), model.init(init_key, input_shape))
        return params, tx.init(params), shuffle_key

    # One compiled program, keys included: op by op, init compiles dozens of small programs (a
    # second of a cold start). uint32 seeds give PRNGKey the bits Python ints give (tested).
    return TrainState(*jax.jit(jax.vmap(one))(np.asarray(seeds, np.uint32)))


# --- the engine --------------------------------------------------------------------------------


class Engine:
    """Compiled epoch and evaluation programs for one model, config and training set size."""

    def __init__(
        self,
        model: Model,
        config: TrainConfig,
        *,
        n_train: int,
        image_shape,
        num_classes: int,
        norm: NormStats | None = None,
        sweep: Sequence[TrainConfig] | None = None,
    ):
        # ``sweep``: the points of one program (``config`` is ignored then; points[0] shapes it).
        # resolve: per-optimizer defaults, so a hand-made config works as given.
        self.points = _points.check_sweep(sweep) if sweep else (resolve(config),)
        config = self.points[0]
        self.model, self.config = model, config
        self.n_train, self.num_classes = n_train, num_classes
        self.image_shape = tuple(image_shape)
        self.seeds = tuple(s for c in self.points for s in c.seeds)
        self.param_dtype = jnp.float64 if config.dtype == "float64" else jnp.float32
        self.compute_dtype = COMPUTE_DTYPES[config.dtype]
        # A pass over the training set; an "epoch" of the loop is one pass, or with --steps one
        # chunk of --eval-every steps that may start and end inside a pass.
        self.steps_per_pass = num_batches(n_train, config.batch_size, drop_last=config.drop_last)
        self.steps_per_epoch = config.eval_every if config.steps else self.steps_per_pass
        self.loss_name = resolve_loss(config, model.kind)
        # Each point's own schedule and optimizer, built as its run alone builds them.
        self.schedules, self.txs = _points.optimizers(self.points, self.steps_per_epoch)
        self.schedule, self.tx = self.schedules[0], self.txs[0]
        # Per-member values of a sweep (None for one point): arguments of the compiled epoch.
        self.hyper = _points.hyper_values(self.points, self.param_dtype)
        self.member_loop = _points.MEMBER_LOOP.get(jax.default_backend(), False)
        self.prepare = make_prepare(config.preprocess, norm, model.input_layout, self.param_dtype)
        self.per_example = make_per_example(model, self.loss_name, self.compute_dtype, num_classes)
        self._epoch_fn = None
        self._eval_fns: dict[int, Any] = {}
        self.compile_seconds = 0.0
        self.traces = 0  # incremented while tracing; a test checks it stays at one per program
        # Where it runs: the mesh of --devices and --mesh (None on one device), checked here.
        self.layout = plan(len(self.seeds), config.devices, config.mesh)
        if self.hyper is not None and self.layout.mesh is not None:
            raise ConfigError("a sweep runs on one device; train its configs as separate runs with --devices")

    def lr_at(self, step: int, point: int = 0) -> float:
        """Point ``point``'s learning rate at ``step`` (records), compiled once: op by op a
        schedule compiles a dozen tiny programs, half a second of a cold start."""
        fns = self.__dict__.setdefault("_lr_fns", {})
        if point not in fns:
            fns[point] = jax.jit(self.schedules[point])
        return float(fns[point](np.int32(step)))

    @property
    def input_shape(self) -> tuple[int, ...]:
        h, w = self.image_shape
        return {"flat": (1, h * w), "NHWC": (1, h, w, 1), "NCHW": (1, 1, h, w)}[self.model.input_layout]

    def init(self) -> TrainState:
        """The initial state, computed on one device whatever the mesh (so it is the same on any)."""
        state = init_state(self.model, self.tx, self.seeds, self.input_shape, self.param_dtype)
        if self.hyper is not None:  # one optimizer state serves every point: same structure, zeros
            _points.check_same_state(self.txs, jax.tree.map(lambda a: a[0], state.params))
        return state

    # where the arrays live --------------------------------------------------------------------

    def place_state(self, state: TrainState) -> TrainState:
        """``state`` (on a device or from a checkpoint) split over the mesh's ``members`` axis."""
        if self.layout.mesh is None:
            return state
        return place(state, self.layout.mesh, P(MEMBERS))

    def place_data(self, array):
        """A dataset array on every device of the mesh (each process fills only its own)."""
        if self.layout.mesh is None:
            return jax.device_put(array)
        return place(array, self.layout.mesh, P())

    def host_state(self, state: TrainState) -> TrainState:
        """``state`` readable by this process: itself in one process; gathered (a collective)
        when other processes hold some of it."""
        if self.layout.mesh is None or jax.process_count() == 1:
            return state
        return to_host(state)

    def _scalar(self, value: int):
        return jnp.int32(value) if self.layout.mesh is None else place(np.int32(value), self.layout.mesh, P())

    # one seed ---------------------------------------------------------------------------------

    def objective(self, params, x, y, mask, hyper=None):
        """What training differentiates for one seed: ``(total, (loss_sum, correct))``.

        ``total`` is the mean per-example loss over the rows of ``mask`` plus the penalties
        (:meth:`add_penalty`); ``x`` is prepared input (:attr:`prepare`), ``y`` the labels.
        """
        loss, correct = self.per_example(params, x, y)
        w = mask.astype(loss.dtype)
        loss_sum = (loss * w).sum()
        total = self.add_penalty(loss_sum / jnp.maximum(w.sum(), 1), params, hyper)
        return total, (loss_sum, (correct * w).sum())

    def add_penalty(self, value, params, hyper=None):
        """``value`` plus the run's ``--l2`` and ``--l1`` terms (in that order), as training adds them.

        The studies add the penalty to the loss (S1: lambda * sum theta^2), so it is part of what
        is differentiated; decoupled weight decay lives in the optimizer instead. ``hyper``: this
        member's values in a sweep.
        """
        if hyper is not None:
            return _points.add_penalty(self.points, value, params, hyper)
        if self.config.l2:
            value = value + self.config.l2 * _losses.l2_penalty(params)
        if self.config.l1:
            value = value + self.config.l1 * _losses.l1_penalty(params)
        return value

    def batch_order(self, shuffle_key, epoch):
        """The batches of ``epoch``: indices and mask, each ``(steps_per_epoch, batch_size)``.

        Pass ``p`` is always ``batch_indices(fold_in(shuffle_key, p))``. An epoch is pass
        ``epoch``; with ``--steps`` it is chunk ``epoch`` of K steps: global step ``g`` is batch
        ``g % steps_per_pass`` of pass ``g // steps_per_pass`` (the epoch-based order cut into
        chunks, whatever K is); the passes a chunk touches (a static count) are drawn once.
        """
        cfg, spp = self.config, self.steps_per_pass

        def one_pass(p):
            key = jax.random.fold_in(shuffle_key, p)
            return batch_indices(key, self.n_train, cfg.batch_size, drop_last=cfg.drop_last)

        if not cfg.steps:
            return one_pass(epoch)
        k = self.steps_per_epoch
        first = epoch * k
        p0 = first // spp
        spans = (k + spp - 2) // spp + 1  # at most this many passes, whatever the offset in a pass
        # vmapped: one batched shuffle to compile, not one per pass (0.3 s for a 5-pass chunk)
        idx, mask = jax.vmap(one_pass)(p0 + jnp.arange(spans))
        g = first + jnp.arange(k)
        return idx[g // spp - p0, g % spp], mask[g // spp - p0, g % spp]

    def examples_in(self, epoch: int) -> int:
        """Examples trained on in ``epoch`` (a kept last partial batch counts its real rows)."""
        cfg, spp, b = self.config, self.steps_per_pass, self.config.batch_size
        full = self.steps_per_epoch * b
        short = spp * b - self.n_train  # padded rows of a pass's last batch (0 with --drop-last)
        if cfg.drop_last or short <= 0:
            return full
        first = epoch * self.steps_per_epoch
        last_batches = (first + self.steps_per_epoch) // spp - first // spp
        return full - last_batches * short

    def update(self, grads, opt_state, params, hyper=None):
        """The optimizer step; in a sweep, the member's own point's optimizer (``_points``)."""
        if hyper is None:
            return self.tx.update(grads, opt_state, params)
        return _points.switch_update(self.txs, grads, opt_state, params, hyper)

    def _epoch_one(self, params, opt_state, shuffle_key, epoch, images, labels, hyper=None):
        idx, mask = self.batch_order(shuffle_key, epoch)

        def step(carry, batch):
            params, opt_state = carry
            i, m = batch
            x, y = self.prepare(images[i]), labels[i]
            (total, (loss_sum, correct)), grads = jax.value_and_grad(self.objective, has_aux=True)(
                params, x, y, m, hyper
            )
            updates, opt_state = self.update(grads, opt_state, params, hyper)
            return (optax.apply_updates(params, updates), opt_state), (total, loss_sum, correct)

        (params, opt_state), (totals, loss_sums, corrects) = _progress.scan(
            self, step, (params, opt_state), (idx, mask)
        )
        return params, opt_state, totals, loss_sums.sum(), corrects.sum()

    def _eval_one(self, params, images, labels, idx, mask):
        def body(acc, batch):
            i, m = batch
            loss, correct = self.per_example(params, self.prepare(images[i]), labels[i])
            w = m.astype(loss.dtype)
            return (acc[0] + (loss * w).sum(), acc[1] + (correct * w).sum()), None

        zero = jnp.zeros((), jax.tree.leaves(params)[0].dtype)
        (loss_sum, correct), _ = lax.scan(body, (zero, zero), (idx, mask))
        return loss_sum, correct

    # all seeds --------------------------------------------------------------------------------

    def _per_seed(self, fn, in_axes):
        """``fn`` over the seed axis: vmapped for several seeds, plain for one (see ``over_seeds``)."""
        return over_seeds(fn, len(self.seeds) > 1, in_axes)

    def _epoch_all(self, state: TrainState, epoch, images, labels, *hyper):
        self.traces += 1
        fn = self._per_seed(self._epoch_one, (0, 0, 0, None, None, None, *(0 for _ in hyper)))
        if hyper and self.member_loop:  # one member after another inside the program (_points)
            fn = _points.member_loop(self._epoch_one)
        params, opt_state, totals, loss_sum, correct = fn(
            state.params, state.opt_state, state.shuffle_key, epoch, images, labels, *hyper
        )
        return TrainState(params, opt_state, state.shuffle_key), totals, loss_sum, correct

    def _eval_all(self, params, images, labels, idx, mask):
        self.traces += 1
        return self._per_seed(self._eval_one, (0, None, None, None, None))(params, images, labels, idx, mask)

    def compile_epoch(self, state: TrainState, images, labels):
        if self._epoch_fn is None:
            t = time.perf_counter()
            program = self._epoch_all if self.layout.mesh is None else _sharded.epoch_program(self)
            self._epoch_fn = (
                jax.jit(program).lower(state, self._scalar(0), images, labels, *self._hyper()).compile()
            )
            self.compile_seconds += time.perf_counter() - t
        return self._epoch_fn

    def run_epoch(self, state: TrainState, epoch: int, images, labels):
        """One pass over the training set for every seed: ``(state, step_totals, loss_sum, correct)``."""
        fn = self.compile_epoch(state, images, labels)
        return fn(state, self._scalar(epoch), images, labels, *self._hyper())

    def _hyper(self) -> tuple:
        return () if self.hyper is None else (self.hyper,)

    def evaluate(self, params, images, labels) -> tuple[np.ndarray, np.ndarray]:
        """Mean loss and accuracy over EVERY example, per seed: two arrays of shape (seeds,)."""
        n = int(images.shape[0])
        idx, mask = eval_indices(n, self.config.eval_batch_size)
        key = (tuple(images.shape), idx.shape)  # one program per evaluation set size
        if self.layout.mesh is not None:
            idx, mask = _sharded.eval_inputs(self.layout, idx, mask)
        if key not in self._eval_fns:
            program = self._eval_all if self.layout.mesh is None else _sharded.eval_program(self)
            t = time.perf_counter()
            self._eval_fns[key] = jax.jit(program).lower(params, images, labels, idx, mask).compile()
            self.compile_seconds += time.perf_counter() - t
        loss_sum, correct = self._eval_fns[key](params, images, labels, idx, mask)
        return np.asarray(loss_sum, np.float64) / n, np.asarray(correct, np.float64) / n
