"""Scoring a trained run: reload it from its folder, evaluate on any split, predict new images.

The metric functions (``confusion_matrix``, ``calibration``, ``roc_auc``, ...) and the example
finders (``confident_examples``, ``binary_extremes``, ``highest_loss``) work on plain arrays;
``evaluate`` and ``evaluate_run`` apply them all to a run.
"""

from ._examples import binary_extremes, confident_examples, highest_loss
from ._metrics import (
    calibration,
    confusion_matrix,
    per_class_metrics,
    roc_auc,
    roc_curve,
    thresholded_accuracy,
    top_k_accuracy,
)
from ._run import (
    Evaluation,
    LoadedRun,
    evaluate,
    evaluate_run,
    init_accuracies,
    load_run,
    predict_files,
    predict_proba,
    weight_gradients,
)

__all__ = [
    "Evaluation",
    "LoadedRun",
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
    "thresholded_accuracy",
    "top_k_accuracy",
    "weight_gradients",
]
