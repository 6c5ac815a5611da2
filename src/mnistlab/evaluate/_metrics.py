"""Classification metrics on plain NumPy arrays: confusion matrix, precision, recall and F1 (per
class and averaged), top-k, calibration, ROC.

Every function checks its inputs and raises a one-line :class:`~mnistlab.ConfigError` naming the
parameter, what it expects and what it got, so a shape mix-up fails here rather than as a silently
broadcast wrong number. Undefined values (the recall of a class that never occurs, the precision of
one never predicted) are NaN, never 0: a missing class is not a badly predicted one. JSON writers
turn NaN into null.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import Interval, check
from .._errors import ConfigError

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import ArrayLike, Bool, Float, Int

# Rows of a probability matrix are accepted as summing to 1 within this: float32 softmax rows of
# ten classes are off by ~1e-7, a bfloat16 model's by ~1e-3.
_ROW_SUM_TOLERANCE = 1e-2


# --- validation ----------------------------------------------------------------------------------


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (anything with ``__index__``), else a one-line ConfigError."""
    return operator.index(check(name, value, [Interval(int, minimum, None)]))


def _shape_text(a: np.ndarray) -> str:
    return f"{a.dtype} of shape {a.shape}"


def _int_vector(name: str, value) -> np.ndarray:
    a = np.asarray(value)
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
        raise ConfigError(f"{name} must be a 1-D array of integers; got {_shape_text(a)}")
    return a.astype(np.int64)


def _float_vector(name: str, value) -> np.ndarray:
    a = np.asarray(value)
    if a.ndim != 1 or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise ConfigError(f"{name} must be a 1-D array of numbers; got {_shape_text(a)}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ConfigError(f"{name} must be finite; got {int((~np.isfinite(a)).sum())} NaN or infinite values")
    return a


def _same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ConfigError(f"{name_a} and {name_b} must have the same length; got {len(a)} and {len(b)}")


def _in_range(name: str, a: np.ndarray, k: int) -> None:
    if len(a) and (a.min() < 0 or a.max() >= k):
        bad = a[(a < 0) | (a >= k)]
        raise ConfigError(f"{name} must lie in [0, {k - 1}]; got {bad[:5].tolist()}")


def _binary_labels(name: str, value) -> np.ndarray:
    a = _int_vector(name, value)
    bad = a[(a != 0) & (a != 1)]
    if len(bad):
        raise ConfigError(f"{name} must be 0 or 1; got {bad[:5].tolist()}")
    return a


def check_probs(probs, labels, name: str = "probs") -> tuple[np.ndarray, np.ndarray]:
    """``probs`` as a float64 ``(n, K)`` matrix of probability rows and ``labels`` as int64 in
    ``[0, K)``, else a :class:`ConfigError`."""
    p = np.asarray(probs)
    if p.ndim != 2 or p.shape[1] < 1 or not np.issubdtype(p.dtype, np.number):
        raise ConfigError(f"{name} must be a 2-D array (examples, classes) of numbers; got {_shape_text(p)}")
    p = p.astype(np.float64)
    if not np.isfinite(p).all():
        raise ConfigError(f"{name} must be finite; got {int((~np.isfinite(p)).sum())} NaN or infinite values")
    if len(p) and (p.min() < 0 or p.max() > 1):
        raise ConfigError(f"{name} must lie in [0, 1]; got values from {p.min():g} to {p.max():g}")
    sums = p.sum(axis=1)
    if len(p) and np.abs(sums - 1).max() > _ROW_SUM_TOLERANCE:
        worst = int(np.abs(sums - 1).argmax())
        raise ConfigError(f"{name} rows must sum to 1; got row {worst} summing to {sums[worst]:g}")
    y = _int_vector("labels", labels)
    _same_length(name, p, "labels", y)
    _in_range("labels", y, p.shape[1])
    return p, y


def _nonempty(name: str, n: int) -> None:
    if n == 0:
        raise ConfigError(f"{name} must hold at least one example; got none")


# --- confusion matrix, precision and recall ------------------------------------------------------


def confusion_matrix(
    labels: Int[ArrayLike, " n"], predictions: Int[ArrayLike, " n"], num_classes: int
) -> Int[np.ndarray, "k k"]:
    """Counts of (true class, predicted class): rows are the true classes, columns the predictions.

    Every class gets its row and column, also one that never occurs, so the matrix of a subset
    lines up with the class names.
    """
    k = check_count("num_classes", num_classes)
    y = _int_vector("labels", labels)
    p = _int_vector("predictions", predictions)
    _same_length("labels", y, "predictions", p)
    _in_range("labels", y, k)
    _in_range("predictions", p, k)
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def per_class_metrics(cm: Int[ArrayLike, "k k"]) -> dict[str, np.ndarray]:
    """Per class: ``support`` (true examples), ``predicted`` (times predicted), ``correct``,
    ``precision``, ``recall`` (= the class's accuracy) and ``f1`` from a confusion matrix.

    ``recall`` is NaN for a class that never occurs and ``precision`` NaN for one never predicted:
    those are undefined, not zero. ``f1 = 2 correct / (support + predicted)``, the harmonic mean
    of the two where both exist, is NaN only for a class that neither occurs nor is predicted;
    a class that occurs but is never predicted has F1 0 (it is badly predicted, not missing).

    scikit-learn's ``precision_recall_fscore_support(..., zero_division=np.nan)`` gives the same
    numbers; its default ``zero_division="warn"`` (and ``0``) puts 0 where these are NaN.
    """
    m = np.asarray(cm)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.issubdtype(m.dtype, np.integer):
        raise ConfigError(f"cm must be a square 2-D array of integer counts; got {_shape_text(m)}")
    if m.size and m.min() < 0:
        raise ConfigError(f"cm must hold counts >= 0; got {int(m.min())}")
    m = m.astype(np.int64)
    correct = np.diag(m).copy()
    support = m.sum(axis=1)
    predicted = m.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, correct / np.maximum(predicted, 1), np.nan)
        recall = np.where(support > 0, correct / np.maximum(support, 1), np.nan)
        both = support + predicted
        f1 = np.where(both > 0, 2 * correct / np.maximum(both, 1), np.nan)
    return {
        "support": support,
        "predicted": predicted,
        "correct": correct,
        "precision": precision.astype(np.float64),
        "recall": recall.astype(np.float64),
        "f1": f1.astype(np.float64),
    }


