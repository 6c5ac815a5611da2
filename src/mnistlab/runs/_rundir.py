"""The run folder as one object: its layout, its readers and its writers, in one place.

Layout (every file written atomically, the logs appended: see ``_logs``)::

    config.toml     the resolved, frozen config (``mnistlab train --config`` takes it back)
    run.json        versions, device, dataset provenance and checksums, status, summary
    metrics.jsonl   one JSON object per epoch;  metrics.csv the same as a table   (appended)
    steps.csv       the loss of every training step                              (appended)
    checkpoint.npz  parameters, optimizer state, PRNG state and epoch (after each epoch; older
                    runs' checkpoints also hold the history, which is still read)
    params.npz      the final parameters

Training writes a folder through :meth:`RunDir.create`; everything that reads one (evaluate,
report, predict, studies) opens it once with :meth:`RunDir.open`, which reads ``config.toml`` and
``run.json`` a single time and keeps them; the metrics are read on first use and kept too.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError, DataError, RunFolderError
from .._fs import atomic_write_bytes, check_writable
from . import _checkpoint, _logs
from ._config import TrainConfig, load_toml, to_toml
from ._files import mean_std, write_json

CONFIG, RUN_JSON, CHECKPOINT, PARAMS = "config.toml", "run.json", "checkpoint.npz", "params.npz"
METRICS, METRICS_CSV, STEPS = "metrics.jsonl", "metrics.csv", "steps.csv"
CONFIG_HEADER = "mnistlab train config"
_LOGS = (METRICS, METRICS_CSV, STEPS)


def format_seeds(value, *, percent: bool) -> str:
    """A number, or a per-seed list as ``mean ± std``: ``97.46%`` or ``97.46% ± 0.12``."""
    m, s = mean_std(value)
    several = isinstance(value, list) and len(value) > 1
    if percent:
        return f"{100 * m:.2f}%" + (f" ± {100 * s:.2f}" if several else "")
    spec = ".4f" if abs(m) < 1e4 else ".4g"
    return f"{m:{spec}}" + (f" ± {s:{spec}}" if several else "")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def check_out(out) -> None:
    """Refuse an ``--out`` that already holds a run, is a file, holds other files or cannot be
    written, before any work starts (``None``: the default ``runs/`` folder must be writable)."""
    if out is None:
        check_writable(Path("runs"), what="the default run folder (choose another with --out)")
        return
    path = Path(out)
    if (path / CONFIG).exists() or (path / RUN_JSON).exists():
        raise ConfigError(
            f"--out {path} already holds a run; continue it with --resume {path} or choose another --out"
        )
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; give a folder for the run")
    if path.is_dir():
        # Only the run's own files may land here: a run written into a folder of other things
        # (a home folder, a dataset) would mix with them and could overwrite one of them.
        others = sorted(p.name for p in path.iterdir())
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise ConfigError(
                f"--out {path} is a folder that already holds other files ({shown}); give a new or "
                "empty folder for the run"
            )
    check_writable(path, what="--out")


class RunDir:
    """One run folder. Make one with :meth:`create` (a new run) or :meth:`open` (an existing one)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    # --- making and opening -------------------------------------------------------------------

    @classmethod
    def create(cls, out: str | os.PathLike | None, config: TrainConfig) -> RunDir:
        """A new folder for a run of ``config`` (``runs/<time>-<model>-<dataset>`` when ``out`` is
        None), holding its ``config.toml``."""
        made = None
        if out is not None:
            check_out(out)
            path = Path(out)
            made = next((p for p in (path, *path.parents) if p.exists()), None)
            path.mkdir(parents=True, exist_ok=True)
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            base = Path("runs") / _slug(f"{stamp}-{config.model}-{config.dataset}")
            path, i = base, 1
            while path.exists():
                i += 1
                path = base.with_name(f"{base.name}-{i}")
            path.mkdir(parents=True)
        run = cls(path)
        try:
            run.write_config(config)
        except BaseException:  # a full disk, Ctrl-C: leave no folder that looks like a run
            _remove_new_folders(path, made)
            raise
        return run

    @classmethod
    def open(cls, path: str | os.PathLike, *, trained: bool = False, unstarted: bool = False) -> RunDir:
        """An existing run folder, with its config and run.json read (once) and checked.

        ``trained``: also check that run.json records what rebuilding the model needs (the
        dataset's classes and sizes), so a damaged run.json is one line, not a ``KeyError``
        deep inside evaluation. ``unstarted``: also accept a folder holding only its config.toml
        (a run killed before it wrote run.json), whose ``info`` is then empty.
        """
        run = cls(path)
        if not run.path.is_dir():
            raise ConfigError(
                f"run folder {run.path} does not exist; give a folder written by mnistlab train"
            )
        started = (run.path / RUN_JSON).is_file()
        if not started and unstarted:
            run.__dict__["info"] = {}
        if not (run.path / CONFIG).is_file() or not (started or unstarted):
            raise ConfigError(
                f"{run.path} is not an mnistlab run: it lacks {CONFIG} or {RUN_JSON}; give a folder "
                "written by mnistlab train"
            )
        run.config, run.info  # noqa: B018  (read both now, so a damaged folder fails here)
        if trained:
            run.dataset_facts()
            # A damaged parameters file fails now, before a model is built to pour it into.
            for path in (run.params, run.checkpoint):
                if path.is_file():
                    run._guard(path, _checkpoint.read_meta, path)
                    break
        return run

    # --- reading ------------------------------------------------------------------------------

    @functools.cached_property
    def config(self) -> TrainConfig:
        return load_toml(self.path / CONFIG)

    @functools.cached_property
    def info(self) -> dict[str, Any]:
        path = self.path / RUN_JSON
        try:
            info = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path} cannot be read ({exc})") from None
        if not isinstance(info, dict):
            raise DataError(f"{path} must hold a JSON object; got {type(info).__name__}")
        return info

    def dataset_facts(self) -> dict[str, Any]:
        """run.json's ``dataset`` record, checked to hold what rebuilding the model needs."""
        ds = self.info.get("dataset")
        problem = None
        if not isinstance(ds, dict):
            problem = "has no dataset record"
        elif not _is_count(ds.get("num_classes")):
            problem = "has no dataset.num_classes"
        elif not isinstance(ds.get("class_names"), list) or len(ds["class_names"]) != ds["num_classes"]:
            problem = "has no dataset.class_names (one per class)"
        elif not isinstance(ds.get("sizes"), dict) or not _is_count(ds["sizes"].get("train")):
            problem = "has no dataset.sizes.train"
        if problem:
            raise RunFolderError(
                f"{self.path / RUN_JSON} {problem}: the run folder is damaged; restore run.json from "
                "a backup or train the run again"
            )
        return ds

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    @property
    def params(self) -> Path:
        return self.path / PARAMS

    def has_checkpoint(self) -> bool:
        return self.checkpoint.is_file()

    def checkpoint_meta(self) -> dict[str, Any]:
        return _checkpoint.read_meta(self.checkpoint)

    def load_checkpoint(self, template) -> tuple[Any, dict[str, Any]]:
        """The last epoch's training state, poured into ``template``'s structure (checked)."""
        return self._load(self.checkpoint, template)

    def load_params(self, template) -> tuple[Any, dict[str, Any]]:
        """The final parameters (params.npz), poured into ``template``'s structure (checked)."""
        return self._load(self.params, template)

    def param_count(self) -> int | None:
        """Parameters of one seed's model: run.json's count, else what params.npz holds (read
        without building the model); None when neither says."""
        count = self.info.get("param_count")
        if isinstance(count, int):
            return count
        if not self.params.is_file():
            return None
        arrays, _ = self._guard(self.params, _checkpoint.read_arrays, self.params)
        return int(sum(a.size for a in arrays.values())) // max(1, len(self.config.seeds))

    def check_params(self) -> None:
        """A damaged params.npz (truncated, corrupted) as a RunFolderError, checked without
        building the model: the report checks every run this way before any work."""
        if self.params.is_file():
            self._guard(self.params, _checkpoint.verify, self.params)

    def _load(self, path: Path, template) -> tuple[Any, dict[str, Any]]:
        return self._guard(path, _checkpoint.load, path, template)

    def _guard(self, path: Path, read, *args):
        """``read(*args)``, a damaged ``path`` (params or checkpoint) raised as a RunFolderError."""
        try:
            return read(*args)
        except RunFolderError:
            raise
        except DataError as exc:  # one kind of error for a damaged run folder, whichever command
            fix = "train the run again"
            if path == self.params and self.has_checkpoint():
                fix = (
                    f"delete {path} and run `mnistlab train --resume {self.path}` to rewrite it from "
                    "its checkpoint"
                )
            raise RunFolderError(f"{exc}; the run folder {self.path} is damaged: {fix}") from None

    def metrics(self) -> list[dict]:
        """The per-epoch records, as written to metrics.jsonl (read once, then kept)."""
        return self._read_metrics()[0]

    def steps(self) -> np.ndarray | None:
        """Every step's loss, ``(seeds, steps)`` (NaN where a step diverged); None without steps."""
        return self._read_metrics()[1]

    def _read_metrics(self) -> tuple[list[dict], np.ndarray | None]:
        if "_metrics" not in self.__dict__:
            self._metrics = self._load_metrics()
        return self._metrics

    def _load_metrics(self) -> tuple[list[dict], np.ndarray | None]:
        steps = _logs.read_steps(self.path / STEPS)
        losses = None if steps is None or not len(steps[1]) else steps[1].T
        return _logs.read_records(self.path / METRICS), losses

    def logged_history(self, epoch: int) -> tuple[list[dict], list[np.ndarray]]:
        """The first ``epoch`` records and their per-step losses (one ``(seeds, steps)`` float32
        array per epoch), rebuilt from the logs: what a resume continues from.

        The logs may hold one epoch more than the checkpoint (a kill between the two writes);
        holding fewer means the folder is damaged. Without steps.csv the epochs have no step
        losses (empty arrays): the records alone are what a run's summary needs.
        """
        records = _logs.read_records(self.path / METRICS)[:epoch]
        steps = _logs.read_steps(self.path / STEPS)
        if steps is None:  # the step log is gone (a copied folder): the epochs keep no step losses
            per_epoch = [np.zeros((len(self.config.seeds), 0), np.float32) for _ in range(epoch)]
        else:
            which, losses = steps
            per_epoch = [losses[which == e].T.astype(np.float32) for e in range(1, epoch + 1)]
        short = [r.get("epoch") for r in records] != list(range(1, epoch + 1))
        if short or (steps is not None and any(a.shape[1] == 0 for a in per_epoch)):
            raise RunFolderError(
                f"{self.path}: its checkpoint is from epoch {epoch} but {METRICS} and {STEPS} do not "
                "hold every epoch up to it; the run folder is damaged: train the run again"
            )
        return records, per_epoch

    # --- writing ------------------------------------------------------------------------------

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_bytes(self.path / CONFIG, to_toml(config, header=CONFIG_HEADER).encode())
        self.__dict__["config"] = config

    def write_info(self, info: dict[str, Any]) -> None:
        write_json(self.path / RUN_JSON, info)
        self.__dict__["info"] = info

    def save_checkpoint(self, state, meta: dict[str, Any]) -> None:
        _checkpoint.save(self.checkpoint, state, meta)

    def save_params(self, params, meta: dict[str, Any]) -> None:
        _checkpoint.save(self.params, params, meta)

    def params_from_checkpoint(self) -> tuple[int, dict[str, Any]]:
        """Write params.npz from the checkpoint's parameters (no model needed); returns the number
        of parameter values (all seeds) and the checkpoint's metadata."""
        meta = self.checkpoint_meta()
        try:
            count = _checkpoint.extract(self.checkpoint, self.params, ".params", {"epoch": meta["epoch"]})
        except RunFolderError:
            raise
        except DataError as exc:
            raise RunFolderError(f"{exc}; the run folder {self.path} is damaged") from None
        return count, meta

    def write_metrics(self, history, seeds) -> None:
        """Rewrite metrics.jsonl, metrics.csv (mean and ``_std`` columns for several seeds) and
        steps.csv from ``history``, atomically (a run's first epoch, a resume, an interruption)."""
        self._logged = _logs.write_all(self.path, _LOGS, history, seeds)
        self.__dict__.pop("_metrics", None)

    def append_metrics(self, history, seeds) -> None:
        """Append ``history``'s epochs that the logs lack (O(1) per epoch: see ``_logs``); the
        first call on a RunDir that has not written them rewrites them whole."""
        logged = self.__dict__.get("_logged")
        if logged is None or logged.epochs > len(history.epochs):
            self.write_metrics(history, seeds)
            return
        self._logged = _logs.append_new(self.path, _LOGS, history, seeds, logged)
        self.__dict__.pop("_metrics", None)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _remove_new_folders(path: Path, existed: Path | None) -> None:
    """Remove ``path`` and the parents made for it (up to ``existed``), if they are empty."""
    for folder in (path, *path.parents):
        if folder == existed or (existed is None and folder == path.parent):
            break
        try:
            folder.rmdir()
        except OSError:
            break
