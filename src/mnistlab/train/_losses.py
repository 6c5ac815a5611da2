"""Per-example losses, parameter penalties and accuracy helpers, all pure ``jax.numpy``.

Every loss returns one value per example, shape ``(B,)``, never a mean: the training engine pads
the last partial batch to full size and masks the padding out, so it must weight the examples
itself (``sum(loss * mask) / sum(mask)``). Penalties return a scalar over the whole parameter
tree; the engine adds ``coefficient * penalty(params)`` once per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from .._errors import ConfigError

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Array, ArrayLike, Bool, Float, Int, PyTree


def softmax_cross_entropy(
    logits: Float[Array, "batch classes"],
    targets: Int[ArrayLike, " batch"] | Float[ArrayLike, "batch classes"],
) -> Float[Array, " batch"]:
    """``-sum_k t_k log softmax(logits)_k`` per example.

    ``targets`` are either integer labels, shape ``(B,)``, or one-hot / probability rows, shape
    ``(B, K)``; integer labels give exactly the same values as their one-hot rows. The log-softmax
    subtracts the row maximum first, so logits of any size give finite losses and gradients.
    A label outside ``0..K-1`` gives NaN rather than a silent zero, so a label/model mismatch
    shows up in the loss curve.
    """
    logits = jnp.asarray(logits)
    targets = jnp.asarray(targets)
    if logits.ndim < 1:
        raise ConfigError(f"cross-entropy needs logits of shape (batch, classes); got shape {logits.shape}")
    log_p = jax.nn.log_softmax(logits, axis=-1)
    if targets.shape == logits.shape[:-1]:
        if not jnp.issubdtype(targets.dtype, jnp.integer):
            raise ConfigError(
                f"cross-entropy targets of shape {targets.shape} must be integer labels; got {targets.dtype}"
            )
        # mode="fill" turns an out-of-range label into NaN instead of clamping it to a real class.
        picked = jnp.take_along_axis(log_p, targets[..., None], axis=-1, mode="fill")
        return -picked[..., 0]
    if targets.shape == logits.shape:
        return -jnp.sum(targets.astype(log_p.dtype) * log_p, axis=-1)
    raise ConfigError(
        f"cross-entropy targets must be labels of shape {logits.shape[:-1]} or rows of shape "
        f"{logits.shape} matching the logits; got shape {targets.shape}"
    )


def binary_cross_entropy(
    z: Float[Array, " batch"], y: Int[ArrayLike, " batch"] | Float[ArrayLike, " batch"]
) -> Float[Array, " batch"]:
    """``log(1 + exp(-z * (2y - 1)))`` per example, for logits ``z`` and labels ``y`` in {0, 1}.

    Written exactly as study S8 writes it (``logaddexp(0, -z * (2y - 1))``); it equals
    ``-y log s - (1 - y) log(1 - s)`` with ``s = sigmoid(z)``, and ``logaddexp`` keeps it finite
    (and its gradient in [-1, 1]) for any ``z``.
    """
    z = jnp.asarray(z)
    y = jnp.asarray(y)
    if not jnp.issubdtype(z.dtype, jnp.inexact):
        z = z.astype(jnp.result_type(float))
    if z.shape != y.shape:
        raise ConfigError(
            f"binary cross-entropy needs logits and labels of the same shape; got {z.shape} and {y.shape}"
        )
    # Labels as the logits' dtype: int or bool labels would otherwise promote (or refuse) the product.
    sign = 2 * y.astype(z.dtype) - 1
    return jnp.logaddexp(0, -z * sign)


def squared_error(
    outputs: Float[Array, "batch ..."], targets: Float[ArrayLike, "batch ..."]
) -> Float[Array, " batch"]:
    """``0.5 * sum((outputs - targets)**2)`` over every axis but the first (study S11's cost)."""
    outputs = jnp.asarray(outputs)
    targets = jnp.asarray(targets)
    if outputs.shape != targets.shape:
        raise ConfigError(
            "squared error needs outputs and targets of the same shape; "
            f"got {outputs.shape} and {targets.shape}"
        )
    if outputs.ndim < 1:
        raise ConfigError("squared error needs a leading batch axis; got scalars")
    return 0.5 * jnp.sum(jnp.square(outputs - targets), axis=tuple(range(1, outputs.ndim)))


def _sum_leaves(fn: Callable[[Array], Array], params) -> Array:
    # A Python 0.0 start is weakly typed, so float64 parameters keep a float64 penalty and an empty
    # tree gives 0.0 rather than an error.
    total = 0.0
    for leaf in jax.tree_util.tree_leaves(params):
        total = total + jnp.sum(fn(jnp.asarray(leaf)))
    return jnp.asarray(total)


def l2_penalty(params: PyTree[Float[ArrayLike, "*shape"]]) -> Float[Array, ""]:
    """``sum(theta**2)`` over every leaf of ``params``: weights and biases alike.

    Study S1 adds ``lambda * sum(theta**2)``, so its coefficient is ``lambda`` (0.001). Study S8
    writes ``0.5 * lambda * ||theta||**2`` instead, so its coefficient is ``lambda / 2``
    (5e-13 for its lambda = 1e-12). No square root: the gradient is ``2 theta``.
    """
    return _sum_leaves(jnp.square, params)


def l1_penalty(params: PyTree[Float[ArrayLike, "*shape"]]) -> Float[Array, ""]:
    """``sum(|theta|)`` over every leaf of ``params`` (the L1 variant study S1 asks about)."""
    return _sum_leaves(jnp.abs, params)


LOSSES: dict[str, Callable[..., Array]] = {
    "cross-entropy": softmax_cross_entropy,
    "binary-cross-entropy": binary_cross_entropy,
    "squared-error": squared_error,
}


def get_loss(name: str) -> Callable[..., Array]:
    """The per-example loss called ``name``, else a :class:`ConfigError` listing the names."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown loss (--loss) {name!r}; choose one of: {', '.join(LOSSES)}") from None


ACCURACY_KINDS = ("classifier", "binary")


def correct(
    outputs: Float[Array, "batch ..."],
    labels: Int[ArrayLike, " batch"] | Float[ArrayLike, "batch ..."],
    kind: str,
) -> Bool[Array, " batch"]:
    """Per example, whether the prediction is right (mask and average it for an accuracy).

    ``"classifier"``: ``argmax(outputs) == label``, where ``labels`` are integers ``(B,)`` or
    one-hot / probability rows ``(B, K)`` (their argmax is the label). ``"binary"``: the
    prediction is ``z > 0``, which is ``sigmoid(z) > 0.5`` (S8's threshold) without computing the
    sigmoid; it is right when it equals ``label == 1``.
    """
    outputs = jnp.asarray(outputs)
    labels = jnp.asarray(labels)
    if kind == "classifier":
        if labels.shape == outputs.shape:
            labels = jnp.argmax(labels, axis=-1)
        if labels.shape != outputs.shape[:-1]:
            raise ConfigError(
                f"classifier accuracy needs labels of shape {outputs.shape[:-1]} or {outputs.shape}; "
                f"got {labels.shape}"
            )
        return jnp.argmax(outputs, axis=-1) == labels
    if kind == "binary":
        if labels.shape != outputs.shape:
            raise ConfigError(
                f"binary accuracy needs logits and labels of the same shape; got {outputs.shape} and "
                f"{labels.shape}"
            )
        # Labels may be bool, int or float 0/1; "> 0.5" reads all three the same way.
        return (outputs > 0) == (labels > 0.5)
    raise ConfigError(f"accuracy is defined for kinds {', '.join(ACCURACY_KINDS)}; got kind {kind!r}")
