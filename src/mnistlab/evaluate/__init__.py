"""Scoring a trained run: reload it from its folder, evaluate on any split, predict new images.

The metric functions (``confusion_matrix``, ``per_class_metrics``, ``averaged_metrics``,
``calibration``, ``roc_auc``, ...) and the example finders (``confident_examples``,
``binary_extremes``, ``highest_loss``) work on plain arrays; ``evaluate`` and ``evaluate_run``
apply them all to a run and return an :class:`Evaluation` whose ``metrics`` are a typed
:class:`Metrics` (``to_json()`` for files).

>>> from mnistlab import evaluate
>>> ev = evaluate.evaluate_run("runs/mlp")
>>> ev                               # one line: dataset, examples, accuracy, loss
>>> ev.metrics.macro_avg.f1, ev.metrics.per_class["7"].recall
"""

from ._examples import binary_extremes, confident_examples, highest_loss
from ._load import LoadedRun, load_run, run_image_shape
from ._metrics import (
    averaged_metrics,
    calibration,
    confusion_matrix,
    per_class_metrics,
    roc_auc,
    roc_curve,
    thresholded_accuracy,
    top_k_accuracy,
)
from ._predict import predict_files, predict_proba
from ._probes import init_accuracies, weight_gradients
from ._results import Averages, ClassMetrics, Evaluation, Metrics
from ._score import evaluate, evaluate_run

__all__ = [
    "Averages",
    "ClassMetrics",
    "Evaluation",
    "LoadedRun",
    "Metrics",
    "averaged_metrics",
    "binary_extremes",
    "calibration",
    "confident_examples",
    "confusion_matrix",
    "evaluate",
    "evaluate_run",
    "highest_loss",
    "init_accuracies",
    "load_run",
    "per_class_metrics",
    "predict_files",
    "predict_proba",
    "roc_auc",
    "roc_curve",
    "run_image_shape",
    "thresholded_accuracy",
    "top_k_accuracy",
    "weight_gradients",
]
