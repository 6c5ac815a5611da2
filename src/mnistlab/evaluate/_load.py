"""Reloading a trained run from its folder, and the checks every scoring function shares.

:func:`load_run` is the one place here that reads a run folder: its config and ``run.json`` once,
then its parameters. Everything else in :mod:`mnistlab.evaluate` works on the :class:`LoadedRun`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._compute import precision
from .._errors import ConfigError, DataError
from ..data import Dataset, NormStats, load, select_classes
from ..runs import RunDir, run_image_shape
from ..train import Engine, TrainConfig, build_model_for


@dataclass
class LoadedRun:
    """A run folder's config, ``run.json``, model (as an :class:`~mnistlab.train.Engine`) and parameters."""

    run_dir: Path
    config: TrainConfig
    info: dict
    engine: Engine
    params: Any  # one parameter set per seed, stacked on a leading axis
    epoch: int
    # Jitted programs made for this run (evaluation reuses them across datasets) and trace counts.
    _programs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.info["dataset"]["class_names"])

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(height, width)`` of the images the run's model takes (its dataset's)."""
        return run_image_shape(self.info)

    @property
    def kind(self) -> str:
        return self.engine.model.kind

    def __repr__(self) -> str:
        seeds = len(self.config.seeds)
        return (
            f"LoadedRun({str(self.run_dir)!r}, {self.config.model} {self.kind} on {self.config.dataset}, "
            f"epoch {self.epoch}, {seeds} seed{'s' if seeds > 1 else ''})"
        )


def load_run(run: str | os.PathLike | RunDir) -> LoadedRun:
    """A run's model, final parameters (or its last checkpoint's, if it did not finish) and config.

    ``run`` is a folder or an open :class:`~mnistlab.runs.RunDir` (whose config and run.json are
    then not read again). A float64 run's parameters are loaded as float64 (with JAX's x64 mode on
    just for the loading); the functions here that run its model switch that mode on again.
    """
    run = run if isinstance(run, RunDir) else RunDir.open(run, trained=True)
    config, info = run.config, run.info
    # The final parameters, else the last finished epoch's checkpoint (a run that did not finish).
    final = run.params.is_file()
    if not final and not run.has_checkpoint():
        raise DataError(
            f"{run.path} holds no parameters yet ({run.params.name} and {run.checkpoint.name} are missing)"
        )
    with precision(config.dtype):
        engine = _engine_for(config, info)
        template = _template(engine)
        if final:
            params, meta = run.load_params(template.params)
        else:
            state, meta = run.load_checkpoint(template)
            params = state.params
    return LoadedRun(run.path, config, info, engine, params, int(meta["epoch"]))


def _template(engine: Engine):
    """Zeros shaped like the engine's initial state, for the loader to check shapes and dtypes.

    ``jax.eval_shape`` traces the initialisation without compiling or running it: running it costs
    a compile of the vmapped init and optimizer (seconds on a CPU) only to be overwritten.
    """
    import jax
    import numpy as np

    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), jax.eval_shape(engine.init))


def _engine_for(config: TrainConfig, info: dict) -> Engine:
    """The run's model and engine, rebuilt from its config and the dataset facts in ``run.json``."""
    ds = info["dataset"]
    norm = ds.get("normalization")
    norm = NormStats(norm["mean"], norm["std"]) if norm else None
    image_shape = run_image_shape(info)
    model = build_model_for(config, ds["num_classes"], image_shape)
    return Engine(
        model,
        config,
        n_train=ds["sizes"]["train"],
        image_shape=image_shape,
        num_classes=ds["num_classes"],
        norm=norm,
    )


# --- checks shared by the scoring functions --------------------------------------------------------


def dataset_for(run: LoadedRun, dataset: str | None, split: str, data_dir) -> Dataset:
    """Split ``split`` of ``dataset`` (default: the run's), class-selected as the run's data was."""
    name = dataset or run.config.dataset
    ds = load(name, split, data_dir=data_dir)
    h, w = run.image_shape
    if ds.image_shape != (h, w):
        raise DataError(f"{ds.title} has {_size(ds.image_shape)} images; the run's model takes {h}x{w}")
    if run.config.classes:
        ds = select_classes(ds, run.config.classes)
    elif ds.num_classes != len(run.class_names):
        raise ConfigError(
            f"dataset {name} has {ds.num_classes} classes; the run was trained on {len(run.class_names)}"
        )
    return ds


def check_dataset(run: LoadedRun, ds, param: str = "dataset") -> Dataset:
    if not isinstance(ds, Dataset):
        raise ConfigError(f"{param} must be a mnistlab.data.Dataset; got {type(ds).__name__}")
    h, w = run.image_shape
    if ds.image_shape != (h, w):
        raise ConfigError(f"{param} has {_size(ds.image_shape)} images; the run's model takes {h}x{w}")
    if ds.num_classes != len(run.class_names):
        raise ConfigError(
            f"{param} must have the run's {len(run.class_names)} classes; {ds.title} has {ds.num_classes}"
        )
    return ds


def _size(shape) -> str:
    return "x".join(map(str, shape))


def nonempty(ds: Dataset, param: str = "dataset") -> None:
    if len(ds) == 0:
        raise ConfigError(f"{param} must hold at least one example; {ds.title} holds none")
