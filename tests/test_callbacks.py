"""The per-epoch callback hook of train.fit / train.train / train.resume: what a callback sees,
stopping a run and resuming it exactly, and a callback that raises."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, train
from mnistlab.runs import RunDir

pytestmark = pytest.mark.usefixtures("compilation_cache")  # its runs are of one program: compile once

# Tiny, so that three short runs of one program fit in a few seconds; two seeds, so the records
# hold per-seed lists like a real multi-seed run.
CONFIG = train.TrainConfig(
    dataset="mnist-sample", model="mlp", widths=(16,), epochs=5, batch_size=512, seeds=(0, 1), lr=0.01
)


def _params(run: Path) -> list[np.ndarray]:
    with np.load(run / "params.npz") as z:
        return [z[k] for k in sorted(z.files) if k != "__meta__"]


class StopAfter:
    """Records what it is given and asks to stop after epoch ``n``."""

    def __init__(self, n: int):
        self.n = n
        self.records: list[dict] = []
        self.history_lengths: list[int] = []
        self.states: list = []

    def __call__(self, record, history, state):
        self.records.append(json.loads(json.dumps(record)))  # as the file holds it
        self.history_lengths.append(len(history.epochs))
        self.states.append(state)
        return record["epoch"] == self.n


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cheap_compiles):
    """A run stopped by a callback after epoch 2 of 5 and then resumed, and the same run uninterrupted."""
    base = tmp_path_factory.mktemp("callbacks")
    stopper = StopAfter(2)
    stopped = train.train(CONFIG, out=base / "stopped", quiet=True, callbacks=[stopper])
    snapshot = {
        "status": stopped.status,
        "message": stopped.message,
        "metrics": RunDir(base / "stopped").metrics(),
        "info": json.loads((base / "stopped" / "run.json").read_text()),
        "has_params": (base / "stopped" / "params.npz").exists(),
    }
    watcher = StopAfter(0)  # never stops; sees the resumed epochs
    resumed = train.resume(base / "stopped", quiet=True, callbacks=[watcher])
    # A stop asked for after the last epoch has nothing left to stop: the run completes.
    whole = train.train(CONFIG, out=base / "whole", quiet=True, callbacks=[StopAfter(5)])
    return base, stopper, snapshot, watcher, resumed, whole


def test_a_callback_sees_each_epochs_record_exactly_as_metrics_jsonl_holds_it(runs):
    base, stopper, _, watcher, _, _ = runs
    records = RunDir(base / "stopped").metrics()
    assert [r["epoch"] for r in records] == [1, 2, 3, 4, 5]
    assert stopper.records + watcher.records == records
    # The history so far and the state after the epoch come with each record.
    assert stopper.history_lengths + watcher.history_lengths == [1, 2, 3, 4, 5]
    assert all(isinstance(s, train.TrainState) for s in stopper.states + watcher.states)


def test_returning_true_stops_the_run_after_that_epoch_with_a_resumable_status(runs):
    _, _, snap, _, _, _ = runs
    assert snap["status"] == "stopped"
    assert snap["message"].startswith("stopped by callback StopAfter after epoch 2")
    assert "mnistlab train --resume" in snap["message"]
    assert [r["epoch"] for r in snap["metrics"]] == [1, 2]
    assert snap["info"]["status"] == "stopped"
    assert snap["info"]["summary"]["epochs"] == 2
    # Like an interrupted run: the checkpoint holds the state, params.npz is written when it ends.
    assert not snap["has_params"]


def test_resuming_a_stopped_run_gives_the_parameters_of_the_uninterrupted_run_bit_for_bit(runs):
    base, _, _, _, resumed, whole = runs
    assert resumed.status == whole.status == "completed"  # whole: stopped after its last epoch
    got, want = _params(base / "stopped"), _params(base / "whole")
    assert len(got) == len(want) > 0
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)
    timing = ("epoch_seconds", "examples_per_second", "eval_seconds")
    strip = [{k: v for k, v in r.items() if k not in timing} for r in RunDir(base / "whole").metrics()]
    assert [
        {k: v for k, v in r.items() if k not in timing} for r in RunDir(base / "stopped").metrics()
    ] == strip


def test_a_callback_that_fails_keeps_its_epoch_and_marks_the_run_failed(tmp_path):
    def plot(record, history, state):
        return [record["epoch"]]  # e.g. what ax.plot returns, by accident: an error, not a guess

    with pytest.raises(TypeError, match=r"^callback plot returned list; return True to stop"):
        train.train(CONFIG, out=tmp_path / "run", quiet=True, callbacks=[plot])
    run = RunDir.open(tmp_path / "run")
    assert run.checkpoint_meta()["epoch"] == 1  # saved before any callback ran
    assert [r["epoch"] for r in run.metrics()] == [1]
    assert run.info["status"] == "failed"
    assert run.info["message"].startswith("TypeError after epoch 1: callback plot returned list")
    assert train.resume(tmp_path / "run", epochs=2, quiet=True).status == "completed"


@pytest.mark.parametrize("callbacks", [print, ["not callable"], [print, 3]])
def test_callbacks_that_are_not_a_list_of_callables_fail_before_any_work(tmp_path, callbacks):
    with pytest.raises(
        ConfigError, match=r"^callbacks must be unset or a list of callables f\(record, history, state\)"
    ):
        train.train(CONFIG, out=tmp_path / "run", quiet=True, callbacks=callbacks)
    assert not (tmp_path / "run").exists()
