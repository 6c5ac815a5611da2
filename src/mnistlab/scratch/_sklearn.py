"""The baseline: scikit-learn's ``MLPClassifier`` with study S9's settings.

It keeps its own initialisation (Glorot-uniform) and its own shuffling (``random_state=1``), as
S9 runs it; only the data split is shared. It is trained by ONE ``fit`` call, so nothing about
sklearn's training changes (``partial_fit`` would not do: it restarts the shuffled index vector
at every call, and so draws other batches than ``fit``). To draw learning curves anyway, a
subclass copies the parameters at the end of every epoch (the hook sklearn calls there), and the
copies are scored after ``fit`` returns, outside the timing.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._common import Layer
from ._train import TrainResult

# Study S9's MLPClassifier, word for word; max_iter is the number of epochs and set per run.
SKLEARN_S9: dict[str, Any] = {
    "hidden_layer_sizes": (500, 250),
    "activation": "relu",
    "solver": "sgd",
    "learning_rate": "constant",
    "learning_rate_init": 0.1,
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "alpha": 1e-4,
    "batch_size": 200,
    "max_iter": 20,
    "random_state": 1,
}


def make_classifier(**overrides):
    """An ``MLPClassifier`` with :data:`SKLEARN_S9`'s settings, ``overrides`` replacing some."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**{**SKLEARN_S9, **overrides})


def _recording_classifier(**settings):
    from sklearn.neural_network import MLPClassifier

    class RecordingMLPClassifier(MLPClassifier):
        """``MLPClassifier`` that notes, at the end of each epoch, a copy of its parameters and
        the seconds the epoch took (the copy itself is not counted)."""

        def _update_no_improvement_count(self, *args, **kwargs):
            now = time.perf_counter()
            self.epoch_seconds_.append(now - self._epoch_start)
            self.snapshots_.append(
                (
                    [w.copy() for w in self.coefs_],
                    [b.copy() for b in self.intercepts_],
                )
            )
            super()._update_no_improvement_count(*args, **kwargs)
            self._epoch_start = time.perf_counter()

        def fit(self, X, y, **kwargs):
            self.epoch_seconds_, self.snapshots_ = [], []
            self._epoch_start = time.perf_counter()
            return super().fit(X, y, **kwargs)

    return RecordingMLPClassifier(**{**SKLEARN_S9, **settings})


class SklearnTrainer:
    """``MLPClassifier`` with S9's settings (``overrides`` replace some), trained by ``fit``.

    After :meth:`train`, ``converged`` says whether sklearn stopped by its own tolerance rule
    before ``max_iter`` (else ``fit`` raised a ``ConvergenceWarning``, silenced and recorded)
    and ``fit_seconds`` is the whole ``fit`` call.
    """

    name = "sklearn"

    def __init__(self, **overrides):
        self.settings = {**SKLEARN_S9, **overrides}
        self.converged: bool | None = None
        self.fit_seconds = 0.0

    def train(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        evals: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        on_epoch: Callable[[str, dict], None] | None = None,
    ) -> TrainResult:
        """``fit`` for at most ``epochs`` iterations, then score every epoch's parameters on the
        training set and ``evals``: records as :func:`~mnistlab.scratch.train` makes them."""
        from sklearn.exceptions import ConvergenceWarning

        clf = _recording_classifier(**{**self.settings, "max_iter": epochs})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            t = time.perf_counter()
            clf.fit(x, y)
            self.fit_seconds = time.perf_counter() - t
        self.converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        final = clf.coefs_, clf.intercepts_
        sets = {"train": (x, y), **(evals or {})}
        history = []
        epochs_seen = zip(clf.snapshots_, clf.epoch_seconds_, strict=True)
        for e, ((coefs, intercepts), seconds) in enumerate(epochs_seen):
            clf.coefs_, clf.intercepts_ = coefs, intercepts
            record: dict[str, Any] = {
                "epoch": e + 1,
                "lr": float(self.settings["learning_rate_init"]),
                "seconds": seconds,
                # sklearn's own number: the mean batch loss during the epoch, with its L2 term.
                "mean_batch_loss": float(clf.loss_curve_[e]),
            }
            t1 = time.perf_counter()
            for name, (ex, ey) in sets.items():
                record[f"{name}_cross_entropy"], record[f"{name}_accuracy"] = _scores(clf, ex, ey)
            record["eval_seconds"] = time.perf_counter() - t1
            history.append(record)
            if on_epoch is not None:
                on_epoch(self.name, record)
        clf.coefs_, clf.intercepts_ = final
        params = tuple(Layer(w, b) for w, b in zip(*final, strict=True))
        return TrainResult(self.name, params, history, state=clf)

    def prepare_predict(self, clf, x) -> float:
        return 0.0

    def predict(self, clf, x) -> np.ndarray:
        return clf.predict(x)


def _scores(clf, x, y) -> tuple[float, float]:
    """Mean cross-entropy (without sklearn's L2 term) and accuracy over every example."""
    proba = clf.predict_proba(x)
    picked = np.maximum(proba[np.arange(len(y)), y], np.finfo(proba.dtype).tiny)
    return float(-np.log(picked).mean(dtype=np.float64)), float((proba.argmax(axis=1) == y).mean())
