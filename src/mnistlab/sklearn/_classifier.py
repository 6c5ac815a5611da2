"""``MnistlabClassifier``: mnistlab's training engine behind scikit-learn's estimator interface.

Why a thin wrapper and not a second trainer: the hyperparameters are exactly
:class:`~mnistlab.runs.TrainConfig`'s fields (same names, same defaults but the model, same
one-line errors), training is :func:`mnistlab.train.fit` on an :class:`~mnistlab.train.Engine`
and prediction is :func:`mnistlab.evaluate.predict_proba`, so an estimator and a
``mnistlab train`` run with the same settings train the same program.
"""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Integral

import jax
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._checks import Items, check
from .._compute import precision
from .._errors import DataError
from ..data import Dataset, fit_normalization
from ..evaluate import predict_proba
from ..models import get_model_spec
from ..runs import TrainConfig, params, resolve
from ..train import fit
from . import _engines, _inputs

_DEFAULT = {f.name: f.default for f in dataclasses.fields(TrainConfig)}

# The TrainConfig fields that are the estimator's parameters under the same name.
CONFIG_PARAMS = (
    "model",
    "widths",
    "activation",
    "layers",
    "init",
    "init_scale",
    "preprocess",
    "loss",
    "l1",
    "l2",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "clip_norm",
    "schedule",
    "lr_factor",
    "step_epochs",
    "warmup_epochs",
    "final_lr",
    "epochs",
    "batch_size",
    "drop_last",
    "dtype",
)
# The other fields, and why they are not parameters (a test checks that every field is one or
# the other, so a new config field is a decision here rather than silently missing).
NOT_PARAMS = {
    "dataset": "the data is fit's X and y",
    "classes": "select classes in y before fit",
    "val_fraction": "split with scikit-learn (train_test_split, cross-validation)",
    "corrupt": "a study's label corruption; corrupt y before fit",
    "data_seed": "no data randomness happens inside fit",
    "seeds": "the parameter `seed` (an int, or several for an ensemble)",
    "eval_train": "score(X, y) scores any set after fit",
    "eval_batch_size": "prediction chunks its input itself",
    "devices": "a fit runs on one device; scikit-learn runs fits side by side (n_jobs)",
    "mesh": "a fit runs on one device; scikit-learn runs fits side by side (n_jobs)",
    "steps": "a fit trains whole passes (max_iter / epochs), as scikit-learn's own estimators do",
    "eval_every": "fit scores nothing while training (score(X, y) after fit)",
}
_SEED = params()["seeds"].constraints[0].item  # one seed's constraint, as the config declares it


