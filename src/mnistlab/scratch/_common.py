"""What the three implementations share: the network's shape, its initial parameters, the batch
order of every epoch and the learning rate of every epoch.

Everything here is computed ONCE, in NumPy, and handed to each implementation, so that any
difference between them is a difference of implementation, never of starting point or data order.
"""

from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._checks import Interval, Items, Options, check, check_params

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Bool, Float, Int

# Study S9's network: 784 pixels -> 500 -> 250 (ReLU) -> 10 logits (softmax + cross-entropy).
HIDDEN = (500, 250)
SIZES = (784, *HIDDEN, 10)
DTYPES = ("float32", "float64")
COUNT = Interval(int, 1)
LAYER_SIZES = Items(COUNT, min_len=2, name="sequence")  # at least an input and an output
RATE = Interval(float, 0, None, closed="neither")
ANNEAL = Interval(float, 0, 1, closed="right")


class Layer(NamedTuple):
    """One dense layer, ``x @ w + b``. A NamedTuple is a JAX pytree, so the same structure holds
    NumPy arrays for the NumPy implementation and JAX arrays for the JAX ones."""

    w: Float[np.ndarray, "fan_in fan_out"]
    b: Float[np.ndarray, " fan_out"]


Params = tuple[Layer, ...]


class BatchPlan(NamedTuple):
    """The batches of every epoch: ``idx[e, s]`` are the example indices of step ``s`` of epoch
    ``e``; ``mask`` marks the real ones (the last batch of an epoch is padded when the batch size
    does not divide the number of examples)."""

    idx: Int[np.ndarray, "epochs steps batch"]
    mask: Bool[np.ndarray, "epochs steps batch"]

    @property
    def epochs(self) -> int:
        return self.idx.shape[0]

    @property
    def steps_per_epoch(self) -> int:
        return self.idx.shape[1]

    @property
    def batch_size(self) -> int:
        return self.idx.shape[2]


def check_dtype(dtype) -> str:
    """``dtype`` as ``"float32"`` or ``"float64"``, else a :class:`ConfigError`."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    check("dtype", name, [Options(DTYPES)])
    return name


def precision(dtype: str):
    """A context in which JAX can hold ``dtype`` arrays (x64 only for float64, only inside)."""
    from .._compute import precision as _precision

    return _precision(check_dtype(dtype))


def run_once(fn, *args):
    """``jax.jit(fn)(*args)`` for a program run once: compiled without XLA's backend optimisations.

    Random draws are bit operations (threefry) that XLA:CPU otherwise spends seconds optimising
    (3 s for S9's 520k initial weights, against 0.5 s unoptimised); the results are identical.
    """
    import jax

    compiled = jax.jit(fn).lower(*args).compile(compiler_options={"xla_backend_optimization_level": 0})
    return compiled(*args)


def init_params(key, sizes=SIZES, *, init_range: float = 1.0, dtype: str = "float32") -> Params:
    """S9's initial parameters, drawn once from ``key``, as NumPy arrays of ``dtype``.

    ``W = 4.9 * (U[0,1) - 0.5) * init_range / sqrt(fan_in + fan_out)``, ``b = 0``: the project's
    ``s9`` initialiser (:func:`mnistlab.models.initializers`), so a Flax model built with ``--init s9``
    from the same per-layer keys starts from the same weights.
    """
    import jax

    from ..models import initializers

    dtype = check_dtype(dtype)
    check("sizes", sizes, [LAYER_SIZES], hint="; e.g. (784, 10)")
    sizes = tuple(operator.index(s) for s in sizes)
    kernel_init, _ = initializers("s9", init_range)
    shapes = list(itertools.pairwise(sizes))

    def draw(key):
        keys = jax.random.split(key, len(shapes))
        return [kernel_init(k, shape, dtype) for k, shape in zip(keys, shapes, strict=True)]

    with precision(dtype):  # float64 draws need x64; only inside, so other code is unaffected
        kernels = run_once(draw, key)
        return tuple(Layer(np.asarray(w), np.zeros(w.shape[1], dtype)) for w in kernels)


def batch_plan(key, n: int, batch_size: int, epochs: int) -> BatchPlan:
    """Every epoch's batch order: epoch ``e`` is a permutation of the ``n`` examples drawn from
    ``fold_in(key, e)`` (the training engine's rule), cut into batches, the last one kept and
    padded. Same key, same order; another key, another order."""
    import jax

    from ..data import batch_indices

    check_params(
        {"n": n, "batch_size": batch_size, "epochs": epochs},
        {"n": [COUNT], "batch_size": [COUNT], "epochs": [COUNT]},
    )
    n, batch_size, epochs = operator.index(n), operator.index(batch_size), operator.index(epochs)

    def one(e):
        return batch_indices(jax.random.fold_in(key, e), n, batch_size)

    # Epoch e's order is the training engine's fold_in(key, e) one, every epoch in one program.
    idx, mask = run_once(jax.vmap(one), np.arange(epochs))
    return BatchPlan(np.asarray(idx, np.int32), np.asarray(mask, bool))


def lr_schedule(lr: float, anneal: float, epochs: int) -> Float[np.ndarray, " epochs"]:
    """The learning rate of each epoch: ``lr * anneal**e`` (S9's per-epoch annealing)."""
    check_lr_anneal(lr, anneal)
    return lr * anneal ** np.arange(epochs, dtype=np.float64)


def check_lr_anneal(lr, anneal, *, lr_param: str = "lr", anneal_param: str = "anneal") -> None:
    check(lr_param, lr, [RATE], hint="; e.g. 0.1")
    check(
        anneal_param,
        anneal,
        [ANNEAL],
        hint=" (the factor lr is multiplied by after each epoch; 1 keeps it constant), e.g. 0.99",
    )


def as_numpy(params) -> Params:
    """``params`` (NumPy or JAX arrays) as NumPy arrays, same structure."""
    return tuple(Layer(np.asarray(layer.w), np.asarray(layer.b)) for layer in params)


def num_params(params) -> int:
    return int(sum(np.size(layer.w) + np.size(layer.b) for layer in params))
