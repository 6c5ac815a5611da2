"""Several processes for real: two processes on 127.0.0.1 with 2 CPU devices each (collectives over
gloo) train exactly as one process with 4 devices, only process 0 writes and prints, and a
process whose partner never comes says so within its timeout instead of hanging.

Each process is a real ``mnistlab train`` (a subprocess: the device count is fixed before JAX
starts). The mesh is 2 members x 2 data, so both axes cross the processes' boundary.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
# The run's mesh is 2 members x 2 data: a member per process, its batches split over the process's
# two devices. It is float64 and compared within test_sharding's tolerance (justified there), not
# bit for bit: a program compiled for a process of 2 CPU devices rounds differently from the same
# program in a process of 4 (in float32, 6e-8 after one epoch, even for members alone), and gloo's
# sums are not the in-process ones.
RTOL, ATOL = 1e-9, 1e-12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, devices: int, tmp_path, **env) -> subprocess.Popen:
    """``python ARGS`` with ``devices`` fake CPU devices, offline, cheaply compiled."""
    environment = {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "JAX_PLATFORMS": "cpu",
        "JAX_DISABLE_MOST_OPTIMIZATIONS": "1",  # tiny programs: skip XLA's optimisation passes
        "MNISTLAB_OFFLINE": "1",
        "MNISTLAB_DATA_DIR": str(tmp_path / "cache"),
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The worker three times at once: processes 0 and 1 of two, and one process with 4 devices;
    beside them (it mostly waits), a process 0 of two whose partner never comes."""
    tmp = tmp_path_factory.mktemp("distributed")
    worker = TESTS / "distributed_worker.py"
    address = f"127.0.0.1:{_free_port()}"
    procs = [
        _start(
            [worker, tmp / "two", "--coordinator", address, "--num-processes", 2, "--process-id", i], 2, tmp
        )
        for i in (0, 1)
    ]
    procs.append(_start([worker, tmp / "one"], 4, tmp))
    alone = [
        "-m", "mnistlab", "devices", "--coordinator", f"127.0.0.1:{_free_port()}",
        "--num-processes", 2, "--process-id", 0,
    ]  # fmt: skip
    procs.append(_start(alone, 1, tmp, MNISTLAB_JOIN_TIMEOUT="2"))
    *results, abandoned = [_finish(p) for p in procs]
    for code, _, err in results:
        assert code == 0, err[-3000:]
    return tmp, results, abandoned


def _params(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "params.npz") as z:
        return {k: z[k] for k in z.files}


def test_two_processes_of_two_devices_train_as_one_process_of_four(runs):
    tmp, *_ = runs
    two, one = _params(tmp / "two" / "both"), _params(tmp / "one" / "both")
    for key in two:
        if key != "__meta__":
            assert two[key].dtype == np.float64
            np.testing.assert_allclose(two[key], one[key], rtol=RTOL, atol=ATOL, err_msg=key)


def test_the_run_folder_records_the_mesh_across_both_processes(runs):
    tmp, *_ = runs
    info = json.loads((tmp / "two" / "both" / "run.json").read_text())
    assert info["mesh"] == {"members": 2, "data": 2, "devices": 4}
    assert info["status"] == "completed"


def test_only_process_zero_prints_the_results(runs):
    _, (zero, one, _), _ = runs
    assert json.loads(zero[1])["status"] == "completed"
    assert one[1] == ""


def test_a_process_whose_partner_never_comes_fails_in_one_line_within_its_timeout(runs):
    code, _, err = runs[2]
    last = err.strip().splitlines()[-1]
    assert code == 1, err
    assert last.startswith("error: process 0 of 2 at 127.0.0.1:")
    assert "could not join the run within 2 s" in last
