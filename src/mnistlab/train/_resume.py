"""Continuing a run that stopped after its last checkpoint, before its bookkeeping (params.npz,
the final run.json). Why apart from ``_run``: this reads a folder in whatever
state a crash left it; ``_run`` writes folders in the states it expects.
"""

from __future__ import annotations

from ..runs import RunDir, TrainConfig
from ..runs import now as _now
from ._result import RunResult
from ._summary import summarize_history


def history_at(run: RunDir, meta: dict):
    """The run's history up to its checkpoint's epoch: rebuilt from the append-only logs, or,
    for a run written before the logs carried it, read from the checkpoint itself."""
    from ._engine import History

    if "history" in meta:  # an older run folder: its checkpoint holds the history
        return History.from_dict(meta["history"])
    return History(*run.logged_history(meta["epoch"]))


def finish_from_checkpoint(run: RunDir, config: TrainConfig, command) -> RunResult:
    """A run killed after its last checkpoint, before its bookkeeping: write params.npz and the
    final run.json from that checkpoint, with no data read and nothing compiled."""
    count, meta = run.params_from_checkpoint()
    history = history_at(run, meta)
    info = dict(run.info)
    kind = info.get("model", {}).get("kind", "classifier")
    summary = summarize_history(history, kind, chance=info.get("chance"), seeds=config.seeds)
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
