"""(b) The same hand-written passes in JAX, and (c) the network differentiated by ``jax.grad``.

Both train through ONE compiled program per epoch: ``lax.scan`` over the epoch's batches, with the
whole training set on the device and each batch gathered inside the program. Compiling it ahead of
time (``jax.jit(f).lower(...).compile()``) measures compilation apart from running.

A batch carries per-example weights (``mask / number of real examples``), so the padded last
batch of an epoch is ignored and every batch is averaged over its real examples, exactly like the
NumPy implementation, which simply leaves the padding out.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
from jax import lax

from .._checks import Options, check
from ._common import Layer, Params

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Array, Bool, Float, Int

METHODS = ("manual", "autograd")


def check_method(method: str) -> str:
    return check("method", method, [Options(METHODS)])


def _forward(params: Params, x):
    inputs = []
    h = x
    for i, layer in enumerate(params):
        inputs.append(h)
        h = h @ layer.w + layer.b
        if i < len(params) - 1:
            h = jnp.maximum(h, 0)
    return h, inputs


def forward(params: Params, x: Float[Array, "n d"]) -> Float[Array, "n k"]:
    """The logits of ``x``."""
    return _forward(params, x)[0]


def _log_softmax(z):
    # Shifting by the row maximum keeps exp from overflowing; the result is unchanged.
    z = z - z.max(axis=1, keepdims=True)
    return z - jnp.log(jnp.exp(z).sum(axis=1, keepdims=True))


def cross_entropy(logits: Float[Array, "n k"], y: Int[Array, " n"]) -> Float[Array, " n"]:
    """Per-example cross-entropy of softmax(logits) against integer labels: the forward pass
    that ``jax.grad`` differentiates, written as one would without a backward pass in mind."""
    return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1)[:, 0]


def loss(params: Params, x: Float[Array, "n d"], y: Int[Array, " n"], weights: Float[Array, " n"]):
    """``sum(weights * cross-entropy)``: the batch mean when ``weights`` are ``mask / count``."""
    return (weights * cross_entropy(forward(params, x), y)).sum()


def manual_loss_and_grad(
    params: Params, x: Float[Array, "n d"], y: Int[Array, " n"], weights: Float[Array, " n"]
) -> tuple[Float[Array, ""], Params]:
    """:func:`loss` and its gradient by the hand-written backward pass (the NumPy one, in jnp)."""
    logits, inputs = _forward(params, x)
    logp = _log_softmax(logits)
    value = -(weights * jnp.take_along_axis(logp, y[:, None], axis=1)[:, 0]).sum()
    delta = (jnp.exp(logp) - jax.nn.one_hot(y, logits.shape[1], dtype=logp.dtype)) * weights[:, None]
    grads = []
    for i in range(len(params) - 1, -1, -1):
        a = inputs[i]
        grads.append(Layer(a.T @ delta, delta.sum(axis=0)))
        if i:
            delta = (delta @ params[i].w.T) * (a > 0)
    return value, tuple(reversed(grads))


def autograd_loss_and_grad(
    params: Params, x: Float[Array, "n d"], y: Int[Array, " n"], weights: Float[Array, " n"]
) -> tuple[Float[Array, ""], Params]:
    """:func:`loss` and its gradient by ``jax.value_and_grad``."""
    return jax.value_and_grad(loss)(params, x, y, weights)


_GRADS = {"manual": manual_loss_and_grad, "autograd": autograd_loss_and_grad}


def _batch_weights(m, dtype):
    m = m.astype(dtype)
    return m / jnp.maximum(m.sum(), 1)


def sgd_epoch(
    params: Params,
    x: Float[Array, "n d"],
    y: Int[Array, " n"],
    idx: Int[Array, "steps batch"],
    mask: Bool[Array, "steps batch"],
    lr: Float[Array, ""],
    *,
    method: str = "manual",
) -> tuple[Params, Float[Array, " steps"]]:
    """One pass of SGD over the batches ``idx``: new parameters and each step's batch loss.
    Traceable; ``method`` ("manual" or "autograd") picks how the gradient is computed."""
    grad_fn = _GRADS[check_method(method)]
    dtype = params[0].w.dtype

    def step(params, batch):
        i, m = batch
        value, grads = grad_fn(params, x[i], y[i], _batch_weights(m, dtype))
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

    return lax.scan(step, params, (idx, mask))


def optimizer_epoch(
    params: Params,
    opt_state,
    x: Float[Array, "n d"],
    y: Int[Array, " n"],
    idx: Int[Array, "steps batch"],
    mask: Bool[Array, "steps batch"],
    lr: Float[Array, ""],
    *,
    tx,
) -> tuple[Params, object, Float[Array, " steps"]]:
    """One pass with ``jax.grad`` gradients transformed by the Optax ``tx`` and scaled by ``-lr``.

    ``tx`` is a direction without a step size (``optax.scale_by_adam()``, ``optax.identity()``),
    so the learning rate is an argument and a per-epoch schedule needs no recompilation;
    ``scale_by_adam`` then ``-lr`` is exactly ``optax.adam(lr)``."""
    dtype = params[0].w.dtype

    def step(carry, batch):
        params, opt_state = carry
        i, m = batch
        value, grads = autograd_loss_and_grad(params, x[i], y[i], _batch_weights(m, dtype))
        updates, opt_state = tx.update(grads, opt_state, params)
        return (jax.tree.map(lambda p, u: p - lr * u, params, updates), opt_state), value

    (params, opt_state), values = lax.scan(step, (params, opt_state), (idx, mask))
    return params, opt_state, values


def scores(params: Params, x: Float[Array, "n d"], y: Int[Array, " n"]) -> tuple[Array, Array]:
    """Summed cross-entropy and number correct over every example (traceable)."""
    logits = forward(params, x)
    return cross_entropy(logits, y).sum(), (logits.argmax(axis=1) == y).sum()


def predict(params: Params, x: Float[Array, "n d"]) -> Int[Array, " n"]:
    """The predicted class of each row of ``x`` (traceable)."""
    return forward(params, x).argmax(axis=1)


def compile_ahead(fn, *args, **static) -> tuple[object, float]:
    """``jax.jit(fn)`` compiled for ``args`` now: the executable and the seconds it took.

    ``static`` keyword arguments are bound first (method, tx). The executable accepts only
    arguments of the same shapes and dtypes, so it can never silently recompile."""
    jitted = jax.jit(functools.partial(fn, **static) if static else fn)
    t = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return compiled, time.perf_counter() - t