class MnistlabClassifier(ClassifierMixin, BaseEstimator):
    """A mnistlab model (``mlp`` by default) trained by mnistlab's engine, as a scikit-learn classifier.

    Parameters are :class:`~mnistlab.runs.TrainConfig`'s fields of the same names (see
    ``mnistlab train --help``), with its defaults except ``model="mlp"``, plus:

    seed : int or sequence of ints, default 0
        Seed of initialisation and shuffling: equal seeds give bit-identical fits. Several seeds
        train an ensemble in one program; ``predict_proba`` averages their probabilities.
    pixel_range : "auto" or (low, high), default "auto"
        The input values mapped to pixels 0 and 255 (the engine trains on uint8 pixels, scaled
        to [0, 1] as ``preprocess`` says). ``"auto"``: ``(0, 255)`` for uint8 ``X``, else the
        training ``X``'s minimum and maximum (so arbitrary float features work, quantised to
        256 levels). Give ``(0, 1)`` for float images in [0, 1]; values outside are clipped.

    ``X`` is ``(n, height, width)`` images or ``(n, features)`` rows: a square number of features
    is taken as square images (784 -> 28 x 28); any other width as ``(1, features)``, which the
    flat models (softmax, mlp, binary-mlp) take and the CNNs refuse. ``y`` holds any class labels
    (at least two classes), mapped to ``0..K-1`` in the order of ``classes_``. Two classes use
    the K-way softmax model (``model="binary-mlp"``, a sigmoid output, is available for exactly
    two, ``classes_[1]`` being the positive class).

    Attributes after ``fit``: ``classes_``, ``n_features_in_`` (``feature_names_in_`` for a
    DataFrame), ``image_shape_``, ``pixel_range_``, ``config_`` (the resolved TrainConfig),
    ``params_`` (NumPy parameters, one set per seed on a leading axis) and ``history_`` (one
    record per epoch, as a run's ``metrics.jsonl``).
    """

    def __init__(
        self,
        model="mlp",
        *,
        widths=None,
        activation=None,
        layers=None,
        init=_DEFAULT["init"],
        init_scale=None,
        preprocess=_DEFAULT["preprocess"],
        pixel_range="auto",
        loss=_DEFAULT["loss"],
        l1=_DEFAULT["l1"],
        l2=_DEFAULT["l2"],
        optimizer=_DEFAULT["optimizer"],
        lr=None,
        momentum=None,
        weight_decay=None,
        clip_norm=None,
        schedule=_DEFAULT["schedule"],
        lr_factor=None,
        step_epochs=None,
        warmup_epochs=None,
        final_lr=None,
        epochs=_DEFAULT["epochs"],
        batch_size=_DEFAULT["batch_size"],
        drop_last=_DEFAULT["drop_last"],
        seed=0,
        dtype=_DEFAULT["dtype"],
    ):
        # scikit-learn's convention: store the values as given; fit checks them.
        self.model, self.widths, self.activation, self.layers = model, widths, activation, layers
        self.init, self.init_scale, self.preprocess, self.pixel_range = (
            init,
            init_scale,
            preprocess,
            pixel_range,
        )
        self.loss, self.l1, self.l2 = loss, l1, l2
        self.optimizer, self.lr, self.momentum, self.weight_decay = optimizer, lr, momentum, weight_decay
        self.clip_norm, self.schedule, self.lr_factor = clip_norm, schedule, lr_factor
        self.step_epochs, self.warmup_epochs, self.final_lr = step_epochs, warmup_epochs, final_lr
        self.epochs, self.batch_size, self.drop_last = epochs, batch_size, drop_last
        self.seed, self.dtype = seed, dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True  # (n, height, width) images
        return tags

    # --- configuration ---------------------------------------------------------------------------

    def _seeds(self) -> tuple[int, ...]:
        check("seed", self.seed, (_SEED, Items(_SEED, min_len=1, distinct=True, name="list")))
        return (int(self.seed),) if isinstance(self.seed, Integral) else tuple(int(s) for s in self.seed)

    def _config(self) -> TrainConfig:
        """The parameters as a resolved TrainConfig: where they are checked (one-line ConfigErrors)."""
        values = {name: getattr(self, name) for name in CONFIG_PARAMS}
        if values["widths"] is not None and not isinstance(values["widths"], str):
            values["widths"] = tuple(values["widths"])  # lists and arrays: the config is hashable
        return resolve(TrainConfig(**values, seeds=self._seeds()))

    # --- input ------------------------------------------------------------------------------------

    def _flat(self, X, *, reset: bool, y=None):
        """``X`` (and ``y``) validated by scikit-learn, with images flattened to rows first."""
        shape = None
        if getattr(X, "ndim", 2) == 3:
            X = np.asarray(X)
            shape = (int(X.shape[1]), int(X.shape[2]))
            if not reset and shape != self.image_shape_:
                raise DataError(
                    f"X has images of {shape[0]} x {shape[1]}; this classifier was fitted on "
                    f"{self.image_shape_[0]} x {self.image_shape_[1]}"
                )
            X = X.reshape(len(X), -1)
        if reset:
            X, y = validate_data(self, X, y)
            return X, y, shape
        return validate_data(self, X, reset=False)

    # --- fit / predict ----------------------------------------------------------------------------

    def fit(self, X, y):
        """Train a fresh model on ``X``, ``y`` for ``epochs`` epochs; returns ``self``.

        A diverged run keeps its last finite parameters and warns (ConvergenceWarning); an
        interrupt (Ctrl-C) propagates, so a grid search stops rather than moving on.
        """
        config = self._config()
        X, y, given_shape = self._flat(X, reset=True, y=y)
        check_classification_targets(y)
        classes, labels = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise DataError(f"y holds one class ({classes[0]!r}); a classifier needs at least two classes")
        spec = get_model_spec(config.model)
        if spec.kind == "autoencoder":
            raise DataError(f"model {config.model!r} is an autoencoder; give a classifier model")
        if spec.kind == "binary" and len(classes) != 2:
            raise DataError(f"model {config.model!r} needs exactly two classes; y holds {len(classes)}")
        image_shape = _inputs.image_shape_for(X.shape[1], given_shape)
        _inputs.check_layout(config.model, spec.input_layout, image_shape, image_shape[0] > 1)
        pixel_range = _inputs.fit_pixel_range(X, self.pixel_range)
        images = _inputs.to_pixels(X, pixel_range, image_shape)
        norm = fit_normalization(images) if config.preprocess == "global" else None
        key = _engines.EngineKey(config, len(images), image_shape, len(classes), norm)
        trainer = _engines.trainer(key)
        train = Dataset(images, labels.astype(np.int32), tuple(map(str, classes)), "estimator", "fit")
        with precision(config.dtype):
            result = fit(trainer.engine, train, state=trainer.initial_state())
        if result.status == "interrupted":
            raise KeyboardInterrupt(result.message)
        if result.status == "diverged":
            warnings.warn(
                f"{result.message}; keeping the last finite parameters", ConvergenceWarning, stacklevel=2
            )
        self.classes_, self.image_shape_, self.pixel_range_ = classes, image_shape, pixel_range
        self.config_, self.history_ = config, result.history.epochs
        self.params_ = jax.tree.map(np.asarray, result.state.params)
        self._key = key
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, len(classes_))``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = self._flat(X, reset=False)
        images = _inputs.to_pixels(X, self.pixel_range_, self.image_shape_)
        run = _engines.run_for(self._key, self.params_, len(self.history_))
        probs = np.asarray(predict_proba(run, images), np.float64)
        return probs / probs.sum(axis=1, keepdims=True)  # float32 rows sum to 1 only within 1e-7

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row of ``X`` (a label from ``classes_``)."""
        probs = self.predict_proba(X)  # first: it says "not fitted" before classes_ is missed
        return self.classes_[np.argmax(probs, axis=1)]
