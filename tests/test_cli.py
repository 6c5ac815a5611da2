"""The real entry point, end to end, on the offline sample and the shared full-size data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import assert_user_error, run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_readme_main_command_via_python_m(tmp_path):
    """`python -m mnistlab data show mnist-sample` works offline, from any folder."""
    env = {**os.environ, "MNISTLAB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "mnistlab", "data", "show", "mnist-sample"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "MNIST sample (5,000 images)" in proc.stdout
    png = tmp_path / "mnist-sample-train.png"
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert png.stat().st_size > 10_000
    umask = os.umask(0o022)
    os.umask(umask)
    assert png.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file the user makes
    assert [p.name for p in tmp_path.iterdir()] == [png.name]  # no temporary files left


def test_show_writes_grid_of_requested_size(tmp_path, capsys):
    import matplotlib.image as mpimg

    small, big = tmp_path / "small.png", tmp_path / "big.png"
    assert (
        run_cli(capsys, "data", "show", "mnist-sample", "--split", "test", "--n", "5", "--out", small)[0] == 0
    )
    assert run_cli(capsys, "data", "show", "mnist-sample", "--n", "40", "--out", big)[0] == 0
    h_small, w_small = mpimg.imread(small).shape[:2]
    h_big, w_big = mpimg.imread(big).shape[:2]
    assert w_big > w_small  # 10 columns instead of 5
    assert h_big > h_small  # 4 rows instead of 1


def test_show_svg(tmp_path, capsys):
    out = tmp_path / "grid.svg"
    code, stdout, _ = run_cli(capsys, "data", "show", "mnist-sample", "--n", "3", "--out", out)
    assert code == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert "wrote 3 train images" in stdout


def test_list_names_every_dataset(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run_cli(capsys, "data", "list")
    assert code == 0
    for name in ("mnist", "fashion-mnist", "kmnist", "mnist-sample", "bundled", "60,000", "4,000"):
        assert name in out


def test_info_json_on_the_sample(capsys):
    code, out, _ = run_cli(capsys, "data", "info", "mnist-sample", "--split", "train", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["title"] == "MNIST sample (5,000 images)"
    assert info["n"] == 4000
    assert set(info["classes"].values()) == {400}
    assert 0.1 < info["pixels"]["mean"] < 0.2
    assert info["provenance"]["origin"] == "bundled"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["data", "show", "nope"], ["dataset must be one of", "'mnist-sample'", "got 'nope'"]),
        (["data", "show", "mnist-sample", "--split", "val"], ["split must be one of", "got 'val'"]),
        (["data", "show", "mnist-sample", "--n", "0"], ["--n must be between 1 and 400", "got 0"]),
        (["data", "show", "mnist-sample", "--out", "grid.txt"], ["--out must end in", "grid.txt"]),
        (["data", "show", "mnist-sample", "--out", "no/such/dir/g.png"], ["does not exist"]),
        # Data that is not here (offline) is a runtime failure: exit 1.
        (
            ["data", "show", "mnist"],
            ["train-images-idx3-ubyte", "MNISTLAB_OFFLINE=1", "mnistlab data import", 1],
        ),
        (["data", "fetch", "kmnist"], ["kmnist", "--data-dir", "mnistlab data import DIR --name kmnist", 1]),
        (["data", "import", "/no/such/folder", "--name", "mnist"], ["/no/such/folder", "found nothing", 1]),
        (["data", "import", ".", "--name", "mnist-sample"], ["needs no import", "'mnist'"]),
    ],
)
def test_user_errors_are_one_line_exit_2(capsys, tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *args)
    exit_code = fragments[-1] if isinstance(fragments[-1], int) else 2
    assert_user_error(code, err, *[f for f in fragments if isinstance(f, str)], exit=exit_code)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_usage_errors_exit_2(capsys):
    assert run_cli(capsys, "data", "show")[0] == 2
    assert run_cli(capsys, "data", "frobnicate")[0] == 2


def test_import_then_info_on_real_mnist_test_split(shared_data, tmp_path, capsys):
    cache = tmp_path / "cache"
    code, out, _ = run_cli(
        capsys, "data", "import", shared_data / "mnist-test", "--name", "mnist", "--data-dir", cache
    )
    assert code == 0
    assert "3 of 4 files imported" in out
    assert "train-images-idx3-ubyte" in out
    code, out, _ = run_cli(capsys, "data", "info", "mnist", "--split", "test", "--json", "--data-dir", cache)
    assert code == 0
    info = json.loads(out)
    assert info["n"] == 10_000
    assert info["classes"]["1"] == 1135
    assert {f["verified_by"] for f in info["provenance"]["files"]} == {"content-sha256"}
    code, _, err = run_cli(capsys, "data", "info", "mnist", "--split", "train", "--data-dir", cache)
    assert_user_error(code, err, "train-images-idx3-ubyte", "--data-dir", exit=1)  # not here: runtime
    # Without --split, info shows the split that is there and says which is not.
    code, out, _ = run_cli(capsys, "data", "info", "mnist", "--data-dir", cache)
    assert code == 0
    assert "test split: 10,000 images" in out
    assert "train split: not available" in out


def test_fashion_mnist_from_a_read_only_data_dir(shared_data, capsys, tmp_path):
    out_png = tmp_path / "fashion.png"
    args = ["--data-dir", shared_data]
    code, out, _ = run_cli(capsys, "data", "info", "fashion-mnist", "--json", *args)
    assert code == 0
    train, test = json.loads(out)
    assert (train["n"], test["n"]) == (60_000, 10_000)
    assert set(train["classes"].values()) == {6000}
    code, out, _ = run_cli(capsys, "data", "show", "fashion-mnist", "--n", "12", "--out", out_png, *args)
    assert code == 0
    assert Path(out_png).read_bytes()[:8] == PNG_MAGIC


def test_fetch_of_the_bundled_sample_reports_its_files(capsys):
    code, out, _ = run_cli(capsys, "data", "fetch", "mnist-sample")
    assert code == 0
    assert "train-images-idx3-ubyte.gz: verified by content-sha256" in out
    assert "MNIST sample (5,000 images): 4 files present and verified." in out
