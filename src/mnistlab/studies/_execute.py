"""Running a :class:`~._spec.TrainStudy`: settings, its runs (skipped, resumed or trained), the
analysis, the verdicts, ``study.json`` and the report, in one folder.

Folder::

    study.json       settings, per-run results, per-reference verdicts, analysis numbers
    report.html      ONE self-contained page: question, table, figures, verdicts
    runs/<member>/   an ordinary run folder per member (``mnistlab train`` writes the same)

Why runs go through :func:`mnistlab.train.train`: every run of a study is then an ordinary run
folder (evaluate, report and resume work on it), and resuming a study is resuming its runs. A
run whose folder says it finished is skipped; one with a checkpoint is resumed; one that died
before its first checkpoint is started again. ``study.json`` is written first with status
"running" and the settings, so a second call into the same folder continues the same study and
refuses other settings instead of mixing them.
"""

from __future__ import annotations

import operator
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import Interval, NoneOK, Options, TypeOf, check
from .._errors import ConfigError
from .._fs import check_writable
from ..runs import MAX_SEEDS, RunDir, TrainConfig, write_json
from ._output import default_out
from ._spec import TrainStudy

STUDY_JSON, REPORT_HTML, RUNS = "study.json", "report.html", "runs"
FINISHED = ("completed", "diverged")
MAX_STUDY_EPOCHS = 10_000  # the longest spec'd study is 101 epochs; far above, a typo is refused

SEEDS = (Interval(int, 1, MAX_SEEDS), NoneOK())
EPOCHS = (Interval(int, 1, MAX_STUDY_EPOCHS), NoneOK())
FLAG = (TypeOf(bool, "true or false"),)


@dataclass(frozen=True)
class Settings:
    """What the caller chose: ``None`` = the study's own value."""

    dataset: str | None = None
    seeds: int | None = None
    epochs: int | None = None
    quick: bool = False

    def as_dict(self) -> dict:
        return {"dataset": self.dataset, "seeds": self.seeds, "epochs": self.epochs, "quick": self.quick}


def check_settings(dataset, seeds, epochs, quick) -> Settings:
    """Each option checked by the one validator, before any work: one line naming the flag."""
    from ..data import REGISTRY

    check("dataset", dataset, [Options(lambda: tuple(REGISTRY)), NoneOK()], flag="--dataset")
    check("seeds", seeds, SEEDS, flag="--seeds", hint="; the number of seeds, e.g. --seeds 3")
    check("epochs", epochs, EPOCHS, flag="--epochs", hint="; e.g. --epochs 3")
    check("quick", quick, FLAG, flag="--quick")
    return Settings(dataset, _int(seeds), _int(epochs), bool(quick))


def _int(value) -> int | None:
    return None if value is None else operator.index(value)


def member_config(study: TrainStudy, member, settings: Settings) -> TrainConfig:
    """The member's config: the study's base, the member's changes, ``--quick``'s, then the caller's."""
    config = study.base.replace(**member.changes)
    if settings.quick:
        config = config.replace(**{**study.quick, **member.quick})
    changes: dict[str, Any] = {}
    if settings.dataset is not None:
        changes["dataset"] = settings.dataset
    if settings.epochs is not None:
        changes["epochs"] = settings.epochs
    if settings.seeds is not None:
        changes["seeds"] = tuple(range(settings.seeds))
    return config.replace(**changes)


# --- the folder -------------------------------------------------------------------------------


def latest_out(name: str) -> Path:
    """The newest ``studies/<name>-*`` folder holding a study.json (``--resume`` without ``--out``)."""
    found = sorted(p for p in Path("studies").glob(f"{name}-*") if (p / STUDY_JSON).is_file())
    if not found:
        raise ConfigError(
            f"--resume found no earlier {name} study under studies/; give its folder with --out DIR"
        )
    return found[-1]


