"""Probing a run's model beyond its scores: untrained copies' accuracies and the weight gradients.

Study S8 histograms the accuracies of freshly initialised networks; the report draws the gradient
of the training objective with respect to each weight matrix.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

import numpy as np

from .._checks import Interval, check
from .._compute import chunk_size, eval_indices, padded_chunks, precision
from .._errors import ConfigError
from ..data import Dataset
from ._load import LoadedRun, check_dataset, nonempty
from ._metrics import check_count

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Float

# --- untrained networks ---------------------------------------------------------------------------


def _activation_elements(engine, param_shapes) -> int:
    """Elements the forward pass of ONE example produces, summed over its operations: an upper
    bound on the memory one (example, model) pair needs, to size the chunks of a vmapped pass."""
    import jax

    shape = (1, *engine.input_shape[1:])
    x = jax.ShapeDtypeStruct(shape, engine.param_dtype)
    jaxpr = jax.make_jaxpr(engine.model.apply)(param_shapes, x)
    total = sum(
        int(np.prod(v.aval.shape)) for eqn in jaxpr.eqns for v in eqn.outvars if hasattr(v.aval, "shape")
    )
    return max(total, 1)


def _init_program(run: LoadedRun):
    """The jitted ``(keys, images, labels, idx, mask) -> correct counts (n,)``, made once per run.

    The chunks are a ``lax.scan`` over :func:`~mnistlab._compute.eval_indices` inside the program,
    so the data crosses to the device once however many chunks there are.
    """
    if "init" in run._programs:
        return run._programs["init"]
    import jax
    import jax.numpy as jnp
    from jax import lax

    engine, model = run.engine, run.engine.model

    def program(keys, images, labels, idx, mask):
        run._programs["init_traces"] = run._programs.get("init_traces", 0) + 1

        def init(k):
            return jax.tree.map(lambda a: a.astype(engine.param_dtype), model.init(k, engine.input_shape))

        params = jax.vmap(init)(keys)

        def body(total, batch):
            i, m = batch
            x, y = engine.prepare(images[i]), labels[i]
            correct = jax.vmap(lambda p: engine.per_example(p, x, y)[1])(params)  # (n, chunk)
            return total + (correct.astype(jnp.int32) * m).sum(axis=1, dtype=jnp.int32), None

        total, _ = lax.scan(body, jnp.zeros(keys.shape[0], jnp.int32), (idx, mask))
        return total

    run._programs["init"] = jax.jit(program)
    return run._programs["init"]


def init_accuracies(
    run: LoadedRun, dataset: Dataset, *, n: int = 100, key, chunk: int | None = None
) -> Float[np.ndarray, " n"]:
    """Accuracy on ``dataset`` of ``n`` freshly initialised, untrained copies of the run's model.

    ONE jitted program: ``jax.vmap(model.init)`` over ``jax.random.split(key, n)``, then a scan over
    fixed-size chunks of the data, each scored by all ``n`` models at once (vmap). ``chunk``
    (examples per step) defaults to what keeps the activations of the ``n`` models within about
    256 MB. Study S8 histograms this: for a binary model it is spread around 50%.
    """
    import jax

    if run.kind == "autoencoder":
        raise ConfigError(f"{run.run_dir} is an autoencoder; init_accuracies needs a classifier run")
    dataset = check_dataset(run, dataset)
    n = check_count("n", n, 1)
    nonempty(dataset)
    if isinstance(key, int) and not isinstance(key, bool):
        key = jax.random.PRNGKey(key)
    engine, model = run.engine, run.engine.model
    with precision(run.config.dtype):
        if chunk is None:  # XLA may keep every activation of a chunk for all n models at once
            shapes = jax.eval_shape(lambda k: model.init(k, engine.input_shape), jax.random.PRNGKey(0))
            per_pair = _activation_elements(engine, shapes) * np.dtype(engine.param_dtype).itemsize
            chunk = int(np.clip((256 << 20) // (n * per_pair), 1, run.config.eval_batch_size))
        chunk = check_count("chunk", chunk, 1)
        idx, mask = eval_indices(len(dataset), chunk)
        counts = _init_program(run)(
            jax.random.split(key, n),
            jax.device_put(np.asarray(dataset.images)),
            jax.device_put(np.asarray(dataset.labels, np.int32)),
            idx,
            mask,
        )
    return np.asarray(counts, np.float64) / len(dataset)


# --- gradients ------------------------------------------------------------------------------------


def _path_name(path) -> str:
    parts = []
    for p in path:
        for attr in ("key", "name", "idx"):
            if hasattr(p, attr):
                parts.append(str(getattr(p, attr)))
                break
        else:
            parts.append(str(p))
    if len(parts) > 1 and parts[0] == "params":  # Flax's collection name says nothing here
        parts = parts[1:]
    return "/".join(parts)


def weight_gradients(
    run: LoadedRun, dataset: Dataset, *, batch: int | None = None, seed_index: int = 0
) -> dict[str, np.ndarray]:
    """The gradient of the run's training objective with respect to each weight matrix.

    The objective is what training differentiates (:meth:`~mnistlab.train.Engine.objective`): the
    mean per-example loss over the first ``batch`` examples of ``dataset`` (all of them by default)
    plus the run's ``--l2`` / ``--l1`` penalties, at the parameters of seed number ``seed_index``
    of the run. Keys are layer paths such as ``"hidden_0/kernel"``; values have the kernel's shape
    (a convolution's is ``(height, width, in, out)``). Biases are left out.
    """
    import jax
    import jax.numpy as jnp

    dataset = check_dataset(run, dataset)
    seeds = len(run.config.seeds)
    hint = f" (the run has {seeds} seed{'s' if seeds > 1 else ''})"
    seed_index = operator.index(check("seed_index", seed_index, [Interval(int, 0, seeds - 1)], hint=hint))
    m = len(dataset) if batch is None else min(check_count("batch", batch, 1), len(dataset))
    nonempty(dataset)
    engine, cfg = run.engine, run.config
    images = np.asarray(dataset.images[:m])
    labels = np.asarray(dataset.labels[:m], np.int32)
    size = chunk_size(m, cfg.eval_batch_size)
    with precision(cfg.dtype):
        params = jax.tree.map(lambda a: a[seed_index], run.params)
        if m <= size:
            # One chunk: the engine's own objective, so this is exactly what a training step sees.
            grads = jax.jit(jax.grad(lambda p, x, y: engine.objective(p, engine.prepare(x), y, y >= 0)[0]))(
                params, jnp.asarray(images), jnp.asarray(labels)
            )
        else:
            # Larger sets in bounded memory: the mean's gradient is the sum of the chunks' summed
            # losses' gradients over m, plus the penalties' gradient once.
            def chunk_sum(p, x, y, w):
                loss, _ = engine.per_example(p, engine.prepare(x), y)
                return (loss * w.astype(loss.dtype)).sum()

            grad_sum = jax.jit(jax.grad(chunk_sum))
            grads = jax.tree.map(jnp.zeros_like, params)
            for (x, y), real in padded_chunks([images, labels], size):
                grads = jax.tree.map(jnp.add, grads, grad_sum(params, x, y, np.arange(size) < real))
            grads = jax.tree.map(lambda g: g / m, grads)
            if cfg.l2 or cfg.l1:
                penalty = jax.grad(lambda p: engine.add_penalty(0.0, p))
                grads = jax.tree.map(jnp.add, grads, penalty(params))
        leaves = jax.tree_util.tree_flatten_with_path(grads)[0]
    return {_path_name(path): np.asarray(g) for path, g in leaves if _path_name(path).endswith("kernel")}
