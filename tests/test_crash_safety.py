"""A run stopped at any moment can be continued: before its first checkpoint, after its last one,
during compilation, or on a full disk. Each case is the folder such a stop leaves, made by hand
or by an injected fault, so no test races a timer."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import _fs
from mnistlab.cli import main

# Every run here is one program (the same tiny MLP): it is compiled once for the module.
pytestmark = pytest.mark.usefixtures("compilation_cache", "cheap_compiles")

ARGS = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "8", "--epochs", "1"]
ARGS += ["--batch-size", "512", "--quiet"]


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files if k != "__meta__"}


def _info(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def _set_running(run: Path) -> None:
    """run.json as the run wrote it at the start: status "running", no summary yet."""
    info = _info(run)
    for key in ("summary", "message", "param_count", "updated"):
        info.pop(key, None)
    info["status"] = "running"
    (run / "run.json").write_text(json.dumps(info))


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(["train", *ARGS, "--out", str(out)]) == 0
    return out


def _copy(finished: Path, tmp_path: Path, *keep: str) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    for name in keep:
        shutil.copy(finished / name, run / name)
    return run


def test_a_run_killed_before_its_first_checkpoint_resumes_from_epoch_zero(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path, "config.toml", "run.json")
    _set_running(run)
    code, _, err = run_cli(capsys, "train", "--resume", run, "--quiet")
    assert code == 0, err
    info = _info(run)
    assert info["status"] == "completed"
    assert info["resumed"][-1]["from_epoch"] == 0
    got, want = _arrays(run / "params.npz"), _arrays(finished / "params.npz")
    assert got.keys() == want.keys()
    for k in want:  # the same program on the same data and seed: the same arithmetic
        assert np.array_equal(got[k], want[k]), k


def test_a_folder_killed_before_its_run_json_resumes_from_its_saved_config(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path, "config.toml")
    # A new run into it is refused, and points at --resume ...
    code, _, err = run_cli(capsys, "train", *ARGS, "--out", run)
    assert_user_error(code, err, "already holds a run", f"--resume {run}")
    # ... which starts it from epoch 0 with the config it saved.
    code, _, err = run_cli(capsys, "train", "--resume", run, "--quiet")
    assert code == 0, err
    assert _info(run)["status"] == "completed"
    assert (run / "params.npz").is_file()


def test_a_run_killed_after_its_last_checkpoint_finishes_its_bookkeeping_on_resume(
    finished, tmp_path, capsys, monkeypatch
):
    run = _copy(finished, tmp_path, "config.toml", "run.json", "checkpoint.npz", "metrics.jsonl")
    _set_running(run)

    def no_data(*args, **kwargs):
        raise AssertionError("finishing from the checkpoint must not read any data")

    monkeypatch.setattr("mnistlab.train._run.prepare_data", no_data)
    code, out, err = run_cli(capsys, "train", "--resume", run)
    assert code == 0, err
    assert "test accuracy" in out
    info = _info(run)
    assert info["status"] == "completed"
    assert "finished from the checkpoint of epoch 1" in info["message"]
    assert info["summary"]["final_test_accuracy"] == _info(finished)["summary"]["final_test_accuracy"]
    assert info["param_count"] == _info(finished)["param_count"]
    got, want = _arrays(run / "params.npz"), _arrays(finished / "params.npz")
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)
    # Now it is finished: a second resume says so.
    code, _, err = run_cli(capsys, "train", "--resume", run)
    assert_user_error(code, err, "already finished all 1 epochs")


def test_ctrl_c_during_compilation_says_what_happened_and_how_to_resume(tmp_path, capsys, monkeypatch):
    from mnistlab.train import Engine

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "run"
    monkeypatch.setattr(Engine, "compile_epoch", interrupted)
    code, _, err = run_cli(capsys, "train", *ARGS, "--out", out)
    assert code == 130
    assert "Traceback" not in err
    assert "interrupted while compiling" in err
    assert f"mnistlab train --resume {out}" in err
    assert _info(out)["status"] == "interrupted"


def test_a_full_disk_while_checkpointing_is_one_line_naming_the_file_and_the_resume(
    tmp_path, capsys, monkeypatch
):
    real = _fs._write_file

    def full(path, payload):
        if ".checkpoint.npz." in path.name:  # the temporary file beside checkpoint.npz
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, payload)

    out = tmp_path / "run"
    monkeypatch.setattr(_fs, "_write_file", full)
    code, _, err = run_cli(capsys, "train", *ARGS, "--out", out)
    assert_user_error(
        code,
        err,
        f"no space left on device while writing {out / 'checkpoint.npz'}",
        f"free space and run `mnistlab train --resume {out}`",
        exit=1,
    )
    assert not (out / "checkpoint.npz").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    assert _info(out)["status"] == "failed"


def test_a_full_disk_while_creating_the_run_leaves_no_folder(tmp_path, capsys, monkeypatch):
    def full(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device")

    out = tmp_path / "new" / "run"
    monkeypatch.setattr(_fs, "_write_file", full)
    code, _, err = run_cli(capsys, "train", *ARGS, "--out", out)
    assert_user_error(code, err, "no space left on device while writing", "run the command again", exit=1)
    assert not (tmp_path / "new").exists()


def test_a_full_disk_under_any_other_writer_is_one_line_too(capsys, monkeypatch, tmp_path):
    """`data import` copies with shutil, figures are saved by Matplotlib: the CLI's safety net."""
    from mnistlab import data

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.gz"))

    monkeypatch.setattr(data, "status", full)
    code, _, err = run_cli(capsys, "data", "list")
    assert_user_error(code, err, f"no space left on device while writing {tmp_path / 'x.gz'}", exit=1)
