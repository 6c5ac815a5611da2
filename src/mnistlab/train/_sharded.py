"""The engine's programs on a mesh ``members x data``: ``jax.shard_map`` of the one-device ones.

Why ``shard_map`` with explicit collectives rather than sharding annotations left to XLA: what
each device computes is then written down. A device holds ``members / M`` members (their
parameters, optimizer state and shuffle keys) and a copy of the uint8 dataset:

- members only (``data == 1``): each device runs exactly the one-device epoch on its members,
  so their arithmetic is unchanged and the results are bit-identical;
- data parallel (``data > 1``): every device of a member draws the same shuffled batch, keeps its
  own slice of it (``axis_index``), computes the gradient of its slice's share of the mean loss
  and the slices' gradients are summed (``psum``). The sum's order differs from one device's, so
  results agree to float rounding, not bit for bit.

Why the dataset is copied to every device rather than split: the epoch's order is a global
shuffle drawn inside the program (exact resume, same batches on any device count), so any device
may need any example; MNIST-size data is 47 MB of uint8, small beside a GPU's memory. Each
process places it only on its own devices; each device gathers, prepares and differentiates only
its slice of every batch.

The per-step losses and per-member sums are gathered over ``members`` inside the program, so
they come back replicated and every process can read them.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax
from jax.sharding import PartitionSpec as P

from .._compute import over_seeds
from ..parallel import DATA, MEMBERS, place
from . import _progress


def _pad_columns(idx, mask, multiple: int):
    """Pad ``(rows, B)`` indices and mask with masked columns up to a multiple of ``multiple``."""
    extra = -idx.shape[1] % multiple
    if not extra:
        return idx, mask
    pad = [(0, 0), (0, extra)]
    return jnp.pad(idx, pad), jnp.pad(mask, pad)


def _my_columns(a, parts: int):
    """This device's slice along axis 1 of ``a``, which is split in ``parts`` along ``data``."""
    width = a.shape[1] // parts
    return lax.dynamic_slice_in_dim(a, lax.axis_index(DATA) * width, width, axis=1)


def _epoch_one_split(engine, params, opt_state, shuffle_key, epoch, images, labels):
    """One member's epoch with each batch split over ``data`` (the data-parallel epoch)."""
    cfg, parts = engine.config, engine.layout.data
    idx, mask = engine.batch_order(shuffle_key, epoch)  # the one-device order, --steps included
    idx, mask = _pad_columns(idx, mask, parts)
    idx, mask = _my_columns(idx, parts), _my_columns(mask, parts)
    penalised = bool(cfg.l1 or cfg.l2)

    def step(carry, batch):
        params, opt_state = carry
        i, m = batch
        x, y = engine.prepare(images[i]), labels[i]
        dtype = jax.tree.leaves(params)[0].dtype
        count = jnp.maximum(lax.psum(m.sum(), DATA), 1).astype(dtype)

        def share(p):  # this slice's part of the batch's mean loss
            loss, correct = engine.per_example(p, x, y)
            w = m.astype(loss.dtype)
            loss_sum = (loss * w).sum()
            return loss_sum / count, (loss_sum, (correct * w).sum())

        (_, (loss_sum, correct)), grads = jax.value_and_grad(share, has_aux=True)(params)
        grads, loss_sum, correct = lax.psum((grads, loss_sum, correct), DATA)
        total = loss_sum / count
        if penalised:  # the penalty is the member's, not the slice's: added once, after the sum
            penalty, pgrads = jax.value_and_grad(engine.add_penalty, argnums=1)(jnp.zeros((), dtype), params)
            total, grads = total + penalty, jax.tree.map(jnp.add, grads, pgrads)
        updates, opt_state = engine.tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (total, loss_sum, correct)

    (params, opt_state), (totals, loss_sums, corrects) = _progress.scan(
        engine, step, (params, opt_state), (idx, mask)
    )
    return params, opt_state, totals, loss_sums.sum(), corrects.sum()


def _several_here(engine) -> bool:
    """Whether a device holds several members (vmapped) or one (the plain single-seed program):
    a device computes its members exactly as one device given only those members would."""
    return len(engine.seeds) // engine.layout.members > 1


def _gathered(*arrays):
    return tuple(lax.all_gather(a, MEMBERS, tiled=True) for a in arrays)


def epoch_program(engine):
    """``(state, epoch, images, labels) -> (state, totals, loss_sum, correct)`` on the mesh."""
    from ._engine import TrainState

    mesh, several = engine.layout.mesh, _several_here(engine)
    split = engine.layout.data > 1
    one = functools.partial(_epoch_one_split, engine) if split else engine._epoch_one

    def local(params, opt_state, shuffle_key, epoch, images, labels):
        fn = over_seeds(one, several, (0, 0, 0, None, None, None))
        params, opt_state, *sums = fn(params, opt_state, shuffle_key, epoch, images, labels)
        return (params, opt_state, *_gathered(*sums))

    m, r = P(MEMBERS), P()
    mapped = jax.shard_map(
        local, mesh=mesh, in_specs=(m, m, m, r, r, r), out_specs=(m, m, r, r, r), check_vma=False
    )

    def program(state, epoch, images, labels):
        engine.traces += 1
        params, opt_state, totals, loss_sum, correct = mapped(
            state.params, state.opt_state, state.shuffle_key, epoch, images, labels
        )
        return TrainState(params, opt_state, state.shuffle_key), totals, loss_sum, correct

    return program


def eval_program(engine):
    """``(params, images, labels, idx, mask) -> (loss_sum, correct)`` per member, on the mesh;
    ``idx`` and ``mask`` are split over ``data`` (see :func:`eval_inputs`)."""
    mesh, several = engine.layout.mesh, _several_here(engine)

    def local(params, images, labels, idx, mask):
        fn = over_seeds(engine._eval_one, several, (0, None, None, None, None))
        loss_sum, correct = lax.psum(fn(params, images, labels, idx, mask), DATA)
        return _gathered(loss_sum, correct)

    m, r, d = P(MEMBERS), P(), P(None, DATA)
    mapped = jax.shard_map(local, mesh=mesh, in_specs=(m, r, r, d, d), out_specs=(r, r), check_vma=False)

    def program(params, images, labels, idx, mask):
        engine.traces += 1
        return mapped(params, images, labels, idx, mask)

    return program


def eval_inputs(layout, idx: np.ndarray, mask: np.ndarray):
    """Evaluation chunks padded (masked) to a multiple of ``data`` and split over it."""
    parts = layout.data
    width = math.ceil(idx.shape[1] / parts) * parts
    pad = [(0, 0), (0, width - idx.shape[1])]
    idx, mask = np.pad(idx, pad), np.pad(mask, pad)
    return place(idx, layout.mesh, P(None, DATA)), place(mask, layout.mesh, P(None, DATA))
