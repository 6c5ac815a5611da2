"""The report's JAX work, apart from its drawing: load a run's model, score its test split, take
its gradients, score random initialisations. Each function returns NumPy arrays, dicts and the
small dataclasses below, so its result can cross a process boundary as it is.

Why apart, and why a process: drawing the figures (Matplotlib) and tracing the programs (JAX)
are both Python that holds the GIL, so in threads of one process they take turns; importing JAX
alone is 1.5 CPU seconds. A second process runs them side by side on the second core. It is used
when this process has not loaded JAX (``mnistlab report``): the drawing process then never loads
JAX at all. Where JAX is already loaded (a notebook, ``train --report``, ``serve``, the tests) a
process would pay that import again, so worker threads do the same work and share what is
loaded. Either way the numbers are the same: the same programs run, only where differs.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..runs import RunDir


@dataclass(frozen=True)
class Split:
    """The arrays of a dataset split that the figures read."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Loaded:
    """What the page needs of a loaded run before any scoring."""

    kind: str
    params: Any  # seed 0's parameters, as NumPy


@dataclass(frozen=True)
class Scores:
    """The test split's evaluation (``metrics`` as JSON) and the images its figures show."""

    metrics: dict
    probs: np.ndarray
    test: Split
    train_images: dict[int, np.ndarray]  # the highest-loss training examples, by index


@dataclass(frozen=True)
class Gradients:
    grads: dict[str, np.ndarray]
    n: int  # the examples they are taken on


def workers() -> Executor:
    """Where the functions below run: one child process when this process has not loaded JAX
    (see the module docstring), else two threads. The child is started (``spawn``) at the first
    call, so it imports JAX while this process imports Matplotlib and draws.
    ``MNISTLAB_REPORT_THREADS=1`` keeps everything in this process (to compare the two ways)."""
    if "jax" in sys.modules or os.environ.get("MNISTLAB_REPORT_THREADS"):
        return ThreadPoolExecutor(max_workers=2)
    import multiprocessing

    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


# --- in the worker ----------------------------------------------------------------------------

_LOCK = threading.Lock()
_LOADED: dict[tuple, Any] = {}  # (run folder, what) -> the loaded run or its data, kept between calls


def _cached(key: tuple, make):
    with _LOCK:  # threads: the gradients and the scores wait for ONE load of the data
        if key not in _LOADED:
            _LOADED[key] = make()
        return _LOADED[key]


def _run(run: RunDir):
    from ..evaluate import load_run

    return _cached((str(run.path), "run"), lambda: load_run(run))


def _data(run: RunDir, data_dir):
    from ..train import prepare_data

    loaded = _run(run)
    return _cached(
        (str(run.path), "data", str(data_dir)),
        lambda: prepare_data(loaded.config, data_dir=data_dir, progress=False),
    )


def forget(run: RunDir) -> None:
    """Drop what the worker keeps of ``run`` (its model, parameters and data) once it is drawn."""
    with _LOCK:
        for key in [k for k in _LOADED if k[0] == str(run.path)]:
            del _LOADED[key]


def load(run: RunDir) -> Loaded:
    """The run's model kind and seed 0's parameters; a MnistlabError if they cannot be loaded."""
    import jax

    loaded = _run(run)
    return Loaded(loaded.kind, jax.tree.map(lambda a: np.asarray(a[0]), loaded.params))


def scores(run: RunDir, data_dir, examples: int) -> Scores:
    """The test split scored (with the training set's per-example losses, for the hardest ones)."""
    from .._compute import precision
    from ..evaluate import evaluate

    loaded, data = _run(run), _data(run, data_dir)
    test = data.evals["test"]
    with precision(loaded.config.dtype):
        ev = evaluate(loaded, test, examples=examples, train_losses=data.train, mislabelled=data.mislabelled)
    metrics = ev.metrics.to_json()
    hardest = (metrics.get("highest_loss_train") or {}).get("indices") or []
    train_images = {int(i): np.asarray(data.train.images[int(i)]) for i in hardest}
    return Scores(
        metrics, np.asarray(ev.probs), Split(np.asarray(test.images), np.asarray(test.labels)), train_images
    )


def gradients(run: RunDir, data_dir) -> Gradients:
    """The weight gradients at the final parameters on the first batch of the training set."""
    from .._compute import precision
    from ..evaluate import weight_gradients

    loaded, data = _run(run), _data(run, data_dir)
    batch = data.train.subset(np.arange(min(loaded.config.batch_size, len(data.train))))
    with precision(loaded.config.dtype):  # the mode is per thread
        grads = weight_gradients(loaded, batch)
    return Gradients({k: np.asarray(v) for k, v in grads.items()}, len(batch))


def init_accuracies(run: RunDir, data_dir, n: int, key=None) -> np.ndarray:
    """Test accuracy of ``n`` random initialisations of the run's model (``key``: PRNGKey(0))."""
    import jax

    from ..evaluate import init_accuracies as score_inits

    loaded, data = _run(run), _data(run, data_dir)
    key = jax.random.PRNGKey(0) if key is None else key
    return np.asarray(score_inits(loaded, data.evals["test"], n=n, key=key))
