"""TensorBoard logs of runs: what needs a trained run's evaluation, on top of training's own log.

Training writes the log as it goes (``train.train(..., tensorboard=True)``, ``mnistlab train
--tensorboard``: scalars, learning rate, weight images, hyperparameters; see
:class:`mnistlab.train.TensorBoardLogger`). The confusion matrix needs the evaluation API, a
layer above training, so it is added here once a run has parameters; ``mnistlab train
--tensorboard`` calls :func:`log_confusion_matrix` when training ends::

    >>> from mnistlab import tensorboard, train
    >>> result = train.train(config, tensorboard=True)
    >>> tensorboard.log_confusion_matrix(result.run_dir)    # then: tensorboard --logdir runs
"""

from __future__ import annotations

import os
from pathlib import Path

from .runs import RunDir
from .train import TENSORBOARD_DIR, MissingExtraError, TensorBoardLogger

CONFUSION_TAG = "{split}/confusion_matrix"


def log_confusion_matrix(run_dir: str | os.PathLike, *, split: str = "test", data_dir=None) -> Path | None:
    """Add the confusion matrix of ``run_dir`` on ``split`` (of the seeds' ensemble when there are
    several) to its TensorBoard log, as an image at the global step of the parameters scored.

    Returns the log folder, or None for an autoencoder (it has no classes to confuse).
    """
    from .evaluate import evaluate_run
    from .plots import confusion_heatmap

    run = RunDir.open(run_dir)
    ev = evaluate_run(run.path, split=split, data_dir=data_dir, train=False)
    m = ev.metrics
    if m.confusion_matrix is None:
        return None
    step = int(run.info["steps_per_epoch"]) * m.epoch
    fig = confusion_heatmap(
        m.confusion_matrix, m.class_names, title=f"{run.config.model} on {m.title} ({split}), epoch {m.epoch}"
    )
    logger = TensorBoardLogger(run.path / TENSORBOARD_DIR, seeds=run.config.seeds)
    try:
        logger.add_figure(CONFUSION_TAG.format(split=split), fig, step)
    finally:
        logger.close()
    return logger.logdir


__all__ = ["CONFUSION_TAG", "MissingExtraError", "TensorBoardLogger", "log_confusion_matrix"]
