"""Finding the examples worth looking at, on plain arrays: the most confident right and wrong
predictions per class, study S8's clear and confusing examples, the highest-loss examples.

Every list is ordered most extreme first, ties broken by the lower index, so the same arrays always
give the same answer. Indices are positions in the arrays given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError
from ._metrics import _binary_labels, _float_vector, _same_length, check_probs
from ._metrics import check_count as _count

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import ArrayLike, Bool, Float, Int


def _top(values: np.ndarray, candidates: np.ndarray, k: int, *, largest: bool) -> list[int]:
    """The ``k`` candidates with the largest (or smallest) values, ties by index."""
    v = values[candidates]
    order = np.lexsort((candidates, -v if largest else v))  # last key sorts first
    return [int(i) for i in candidates[order[:k]]]


def confident_examples(
    probs: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"], k: int = 8
) -> dict[str, dict[int, list[int]]]:
    """Per TRUE class, the ``k`` most confident correct and the ``k`` most confidently wrong examples.

    ``{"correct": {class: [index, ...]}, "wrong": {class: [index, ...]}}`` with every class
    present (an empty list when there is nothing to show). A correct example's confidence is its
    probability of its own class; a wrong one's is the probability of the class it was wrongly
    given (``probs.argmax``, ties to the lower class as ``argmax`` breaks them).
    """
    p, y = check_probs(probs, labels)
    k = _count("k", k)
    pred = p.argmax(axis=1)
    conf = p.max(axis=1)
    out: dict[str, dict[int, list[int]]] = {"correct": {}, "wrong": {}}
    for c in range(p.shape[1]):
        members = y == c
        out["correct"][c] = _top(conf, np.flatnonzero(members & (pred == c)), k, largest=True)
        out["wrong"][c] = _top(conf, np.flatnonzero(members & (pred != c)), k, largest=True)
    return out


def binary_extremes(
    scores: Float[ArrayLike, " n"], labels: Int[ArrayLike, " n"] | Bool[ArrayLike, " n"], n: int = 5
) -> dict[str, list[int]]:
    """Study S8's four rows of ``n`` examples, for a binary model's outputs ``scores``.

    - ``clear_positives``: the largest scores among label-1 examples, largest first;
    - ``clear_negatives``: the smallest among label-0 examples, smallest first;
    - ``confusing_positives``: the smallest among label-1 examples, smallest first;
    - ``confusing_negatives``: the largest among label-0 examples, largest first.

    A class with fewer than ``2 n`` examples appears in both of its rows; one with fewer than
    ``n`` gives shorter rows.
    """
    s = _float_vector("scores", scores)
    y = _binary_labels("labels", labels)
    _same_length("scores", s, "labels", y)
    n = _count("n", n)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    return {
        "clear_positives": _top(s, pos, n, largest=True),
        "clear_negatives": _top(s, neg, n, largest=False),
        "confusing_positives": _top(s, pos, n, largest=False),
        "confusing_negatives": _top(s, neg, n, largest=True),
    }


def highest_loss(
    losses: Float[ArrayLike, " n"], k: int, mislabelled: Bool[ArrayLike, " n"] | None = None
) -> dict[str, Any]:
    """The ``k`` examples with the highest loss (all of them when there are fewer), highest first.

    With a ``mislabelled`` mask (study S6's corrupted labels), also the fraction of those ``k``
    that are mislabelled and, to compare it with, the fraction over all examples (``base_rate``):
    a model that fits the clean labels without memorising the wrong ones has its highest losses
    on the mislabelled examples, so the first is well above the second.
    Returns ``{"indices", "losses", "mislabelled_fraction", "base_rate"}`` (the last two None
    without a mask).
    """
    loss = _float_vector("losses", losses)
    k = _count("k", k)
    idx = _top(loss, np.arange(len(loss)), k, largest=True)
    out: dict[str, Any] = {
        "indices": idx,
        "losses": [float(loss[i]) for i in idx],
        "mislabelled_fraction": None,
        "base_rate": None,
    }
    if mislabelled is not None:
        m = np.asarray(mislabelled)
        if m.ndim != 1 or m.dtype != np.bool_:
            raise ConfigError(f"mislabelled must be a 1-D boolean mask; got {m.dtype} of shape {m.shape}")
        _same_length("losses", loss, "mislabelled", m)
        if len(m):
            out["mislabelled_fraction"] = float(m[idx].mean()) if idx else None
            out["base_rate"] = float(m.mean())
    return out