def open_out(study: TrainStudy, out, settings: Settings, resume: bool) -> tuple[Path, Settings, dict]:
    """The study folder, checked writable before any work; an existing one must hold this study
    with the same settings (``--resume`` without options takes the saved ones)."""
    import json

    if out is None:
        out = latest_out(study.name) if resume else default_out(study.name)
    path = check_writable(out, what="--out", folder=True)
    saved_path = path / STUDY_JSON
    if not saved_path.is_file():
        if resume:
            raise ConfigError(f"--resume: {path} holds no {STUDY_JSON}; start the study without --resume")
        if path.is_dir() and any(path.iterdir()):
            raise ConfigError(f"--out {path} is a folder that holds other files; give a new or empty folder")
        return path, settings, {}
    try:
        saved = json.loads(saved_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--out {path}: {STUDY_JSON} cannot be read ({exc}); give another --out") from None
    if saved.get("study") != study.name:
        raise ConfigError(
            f"--out {path} holds study {saved.get('study')!r}, not {study.name!r}; give another --out"
        )
    old = Settings(**saved.get("settings", {}))
    given = settings.as_dict()
    if resume:  # options not given again are the saved ones
        merged = {k: (v if v not in (None, False) else old.as_dict()[k]) for k, v in given.items()}
        settings = Settings(**merged)
    if settings != old:
        raise ConfigError(
            f"--out {path} holds a {study.name} study with settings {_text(old)}, not {_text(settings)}; "
            "give the same options (or --resume alone) or another --out"
        )
    return path, settings, saved


def _text(s: Settings) -> str:
    parts = [f"{k}={v}" for k, v in s.as_dict().items() if v not in (None, False)]
    return ", ".join(parts) or "the defaults"


# --- the runs ---------------------------------------------------------------------------------


@dataclass
class RunView:
    """One finished member, as the figures, verdicts and table read it."""

    name: str
    label: str
    path: Path
    config: TrainConfig
    info: dict
    records: list[dict] = field(repr=False)
    action: str = "trained"
    params: Any = field(default=None, repr=False)  # the final parameters when trained in this call

    @property
    def dataset(self) -> str:
        return self.info.get("dataset", {}).get("name", self.config.dataset)

    def sizes(self) -> dict:
        return self.info.get("dataset", {}).get("sizes", {})

    def curve(self, metric: str) -> list[list[float]]:
        """Per epoch, the per-seed values of ``metric`` (a lone value becomes a one-seed list)."""
        out = []
        for r in self.records:
            v = r.get(metric)
            out.append(v if isinstance(v, list) else [v])
        return out

    def epochs(self) -> list[int]:
        return [int(r["epoch"]) for r in self.records]


def _same(saved: TrainConfig, wanted: TrainConfig) -> bool:
    """The fields the study sets (not None) agree; the saved config has every default filled.

    A field asked for as ``"auto"`` (the dataset: MNIST when present, else the sample) was
    resolved when the run started, so any saved value matches it."""
    s = saved.as_dict()
    return all(s.get(k) == v for k, v in wanted.as_dict().items() if v is not None and v != "auto")


class KeepBest:
    """An epoch callback keeping the parameters of the epoch with the best mean ``metric`` (over
    seeds) in ``best-<metric>.npz``, its epoch and value in ``best-<metric>.json``, so a resumed run
    continues from the best so far. Why a callback: the train API keeps only the last parameters."""

    def __init__(self, run_path: Path, metric: str):
        import json

        self.metric = metric
        self.npz = run_path / f"best-{metric}.npz"
        self.json = run_path / f"best-{metric}.json"
        self.best = json.loads(self.json.read_text())["value"] if self.json.is_file() else None

    def __call__(self, record, history, state):
        import statistics

        from ..runs import save_checkpoint

        value = record.get(self.metric)
        if value is None:
            return None
        mean = statistics.fmean(value) if isinstance(value, list) else float(value)
        if self.best is None or mean > self.best:
            self.best = mean
            save_checkpoint(self.npz, state.params, {"epoch": record["epoch"], self.metric: value})
            write_json(self.json, {"epoch": record["epoch"], "metric": self.metric, "value": mean})
        return None


def folder_state(path: Path, config: TrainConfig) -> tuple[str, int]:
    """What the run folder ``path`` needs: ``("finished" | "resume" | "fresh", checkpoint epoch)``;
    a ConfigError when it holds a run of another config."""
    if not ((path / "run.json").is_file() and (path / "config.toml").is_file()):
        return "fresh", 0
    run = RunDir.open(path)
    if not _same(run.config, config):
        raise ConfigError(
            f"{path} holds a run with another config than this study asks for; give another --out"
        )
    if run.info.get("status") in FINISHED:
        return "finished", 0
    done = run.checkpoint_meta()["epoch"] if run.has_checkpoint() else 0
    if done >= config.epochs:
        return "finished", done
    return ("resume" if done else "fresh"), done


def run_member(
    path: Path, config: TrainConfig, *, data_dir, quiet: bool, console, command, keep_best=None
) -> tuple[str, Any]:
    """Train, resume or skip the run in ``path``; returns what was done and the final parameters
    when it trained (so figures need not rebuild the model to read them back)."""
    from .. import train

    callbacks = [KeepBest(path, keep_best)] if keep_best else None

    where, done = folder_state(path, config)
    if where == "finished":
        return "skipped (finished)", None
    if where == "resume":
        result = train.resume(
            path, data_dir=data_dir, quiet=quiet, console=console, command=command, callbacks=callbacks
        )
        return f"resumed from epoch {done}", _params_of(result)
    if path.exists():  # died before its first checkpoint: nothing worth keeping
        shutil.rmtree(path)
    callbacks = [KeepBest(path, keep_best)] if keep_best else None  # after the folder is fresh
    result = train.train(
        config,
        data_dir=data_dir,
        out=path,
        quiet=quiet,
        console=console,
        command=command,
        callbacks=callbacks,
    )
    return "trained", _params_of(result)


def run_group(
    paths: dict[str, Path], configs: dict[str, TrainConfig], *, data_dir, quiet: bool, console, command
) -> dict[str, tuple[str, Any]]:
    """Members whose configs differ only in sweepable fields (see :func:`mnistlab.train.sweep_groups`)
    trained as ONE program (:func:`mnistlab.train.train_sweep`), each into its usual run folder;
    by member name, what was done and the final parameters, as :func:`run_member` says them.

    Finished members are skipped. The unfinished ones resume together when their checkpoints are
    at one epoch (a sweep checkpoints every member after every epoch, so an interrupted one is),
    otherwise each resumes alone (same numbers, one program each).
    """
    from .. import train

    where = {name: folder_state(paths[name], configs[name]) for name in paths}
    out: dict[str, tuple[str, Any]] = {
        n: ("skipped (finished)", None) for n, w in where.items() if w[0] == "finished"
    }
    pending = [n for n in paths if n not in out]
    epochs = {where[n][1] for n in pending}
    if len(pending) < 2 or len(epochs) > 1:
        for n in pending:
            out[n] = run_member(
                paths[n], configs[n], data_dir=data_dir, quiet=quiet, console=console, command=command
            )
        return out
    done = epochs.pop()
    options = dict(data_dir=data_dir, quiet=quiet, console=console, command=command)
    if done:
        results = train.resume_sweep([paths[n] for n in pending], **options)
        action = f"resumed from epoch {done}"
    else:
        for n in pending:  # died before its first checkpoint: nothing worth keeping
            if paths[n].exists():
                shutil.rmtree(paths[n])
        results = train.train_sweep(
            [configs[n] for n in pending], outs=[paths[n] for n in pending], **options
        )
        action = "trained"
    for n, result in zip(pending, results, strict=True):
        out[n] = (action, _params_of(result))
    return out


def _params_of(result):
    return None if result is None or result.state is None else result.state.params


def view(path: Path, name: str, label: str, action: str, params=None) -> RunView:
    run = RunDir.open(path)
    return RunView(name, label, path, run.config, run.info, run.metrics(), action, params)


# --- writing ----------------------------------------------------------------------------------


def write_study_json(path: Path, info: dict) -> None:
    write_json(path / STUDY_JSON, info)


def relative(path: Path, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return str(path)
