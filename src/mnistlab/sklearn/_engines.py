"""Compiled programs shared by every estimator in the process, keyed by what they depend on.

Why a module-level cache: scikit-learn clones and refits estimators constantly (each fold of
``cross_val_score``, each point of ``GridSearchCV``, dozens of times in ``check_estimator``).
An :class:`~mnistlab.train.Engine` compiles its epoch program once and reuses it for any data of
the same shapes, so keeping the engine, rather than the estimator, is what makes a refit on
equally-sized data skip compilation. The estimator itself holds only plain, picklable values
(config, NumPy parameters) and finds its programs here again, after unpickling too.

Two caches, because the programs depend on different things:

- training (:func:`trainer`): the epoch program depends on the training set's size, so one
  engine per size; with it, the initial state (the same for every fit under one key, and a
  compilation of its own);
- prediction (:func:`run_for`): :func:`mnistlab.evaluate.predict_proba`'s program, which does
  not depend on the training set's size, so the folds of a cross-validation share it. The
  estimator predicts exactly as ``mnistlab evaluate`` does for a run with that config.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import NamedTuple

from .._compute import precision
from ..data import NormStats
from ..evaluate import LoadedRun
from ..train import Engine, TrainConfig, TrainState, build_model_for

# Each entry holds compiled XLA programs (a few MB for small models): enough for a grid search's
# points and fold sizes, bounded so that a long notebook session does not grow without end.
_MAX_ENGINES = 32


class EngineKey(NamedTuple):
    """Everything an engine's compiled programs depend on (the data's shapes, not its values)."""

    config: TrainConfig
    n_train: int
    image_shape: tuple[int, int]
    num_classes: int
    norm: NormStats | None


def _engine(key: EngineKey) -> Engine:
    with precision(key.config.dtype):
        model = build_model_for(key.config, key.num_classes, key.image_shape)
        return Engine(
            model,
            key.config,
            n_train=key.n_train,
            image_shape=key.image_shape,
            num_classes=key.num_classes,
            norm=key.norm,
        )


class Trainer:
    """A cached training engine and its initial state.

    The initial state depends only on the config (seeds, model, optimizer) and the shapes, and
    making it compiles a program of its own (about a second on CPU for the default MLP), so it
    is made once per key rather than per fit. JAX arrays are immutable and the epoch program
    donates nothing, so every fit may start from the same one.
    """

    def __init__(self, key: EngineKey):
        self.engine = _engine(key)
        self._state: TrainState | None = None

    def initial_state(self) -> TrainState:
        if self._state is None:
            with precision(self.engine.config.dtype):
                self._state = self.engine.init()
        return self._state


@functools.lru_cache(maxsize=_MAX_ENGINES)
def trainer(key: EngineKey) -> Trainer:
    """The cached :class:`Trainer` for ``key``, made on first use."""
    return Trainer(key)


@functools.lru_cache(maxsize=_MAX_ENGINES)
def _prediction_template(key: EngineKey) -> LoadedRun:
    """A parameterless :class:`LoadedRun` whose dict of compiled programs every run made from it
    shares (``key.n_train`` is 1: prediction does not depend on it)."""
    info = {"dataset": {"class_names": [str(i) for i in range(key.num_classes)]}}
    return LoadedRun(Path("<MnistlabClassifier>"), key.config, info, _engine(key), None, 0)


def run_for(key: EngineKey, params, epoch: int) -> LoadedRun:
    """A :class:`LoadedRun` of ``params`` that shares the cached prediction program for ``key``.

    ``dataclasses.replace`` copies every other field, the dict of compiled programs included.
    """
    template = _prediction_template(key._replace(n_train=1))
    return dataclasses.replace(template, params=params, epoch=epoch)


def clear() -> None:
    """Forget every cached program (tests measure a refit from a cold start with it)."""
    trainer.cache_clear()
    _prediction_template.cache_clear()
