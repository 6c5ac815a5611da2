"""Kill a real `mnistlab train` process, resume it, and get bit-identical parameters.

The process is killed from inside (a wrapper replaces the checkpoint writer with one that sends
itself SIGKILL or SIGINT at a chosen epoch), so the test never races against a timer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.runs import _checkpoint

pytestmark = pytest.mark.slow  # each test kills and restarts a real training process

ARGS = [
    "--dataset",
    "mnist-sample",
    "--model",
    "mlp",
    "--widths",
    "48",
    "--epochs",
    "4",
    "--batch-size",
    "256",
]
ARGS += ["--optimizer", "momentum", "--lr", "0.05", "--quiet"]

WRAPPER = textwrap.dedent(
    """
    import os, signal, sys
    from mnistlab.runs import _checkpoint
    from mnistlab import _fs

    MODE, AT = sys.argv[1], int(sys.argv[2])
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler;
    # a user at a terminal has one, so give this process the terminal's behaviour.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    real_save = _checkpoint.save
    fired = []

    def torn_write(path, payload):
        # Die halfway through writing the temporary file, as a power cut would.
        with _fs.temp_beside(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(payload[: len(payload) // 2])
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)

    def save(path, tree, meta):
        if path.name == "checkpoint.npz" and meta["epoch"] == AT and MODE == "torn":
            _checkpoint.atomic_write_bytes = torn_write
        real_save(path, tree, meta)
        if path.name == "checkpoint.npz" and meta["epoch"] == AT and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGKILL if MODE == "kill" else signal.SIGINT)

    _checkpoint.save = save
    from mnistlab.cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


def _params(run: Path) -> list[np.ndarray]:
    with np.load(run / "params.npz") as z:
        return [z[k] for k in sorted(z.files) if k != "__meta__"]


def _history(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    timing = {"epoch_seconds", "examples_per_second", "eval_seconds"}
    return [{k: v for k, v in r.items() if k not in timing} for r in rows]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main(["train", *ARGS, "--out", str(out)]) == 0
    return out


def _run_wrapper(tmp_path: Path, mode: str, at: int, out: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    env = {**os.environ, "MNISTLAB_OFFLINE": "1"}
    cmd = [sys.executable, str(script), mode, str(at), "train", *ARGS, "--out", str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize(("mode", "at", "expect_epoch"), [("kill", 2, 2), ("torn", 3, 2)])
def test_sigkill_then_resume_is_bit_identical(tmp_path, reference, mode, at, expect_epoch):
    out = tmp_path / "run"
    proc = _run_wrapper(tmp_path, mode, at, out)
    assert proc.returncode == -9, proc.stderr
    assert not (out / "params.npz").exists()
    # The checkpoint is whole and from the last epoch whose write completed.
    assert _checkpoint.read_meta(out / "checkpoint.npz")["epoch"] == expect_epoch
    assert json.loads((out / "run.json").read_text())["status"] == "running"

    assert main(["train", "--resume", str(out), "--quiet"]) == 0

    got, want = _params(out), _params(reference)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)
    assert _history(out) == _history(reference)
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["resumed"][0]["from_epoch"] == expect_epoch


def test_ctrl_c_saves_and_says_how_to_resume(tmp_path, reference):
    out = tmp_path / "run"
    proc = _run_wrapper(tmp_path, "int", 1, out)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"mnistlab train --resume {out}" in proc.stderr
    assert _checkpoint.read_meta(out / "checkpoint.npz")["epoch"] >= 1
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"

    assert main(["train", "--resume", str(out), "--quiet"]) == 0
    for a, b in zip(_params(out), _params(reference), strict=True):
        assert np.array_equal(a, b)
