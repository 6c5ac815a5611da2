"""TensorBoard event files for a run, written by a per-epoch callback (``train(tensorboard=True)``).

Why tensorboardX: it writes the event-file format TensorBoard reads with nothing but NumPy and
protobuf, where ``tf.summary`` needs all of TensorFlow and ``torch.utils.tensorboard`` all of
PyTorch; it is maintained, small, and needs no TensorBoard installed to write (only to view).

What goes in (tags; ``/seed_<s>`` variants only when the run has several seeds):

- ``train/step_loss`` every step's loss at its global step: ``steps.csv``'s numbers;
- ``<split>/loss`` and ``<split>/accuracy`` per epoch for every split in ``metrics.jsonl``
  (train, train_eval, validation, test), the mean over seeds, at the epoch's last global step;
- ``train/lr`` (the epoch's learning rate, as in ``metrics.jsonl``) and ``time/*``;
- ``weights/first_layer`` at the end: :func:`mnistlab.plots.weight_figure` of the first seed;
- the config as hyperparameters, once per log, whose metrics are the ``<split>/*`` series, so
  TensorBoard's HParams view shows each run's final values (it takes a series' last value).

Values are float32 (the event format's scalar type). Resuming continues the same folder: the run
tells the logger how many epochs the log already holds, only later epochs are written, and the
new event file starts with TensorBoard's purge marker at the next step, so nothing is shown
twice even if a session had written past its checkpoint.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from .._errors import MissingExtraError
from ..runs import mean_std

TENSORBOARD_DIR = "tensorboard"
INSTALL = "pip install 'mnistlab[tensorboard]'"


def require_tensorboardx(what: str = "tensorboard=True (--tensorboard)"):
    """The tensorboardX module, or a one-line error naming the extra to install."""
    try:
        import tensorboardX
    except ImportError:
        raise MissingExtraError(f"{what} needs tensorboardX, which is not installed: {INSTALL}") from None
    return tensorboardX


def has_events(logdir: str | os.PathLike) -> bool:
    return any(Path(logdir).glob("*tfevents*"))


def figure_pixels(fig) -> np.ndarray:
    """A Matplotlib figure as an RGB array ``(H, W, 3)``, drawn by Agg without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def hparam_value(value):
    """A config value as the HParams view takes it: numbers, strings and bools; sequences as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


class TensorBoardLogger:
    """A training callback that writes a TensorBoard log in ``logdir`` (see the module docstring).

    ``seeds``: the run's seeds (they name the per-seed tags); ``config``: written as
    hyperparameters when the log starts from epoch 1; ``logged_epochs``: how many epochs of the
    history the folder already holds (a resumed run's log), so they are neither written twice
    nor lost. With ``logged_epochs=0`` the first call writes the whole history it is given, so a
    run resumed with a log for the first time gets its earlier epochs too.
    """

    def __init__(self, logdir, *, seeds=(0,), config=None, logged_epochs: int = 0):
        require_tensorboardx()
        self.logdir = Path(logdir)
        self.seeds = tuple(seeds)
        self.config = config
        self.logged = logged_epochs
        self._writer = None
        self._purge_step: int | None = None

    def __call__(self, record: dict, history, state) -> None:
        self.log_epochs(history)

    # --- writing ------------------------------------------------------------------------------

    @property
    def writer(self):
        if self._writer is None:
            tbx = require_tensorboardx()
            self._writer = tbx.SummaryWriter(
                str(self.logdir),
                purge_step=self._purge_step,
                # Unique and in time order: two sessions within one second must not share (and
                # overwrite) a file, and readers take the files in name order.
                filename_suffix=f".{time.time_ns()}",
            )
        return self._writer

    def log_epochs(self, history) -> None:
        """Write every epoch of ``history`` after the ones already logged, then flush."""
        if self._writer is None and self.logged:
            self._purge_step = int(history.epochs[self.logged - 1]["step"]) + 1
        several = len(self.seeds) > 1
        for i in range(self.logged, len(history.epochs)):
            record, losses = history.epochs[i], np.asarray(history.step_loss[i])
            if i == 0 and self.config is not None:
                self._hparams(record)
            first = int(record["step"]) - losses.shape[1] + 1
            for j in range(losses.shape[1]):
                col = losses[:, j]
                # The same expression as steps.csv, so the numbers are the file's, bit for bit.
                values = {"train/step_loss": float(col.mean())}
                if several:
                    values.update(
                        {f"train/step_loss/seed_{s}": float(v) for s, v in zip(self.seeds, col, strict=True)}
                    )
                self._scalars(values, first + j)
            self._epoch_scalars(record, several)
        self.logged = max(self.logged, len(history.epochs))
        if self._writer is not None:
            self._writer.flush()

    def _scalars(self, values: dict[str, float], step: int) -> None:
        """Several scalars of one step as ONE event, so a step's mean and per-seed losses cost one
        write: one ``add_scalar`` each took 1.4 s for an epoch of 1,875 steps of 3 seeds, this 0.24 s."""
        from tensorboardX.proto.summary_pb2 import Summary

        # None is how a JSON history (a checkpoint's) spells a non-finite number.
        nan = float("nan")
        summary = Summary(
            value=[Summary.Value(tag=t, simple_value=nan if v is None else v) for t, v in values.items()]
        )
        self.writer.file_writer.add_summary(summary, step)

    def _epoch_scalars(self, record: dict, several: bool) -> None:
        values = {}
        for key, value in record.items():
            if key.endswith(("_loss", "_accuracy")):
                split, metric = key.rsplit("_", 1)
                values[f"{split}/{metric}"] = mean_std(value)[0]
                if several and isinstance(value, list):
                    values.update(
                        {f"{split}/{metric}/seed_{s}": v for s, v in zip(self.seeds, value, strict=True)}
                    )
        values["train/lr"] = record["lr"]
        values.update(
            {f"time/{k}": record[k] for k in ("epoch_seconds", "eval_seconds", "examples_per_second")}
        )
        self._scalars(values, int(record["step"]))

    def _hparams(self, record: dict) -> None:
        from tensorboardX.summary import hparams

        values = {k: hparam_value(v) for k, v in self.config.as_dict().items()}
        metrics = {
            "{}/{}".format(*k.rsplit("_", 1)): 0.0 for k in record if k.endswith(("_loss", "_accuracy"))
        }
        # Written into this run's own folder (tensorboardX's add_hparams would make a new run with
        # copies of the metrics): the metric tags name the epoch series logged here.
        for summary in hparams(values, metrics):
            self.writer.file_writer.add_summary(summary, 0)

    def add_figure(self, tag: str, fig, step: int) -> None:
        self.writer.add_image(tag, figure_pixels(fig), step, dataformats="HWC")

    def log_weights(self, params, step: int, *, class_names, image_shape, epoch: int | None = None) -> bool:
        """The first seed's first-layer weights as an image; False when the model has no such layer."""
        import jax

        from ..plots import weight_figure

        one = jax.tree.map(lambda a: np.asarray(a[0]), params)
        fig = weight_figure(
            one,
            title=f"first-layer weights after {f'epoch {epoch}' if epoch else f'step {step}'}, "
            f"seed {self.seeds[0]}",
            class_names=class_names,
            image_shape=image_shape,
        )
        if fig is None:
            return False
        self.add_figure("weights/first_layer", fig, step)
        return True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def run_logger(run_path: Path, config, *, resuming: bool, done: int) -> TensorBoardLogger:
    """The logger of a run folder's ``tensorboard/``: continuing its log when it has one."""
    logdir = Path(run_path) / TENSORBOARD_DIR
    logged = done if resuming and has_events(logdir) else 0
    return TensorBoardLogger(logdir, seeds=config.seeds, config=config, logged_epochs=logged)


def finish_run_log(logger: TensorBoardLogger, result, *, class_names, image_shape) -> None:
    """After training: a diverged epoch's record (callbacks never see it) and the weight image."""
    try:
        logger.log_epochs(result.history)
        good = [r for r in result.history.epochs if not r.get("diverged")]
        if good and result.state is not None:
            last = good[-1]
            logger.log_weights(
                result.state.params,
                int(last["step"]),
                epoch=int(last["epoch"]),
                class_names=class_names,
                image_shape=image_shape,
            )
    finally:
        logger.close()


__all__ = [
    "INSTALL",
    "TENSORBOARD_DIR",
    "MissingExtraError",
    "TensorBoardLogger",
    "figure_pixels",
    "require_tensorboardx",
]
