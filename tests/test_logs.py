"""Append-only run logs: each epoch's write costs the same, torn lines are ignored, resume
rebuilds the history from the logs (and still reads an older checkpoint's history)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnistlab import train
from mnistlab._errors import RunFolderError
from mnistlab.runs import RunDir, TrainConfig, _logs
from mnistlab.train import _resume

SEEDS = (0, 1)


class _History:
    def __init__(self, epochs=None, step_loss=None):
        self.epochs, self.step_loss = epochs or [], step_loss or []


def _epoch(e: int, rng) -> tuple[dict, np.ndarray]:
    record = {
        "epoch": e,
        "step": 3 * e,
        "train_loss": [float(v) for v in rng.random(2)],
        "test_accuracy": [float(v) for v in rng.random(2)],
    }
    return record, rng.random((2, 3)).astype(np.float32)


@pytest.fixture
def count_writes(monkeypatch):
    """Bytes written to the logs, appended or rewritten, since the last reset."""
    written = [0]
    real_append, real_atomic = _logs.append_bytes, _logs.atomic_write_bytes

    def append(path, payload):
        written[0] += len(payload)
        real_append(path, payload)

    def atomic(path, payload):
        written[0] += len(payload)
        real_atomic(path, payload)

    monkeypatch.setattr(_logs, "append_bytes", append)
    monkeypatch.setattr(_logs, "atomic_write_bytes", atomic)
    return written


def test_the_write_for_epoch_fifty_is_no_bigger_than_for_epoch_two(tmp_path, count_writes):
    run, history, rng = RunDir(tmp_path), _History(), np.random.default_rng(0)
    per_epoch = []
    for e in range(1, 51):
        record, steps = _epoch(e, rng)
        history.epochs.append(record)
        history.step_loss.append(steps)
        count_writes[0] = 0
        run.append_metrics(history, SEEDS)
        per_epoch.append(count_writes[0])
    one_line_each = 3 * 120  # a line of each log, with room for longer numbers
    assert per_epoch[49] <= per_epoch[1] + one_line_each
    # And what was appended is what a whole rewrite writes.
    appended = {n: (tmp_path / n).read_bytes() for n in ("metrics.jsonl", "metrics.csv", "steps.csv")}
    RunDir(tmp_path / "whole").write_metrics(history, SEEDS)
    for name, data in appended.items():
        assert (tmp_path / "whole" / name).read_bytes() == data, name


def test_a_real_runs_epoch_writes_do_not_grow_and_its_checkpoint_holds_no_history(
    tmp_path, count_writes, monkeypatch, cheap_compiles
):
    per_epoch = []

    def note(record, history, state):
        per_epoch.append(count_writes[0])
        count_writes[0] = 0

    config = TrainConfig(dataset="mnist-sample", model="softmax", epochs=8, batch_size=500, lr=0.1)
    result = train.train(config, out=tmp_path / "run", quiet=True, callbacks=[note])
    assert result.status == "completed"
    assert per_epoch[7] <= per_epoch[1] + 3 * 200
    meta = RunDir(tmp_path / "run").checkpoint_meta()
    assert meta["epoch"] == 8
    assert "history" not in meta


def test_a_torn_last_line_is_ignored_and_resume_cuts_the_logs_back(tmp_path):
    run, rng = RunDir(tmp_path), np.random.default_rng(1)
    pairs = [_epoch(e, rng) for e in (1, 2, 3)]
    history = _History([r for r, _ in pairs], [s for _, s in pairs])
    run.write_metrics(history, SEEDS)
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"epoch": 4, "train_lo')  # a kill mid-append
    with open(tmp_path / "steps.csv", "a") as f:
        f.write("4,10,0.5")
    fresh = RunDir(tmp_path)
    assert [r["epoch"] for r in fresh.metrics()] == [1, 2, 3]
    assert fresh.steps().shape == (2, 9)
    # The checkpoint is from epoch 2: the logs hold one epoch more, which resume drops.
    records, steps = fresh.logged_history(2)
    assert records == history.epochs[:2]
    for got, want in zip(steps, history.step_loss[:2], strict=True):
        assert got.dtype == np.float32
        assert np.array_equal(got, want)


def test_logs_shorter_than_the_checkpoint_are_a_damaged_folder(tmp_path):
    rng = np.random.default_rng(2)
    record, steps = _epoch(1, rng)
    RunDir(tmp_path).write_metrics(_History([record], [steps]), SEEDS)
    with pytest.raises(RunFolderError, match=r"checkpoint is from epoch 2 but metrics\.jsonl"):
        RunDir(tmp_path).logged_history(2)


def test_an_older_checkpoint_with_its_history_inside_is_still_read(tmp_path):
    old = {"epochs": [{"epoch": 1, "train_loss": [0.5]}], "step_loss": [[[0.25, 0.125]]]}
    history = _resume.history_at(RunDir(tmp_path), {"epoch": 1, "history": old})
    assert history.epochs == old["epochs"]
    assert np.array_equal(history.step_loss[0], np.array([[0.25, 0.125]], np.float32))
    assert not (tmp_path / "metrics.jsonl").exists()  # nothing read from the (absent) logs


def test_an_interrupted_append_is_rewritten_whole(tmp_path):
    run, rng = RunDir(tmp_path), np.random.default_rng(3)
    pairs = [_epoch(e, rng) for e in (1, 2)]
    history = _History([r for r, _ in pairs], [s for _, s in pairs])
    run.append_metrics(_History(history.epochs[:1], history.step_loss[:1]), SEEDS)
    run.append_metrics(history, SEEDS)
    # A shorter history than the logs hold (an interruption's trim): rewritten, not appended.
    run.append_metrics(_History(history.epochs[:1], history.step_loss[:1]), SEEDS)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1]
