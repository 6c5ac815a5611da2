"""Continuing a run that stopped at an awkward moment: before its first checkpoint, or after its
last one but before its bookkeeping. Why apart from ``_run``: these read a folder in whatever
state a crash left it; ``_run`` writes folders in the states it expects.
"""

from __future__ import annotations

from pathlib import Path

from ..runs import CONFIG, RUN_JSON, RunDir, TrainConfig
from ..runs import now as _now
from ._result import RunResult
from ._summary import summarize_history


def open_for_resume(run_dir) -> RunDir:
    """The run folder to continue. One killed between writing its config.toml and its run.json
    has only the config: it is still a run, one that never started."""
    path = Path(run_dir)
    if (path / CONFIG).is_file() and not (path / RUN_JSON).is_file():
        run = RunDir(path)
        run.__dict__["info"] = {}
        run.config  # noqa: B018  (a damaged config fails here)
        return run
    return RunDir.open(path)


def finish_from_checkpoint(run: RunDir, config: TrainConfig, command) -> RunResult:
    """A run killed after its last checkpoint, before its bookkeeping: write params.npz and the
    final run.json from that checkpoint, with no data read and nothing compiled."""
    from ._engine import History

    count, meta = run.params_from_checkpoint()
    history = History.from_dict(meta["history"])
    info = dict(run.info)
    summary = summarize_history(history, info.get("model", {}).get("kind", "classifier"))
    summary["compile_seconds"] = 0.0
    message = (
        f"finished from the checkpoint of epoch {meta['epoch']} (the process ended before writing "
        f"{run.params.name})"
    )
    info.setdefault("resumed", []).append({"at": _now(), "from_epoch": meta["epoch"], "command": command})
    info.update(
        status="completed",
        message=message,
        updated=_now(),
        summary=summary,
        param_count=count // len(config.seeds),
    )
    run.write_info(info)
    return RunResult(run.path, config, "completed", message, history, summary)