def averaged_metrics(cm: Int[ArrayLike, "k k"]) -> dict[str, dict[str, float]]:
    """The macro and support-weighted averages of precision, recall and F1 over the classes:
    the ``macro avg`` and ``weighted avg`` rows of scikit-learn's ``classification_report``.

    ``{"macro": {"precision", "recall", "f1", "examples"}, "weighted": {...}}``, ``examples``
    being every example counted. A class whose value is NaN (undefined, see
    :func:`per_class_metrics`) is left out of that average rather than counted as 0, as
    scikit-learn does with ``zero_division=np.nan``; an average with nothing left, or a weighted
    one whose remaining classes all have support 0, is NaN (there scikit-learn falls back to the
    unweighted mean).
    """
    pc = per_class_metrics(cm)
    support = pc["support"].astype(np.float64)
    out: dict[str, dict[str, float]] = {"macro": {}, "weighted": {}}
    for name in ("precision", "recall", "f1"):
        v = pc[name]
        ok = ~np.isnan(v)
        out["macro"][name] = float(v[ok].mean()) if ok.any() else math.nan
        w = support[ok]
        out["weighted"][name] = float((v[ok] * w).sum() / w.sum()) if w.sum() > 0 else math.nan
    for avg in out.values():
        avg["examples"] = int(pc["support"].sum())
    return out


# --- top-k and calibration -----------------------------------------------------------------------


