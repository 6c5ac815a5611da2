"""Training: losses, optimizers, the compiled engine, runs with checkpoints and exact resume.

>>> from mnistlab import train
>>> result = train.train(train.TrainConfig(dataset="mnist-sample", model="mlp", epochs=2))
>>> result.summary["final_test_accuracy"]

Callbacks (plain callables ``callback(record, history, state) -> bool | None``, called after
every epoch's checkpoint; True stops the run) and TensorBoard logs (``tensorboard=True``)::

>>> train.train(config, callbacks=[lambda record, history, state: record["test_accuracy"][0] > 0.95])

Sweeps (configs differing only in lr, l2, l1, momentum, weight decay or seeds) as ONE compiled
program, each config still writing its own ordinary run folder::

>>> train.train_sweep([config.replace(lr=lr) for lr in (0.1, 1.0)], outs=["runs/a", "runs/b"])

Several devices: ``TrainConfig(devices="all", mesh="4x2")`` (see :mod:`mnistlab.parallel`); a run
records its mesh in run.json, and ``resume(run_dir, devices=...)`` continues it on another count.
"""

from ..optim import OPTIMIZERS, SCHEDULES, current_lr, make_optimizer, make_schedule
from ..runs import (
    DTYPES,
    PREPROCESS,
    TrainConfig,
    from_dict,
    load_checkpoint,
    load_toml,
    resolve,
    save_checkpoint,
    to_toml,
)
from ._callbacks import Callback
from ._data import RunData, build_model_for, prepare_data
from ._engine import Engine, FitResult, History, TrainState, make_prepare
from ._fit import fit, fit_sweep
from ._losses import (
    LOSSES,
    binary_cross_entropy,
    correct,
    get_loss,
    l1_penalty,
    l2_penalty,
    softmax_cross_entropy,
    squared_error,
)
from ._points import SWEEP_FIELDS, sweep_groups, sweep_key
from ._run import RunResult, read_metrics, resume, train
from ._sweep import resume_sweep, train_sweep
from ._tensorboard import TENSORBOARD_DIR, MissingExtraError, TensorBoardLogger

__all__ = [
    "DTYPES",
    "LOSSES",
    "OPTIMIZERS",
    "PREPROCESS",
    "SCHEDULES",
    "SWEEP_FIELDS",
    "TENSORBOARD_DIR",
    "Callback",
    "Engine",
    "FitResult",
    "History",
    "MissingExtraError",
    "RunData",
    "RunResult",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainState",
    "binary_cross_entropy",
    "build_model_for",
    "correct",
    "current_lr",
    "fit",
    "fit_sweep",
    "from_dict",
    "get_loss",
    "l1_penalty",
    "l2_penalty",
    "load_checkpoint",
    "load_toml",
    "make_optimizer",
    "make_prepare",
    "make_schedule",
    "prepare_data",
    "read_metrics",
    "resolve",
    "resume",
    "resume_sweep",
    "save_checkpoint",
    "softmax_cross_entropy",
    "squared_error",
    "sweep_groups",
    "sweep_key",
    "to_toml",
    "train",
    "train_sweep",
]
