"""(a) The network in NumPy with hand-written forward and backward passes.

``form="batched"`` computes each weight gradient as ONE matrix product over the batch
(``a.T @ delta``), which BLAS runs at full speed. ``form="einsum"`` computes the same sum as
per-example outer products (``einsum("bi,bj->bij")`` then a sum over the batch), the way the
textbook derivation reads; it is kept only so its cost can be measured next to the batched form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._checks import Options, check
from ._common import Layer, Params

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Float, Int

FORMS = ("batched", "einsum")


def check_form(form: str) -> str:
    return check("form", form, [Options(FORMS)])


def log_softmax(z: Float[np.ndarray, "n k"]) -> Float[np.ndarray, "n k"]:
    # Shifting by the row maximum keeps exp from overflowing; the result is unchanged.
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _forward(params: Params, x):
    """Logits and the input of every layer (the backward pass needs them)."""
    inputs = []
    h = x
    for i, layer in enumerate(params):
        inputs.append(h)
        h = h @ layer.w + layer.b
        if i < len(params) - 1:
            h = np.maximum(h, 0)
    return h, inputs


def forward(params: Params, x: Float[np.ndarray, "n d"]) -> Float[np.ndarray, "n k"]:
    """The logits of ``x``."""
    return _forward(params, x)[0]


def loss_and_grad(
    params: Params, x: Float[np.ndarray, "n d"], y: Int[np.ndarray, " n"], *, form: str = "batched"
) -> tuple[float, Params]:
    """Mean cross-entropy over the batch and its gradient, by hand-written backpropagation."""
    check_form(form)
    n = x.shape[0]
    rows = np.arange(n)
    logits, inputs = _forward(params, x)
    logp = log_softmax(logits)
    loss = float(-logp[rows, y].mean())
    # d(mean CE)/d(logits) = (softmax - one_hot) / n: softmax and cross-entropy differentiated
    # together, which is both simpler and better conditioned than chaining the two.
    delta = np.exp(logp)
    delta[rows, y] -= 1
    delta /= n
    grads = []
    for i in range(len(params) - 1, -1, -1):
        a = inputs[i]
        # Both forms compute sum over examples of outer(a_b, delta_b); only the cost differs.
        gw = a.T @ delta if form == "batched" else np.einsum("bi,bj->bij", a, delta).sum(axis=0)
        grads.append(Layer(gw, delta.sum(axis=0)))
        if i:
            # a = relu(pre), so relu'(pre) is (a > 0); no need to keep the pre-activations.
            delta = (delta @ params[i].w.T) * (a > 0)
    return loss, tuple(reversed(grads))


def sgd_update(params: Params, grads: Params, lr: float) -> Params:
    lr = float(lr)  # a Python float keeps float32 arrays float32 (NumPy's weak scalar promotion)
    return tuple(Layer(p.w - lr * g.w, p.b - lr * g.b) for p, g in zip(params, grads, strict=True))


def sgd_epoch(
    params: Params,
    x: Float[np.ndarray, "n d"],
    y: Int[np.ndarray, " n"],
    idx: Int[np.ndarray, "steps batch"],
    mask: np.ndarray,
    lr: float,
    *,
    form: str = "batched",
    steps: int | None = None,
) -> tuple[Params, Float[np.ndarray, " steps"]]:
    """One pass of SGD over the batches ``idx`` (only the entries ``mask`` marks); returns the new
    parameters and each step's batch loss. ``steps`` stops after that many steps (for timing the
    slow einsum form on part of an epoch)."""
    check_form(form)
    count = len(idx) if steps is None else min(int(steps), len(idx))
    losses = np.empty(count)
    for s in range(count):
        sel = idx[s][mask[s]]
        losses[s], grads = loss_and_grad(params, x[sel], y[sel], form=form)
        params = sgd_update(params, grads, lr)
    return params, losses


def evaluate(
    params: Params, x: Float[np.ndarray, "n d"], y: Int[np.ndarray, " n"], *, chunk: int = 10_000
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over every example, in chunks to bound memory."""
    ce, correct = 0.0, 0
    for start in range(0, len(x), chunk):
        logp = log_softmax(forward(params, x[start : start + chunk]))
        yy = y[start : start + chunk]
        ce -= float(logp[np.arange(len(yy)), yy].sum(dtype=np.float64))
        correct += int((logp.argmax(axis=1) == yy).sum())
    return ce / len(x), correct / len(x)


def predict(params: Params, x: Float[np.ndarray, "n d"], *, chunk: int = 10_000) -> Int[np.ndarray, " n"]:
    """The predicted class of each row of ``x``."""
    return np.concatenate(
        [forward(params, x[s : s + chunk]).argmax(axis=1) for s in range(0, len(x), chunk)]
    ).astype(np.int32)
