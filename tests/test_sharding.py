"""Several devices in one process: seeds sharded over ``members``, batches over ``data``, the same
results as one device, checkpoints that move between device counts, and the options' errors.

The sharded runs need 8 devices, which on CPU exist only when XLA is told so before JAX starts:
``tests/sharding_checks.py`` runs them in ONE subprocess (float64, tiny MLP, 1,000 images,
compilations cached) and reports what it found; the tests here assert on that report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import assert_user_error, run_cli

TESTS = Path(__file__).resolve().parent

# Data parallelism sums each batch's gradient in 8 (or 4) partial sums instead of one, so it
# rounds differently; so does a device holding one member instead of eight vmapped ones (XLA:CPU
# vectorises batched programs differently; see test_engine's SEED_RTOL). In float64, after two
# epochs of Adam (20 steps), the largest differences measured are 1.5e-16 absolute and 9e-14
# relative (parameters ~1e-3 to 1); these bounds leave a margin of about 1,000 for other machines,
# while a real mistake (a slice counted twice or not at all, a missing gradient sum, another
# member's state) moves parameters by 1e-4 or more, the size of one Adam step.
RTOL, ATOL = 1e-9, 1e-12


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("sharding")
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
        "JAX_DISABLE_MOST_OPTIMIZATIONS": "1",  # tiny programs: skip XLA's optimisation passes
        "MNISTLAB_OFFLINE": "1",
        "MNISTLAB_DATA_DIR": str(folder / "cache"),
        "PYTHONPATH": os.pathsep.join([str(TESTS.parent / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(TESTS / "sharding_checks.py"), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _within(worst: list[float]) -> bool:
    """``[largest absolute difference, largest relative one (to |reference| + 1e-3)]`` both inside."""
    absolute, relative = worst
    return absolute <= ATOL and relative <= RTOL


def test_eight_seeds_on_eight_devices_are_eight_members_of_one_device_each(report):
    assert report["devices"] == 8
    assert report["mesh_of_8_seeds"] == [8, 1]


def test_a_member_on_its_own_device_is_bit_identical_to_its_seed_trained_alone(report):
    assert report["member_equals_alone"] == {"0": True, "7": True}


def test_eight_seeds_sharded_equal_eight_seeds_on_one_device_within_the_tolerance(report):
    assert _within(report["sharded_vs_one_device"]), report["sharded_vs_one_device"]


def test_two_seeds_on_eight_devices_split_each_batch_over_four(report):
    assert report["mesh_of_2_seeds"] == [2, 4]


def test_data_parallel_training_equals_one_device_within_the_tolerance(report):
    for worst in report["data_parallel_vs_alone"]:
        assert _within(worst), worst
    sharded, alone = report["data_parallel_test_loss"]
    assert sharded == pytest.approx(alone, rel=RTOL)


def test_a_checkpoint_written_on_eight_devices_resumes_on_one_and_back(report):
    for name, worst in report["resumed"].items():
        assert _within(worst), (name, worst)


def test_a_mesh_that_does_not_fit_is_refused_naming_what_would(report):
    not_dividing, too_many, wrong_size = report["errors"]
    assert "2x4 splits 3 members over 2 devices" in not_dividing
    assert "1x8" in not_dividing
    assert "asks for 9 devices but 8 are available" in too_many
    assert "2x2 has 4 devices but --devices gives 8" in wrong_size


# --- the options, in this process (one CPU device) -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--devices", "two"], ["devices must be", "'all' or a whole number", "'two'"]),
        (["--devices", "3"], ["asks for 3 devices but 1 are available", "--devices all"]),
        (["--mesh", "4"], ["mesh must be", "MEMBERSxDATA", "'4'"]),
        (["--mesh", "2x1"], ["2x1 has 2 devices but --devices gives 1"]),
    ],
)
def test_a_bad_devices_or_mesh_option_is_one_line_before_any_data_is_read(capsys, tmp_path, args, fragments):
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist-sample", "--out", tmp_path / "run", *args)
    assert_user_error(code, err, *fragments)
    assert not (tmp_path / "run").exists()


def test_mnistlab_devices_names_the_devices_and_the_mesh(capsys):
    code, out, err = run_cli(capsys, "devices", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["processes"] == 1
    assert info["device_count"] == len(info["local_devices"]) >= 1
    assert info["mesh"]["text"].startswith(f"mesh 1 members x {info['device_count']} data on")
