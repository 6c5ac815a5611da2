"""What the served folders hold: run folders (``config.toml``) and study folders (``results.json``
or ``study.json``), found by walking each folder, read through :class:`mnistlab.runs.RunDir`.

The walk is bounded (depth and folder count) and never follows symlinks, so a link loop or a huge
tree cannot stall the page. A folder being written is an entry like any other: a run whose
``run.json`` is not there yet, or says ``running``, is "in progress"; a file that cannot be read
becomes the entry's status and message, never an error page.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._errors import MnistlabError
from ._paths import Roots

MAX_DEPTH = 4  # runs/<study>/<group>/<run>: deeper folders are not looked into
MAX_FOLDERS = 5000  # folders visited per root at most
STUDY_FILES = ("study.json", "results.json")
IN_PROGRESS = "in progress"


@dataclass
class Entry:
    """One row of the runs page (also the JSON of ``/api/runs``)."""

    id: str
    kind: str  # "run" or "study"
    name: str
    root: str  # the served folder as given
    status: str
    dataset: str = ""
    model: str = ""
    created: str = ""
    epochs: str = ""
    final_test_accuracy: float | None = None
    best_test_accuracy: float | None = None
    message: str = ""
    study: str | None = None  # the id of the study folder holding this run
    predictable: bool = False  # a classifier with parameters: the draw page can use it
    runs: list[str] = field(default_factory=list)  # a study's runs

    def as_dict(self) -> dict:
        return asdict(self)


def scan(roots: Roots) -> list[Entry]:
    """Every run and study under the served folders, in walk order (studies before their runs)."""
    entries: list[Entry] = []
    for index, root in enumerate(roots.real):
        studies: dict[Path, Entry] = {}
        for visited, (folder, dirs, files) in enumerate(os.walk(root, followlinks=False), start=1):
            here = Path(folder)
            depth = len(here.relative_to(root).parts)
            dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
            if visited > MAX_FOLDERS or depth >= MAX_DEPTH:
                dirs[:] = []
            item_id = roots.id_of(index, here)
            parent = next((studies[p] for p in here.parents if p in studies), None)
            if "config.toml" in files:
                dirs[:] = []  # a run's own subfolders (export/, tensorboard/) hold no runs
                entry = read_run(item_id, here, roots.label(index))
                if parent is not None:
                    entry.study = parent.id
                    parent.runs.append(item_id)
                entries.append(entry)
            elif any(f in files for f in STUDY_FILES):
                entry = read_study(item_id, here, roots.label(index))
                studies[here] = entry
                entries.append(entry)
    return entries


def _pct(value) -> float | None:
    """An accuracy, or the mean of per-seed accuracies."""
    if isinstance(value, list):
        value = [v for v in value if isinstance(v, int | float)]
        return sum(value) / len(value) if value else None
    return float(value) if isinstance(value, int | float) else None


def read_run(item_id: str, path: Path, root: str) -> Entry:
    """A run folder's row: from config.toml and run.json, read once; what cannot be read is said."""
    from ..runs import RunDir

    entry = Entry(item_id, "run", path.name, root, IN_PROGRESS)
    run = RunDir(path)
    try:
        config = run.config
        entry.dataset, entry.model = config.dataset, config.model
    except MnistlabError as exc:
        entry.status, entry.message = "unreadable", str(exc)
        return entry
    if not (path / "run.json").is_file():
        entry.message = "starting: run.json is not written yet"
        entry.epochs = f"0 of {config.epochs}"
        return entry
    try:
        info = run.info
    except MnistlabError as exc:
        entry.status, entry.message = "unreadable", str(exc)
        return entry
    status = str(info.get("status") or "unknown")
    entry.status = IN_PROGRESS if status == "running" else status
    entry.message = str(info.get("message") or "")
    entry.created = str(info.get("created") or "")
    entry.dataset = str((info.get("dataset") or {}).get("name") or entry.dataset)
    summary = info.get("summary") or {}
    if summary:
        done = summary.get("epochs", 0)
    else:  # still running: the epochs finished so far are the lines of metrics.jsonl
        try:
            done = len(run.metrics())
        except MnistlabError:
            done = 0
    entry.epochs = f"{done} of {config.epochs}"
    entry.final_test_accuracy = _pct(summary.get("final_test_accuracy"))
    entry.best_test_accuracy = _pct(summary.get("best_test_accuracy"))
    kind = (info.get("model") or {}).get("kind", "classifier")
    has_params = run.params.is_file() or run.has_checkpoint()
    entry.predictable = kind != "autoencoder" and has_params
    return entry


def read_study(item_id: str, path: Path, root: str) -> Entry:
    """A study folder's row: results.json when it is there (the study finished), else study.json."""
    entry = Entry(item_id, "study", path.name, root, "completed")
    info: dict = {}
    for name in STUDY_FILES[::-1]:  # results.json first: it is written last, when the study is done
        file = path / name
        if not file.is_file():
            continue
        try:
            info = json.loads(file.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            entry.status, entry.message = "unreadable", f"{file.name}: {exc}"
            return entry
        if name == "study.json" and not (path / "results.json").is_file():
            entry.status = str(info.get("status") or IN_PROGRESS)
        break
    if not isinstance(info, dict):
        entry.status, entry.message = "unreadable", "expected a JSON object"
        return entry
    entry.model = f"study {info.get('study') or info.get('name') or ''}".strip()
    entry.message = str(info.get("title") or "")
    entry.created = str(info.get("created") or "")
    ds = info.get("dataset")
    entry.dataset = str(ds.get("name", "") if isinstance(ds, dict) else ds or "")
    return entry


def find(entries: list[Entry], item_id: str) -> Entry | None:
    return next((e for e in entries if e.id == item_id), None)