def top_k_accuracy(probs: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"], k: int) -> float:
    """The fraction of examples whose label is among the ``k`` most probable classes.

    Ties are broken towards the lower class index, as ``argmax`` does, so ``k = 1`` is exactly the
    accuracy of ``probs.argmax(axis=1)``.
    """
    p, y = check_probs(probs, labels)
    k = operator.index(
        check("k", k, [Interval(int, 1, p.shape[1])], hint=f" ({p.shape[1]}: the number of classes)")
    )
    _nonempty("probs", len(p))
    true_p = p[np.arange(len(p)), y][:, None]
    cols = np.arange(p.shape[1])[None, :]
    # The label's rank: classes strictly more probable, plus tied ones that argmax would prefer.
    rank = (p > true_p).sum(axis=1) + ((p == true_p) & (cols < y[:, None])).sum(axis=1)
    return float((rank < k).mean())


def calibration(
    probs: Float[ArrayLike, "n k"], labels: Int[ArrayLike, " n"], bins: int = 15
) -> dict[str, Any]:
    """Expected calibration error and the reliability diagram's bins.

    The confidence of a prediction is its largest probability; predictions fall into ``bins``
    equal-width bins ``(lower, upper]`` of [0, 1] (the first also holds 0). Each bin reports
    ``count``, its mean ``confidence`` and its ``accuracy`` (None for an empty bin), and
    ``ece = sum_b count_b / n * |accuracy_b - confidence_b|``.
    """
    p, y = check_probs(probs, labels)
    bins = check_count("bins", bins)
    _nonempty("probs", len(p))
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # side="left" puts a value equal to an edge into the bin below it: bins are (lower, upper].
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=conf, minlength=bins)
    right_sum = np.bincount(which, weights=right, minlength=bins)
    out_bins, ece = [], 0.0
    for b in range(bins):
        c = int(count[b])
        mean_conf = conf_sum[b] / c if c else None
        acc = right_sum[b] / c if c else None
        if c:
            ece += c / len(p) * abs(acc - mean_conf)
        out_bins.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": c,
                "confidence": None if mean_conf is None else float(mean_conf),
                "accuracy": None if acc is None else float(acc),
            }
        )
    return {"ece": float(ece), "bins": out_bins}


# --- binary: ROC and thresholded accuracy --------------------------------------------------------


def _scores_and_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = _float_vector("scores", scores)
    y = _binary_labels("labels", labels)
    _same_length("scores", s, "labels", y)
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        only = "no examples" if len(y) == 0 else f"only label {int(y[0])} ({len(y)} examples)"
        raise ConfigError(f"labels must contain both classes (0 and 1) for a ROC curve; got {only}")
    return s, y


def roc_curve(
    scores: Float[ArrayLike, " n"], labels: Int[ArrayLike, " n"] | Bool[ArrayLike, " n"]
) -> tuple[Float[np.ndarray, " m"], Float[np.ndarray, " m"], Float[np.ndarray, " m"]]:
    """``(fpr, tpr, thresholds)``: an example is called positive when its score is >= the threshold.

    One point per distinct score, from the highest down, after a first point (0, 0) at threshold
    +inf; tied scores move the curve diagonally, which is what makes the area under it count a
    tie as half a correctly ordered pair.
    """
    s, y = _scores_and_labels(scores, labels)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    # The last example of each run of tied scores: the curve only has a point after a whole tie.
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return fpr, tpr, np.r_[np.inf, s[last]]


def roc_auc(scores: Float[ArrayLike, " n"], labels: Int[ArrayLike, " n"] | Bool[ArrayLike, " n"]) -> float:
    """Area under the ROC curve: the fraction of (positive, negative) pairs that the scores order
    correctly, a tie counting one half (the Mann-Whitney U statistic over ``n_pos * n_neg``).

    Computed by exact integer counting over the distinct scores, not by integrating the curve.
    """
    s, y = _scores_and_labels(scores, labels)
    _, group = np.unique(s, return_inverse=True)  # groups in increasing score order
    pos = np.bincount(group, weights=y, minlength=group.max() + 1).astype(np.int64)
    neg = np.bincount(group, weights=1 - y, minlength=group.max() + 1).astype(np.int64)
    below = np.cumsum(neg) - neg  # negatives with a strictly smaller score
    twice_u = int((2 * pos * below + pos * neg).sum())  # doubled, to stay in integers
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    return twice_u / (2 * n_pos * n_neg)


def thresholded_accuracy(
    p_positive: Float[ArrayLike, " n"],
    labels: Int[ArrayLike, " n"] | Bool[ArrayLike, " n"],
    threshold: float = 0.5,
) -> float:
    """Accuracy of calling an example positive when its probability is > ``threshold``.

    Strictly greater, as the engine's ``logit > 0`` (``sigmoid > 0.5``) is, so at 0.5 this is the
    training-time accuracy.
    """
    p = _float_vector("p_positive", p_positive)
    y = _binary_labels("labels", labels)
    _same_length("p_positive", p, "labels", y)
    _nonempty("p_positive", len(p))
    if len(p) and (p.min() < 0 or p.max() > 1):
        raise ConfigError(f"p_positive must lie in [0, 1]; got values from {p.min():g} to {p.max():g}")
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        t = math.nan
    if not (math.isfinite(t) and 0 <= t <= 1):
        raise ConfigError(f"threshold must lie in [0, 1]; got {threshold!r}")
    return float(((p > t).astype(np.int64) == y).mean())
