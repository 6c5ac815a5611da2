"""`mnistlab train`, `evaluate` and `predict` end to end, offline, on the bundled MNIST sample."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import data
from mnistlab.cli import main
from mnistlab.train import load_toml

# Runs of one program (--config repeats, resumes, the subprocess) compile it once.
pytestmark = pytest.mark.usefixtures("compilation_cache")

SMOKE = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "32", "--epochs", "2"]
DIVERGING = ["--dataset", "mnist-sample", "--model", "softmax", "--optimizer", "sgd", "--lr", "1e38"]
RUN_FILES = {
    "config.toml",
    "run.json",
    "metrics.jsonl",
    "metrics.csv",
    "steps.csv",
    "checkpoint.npz",
    "params.npz",
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def one_line(text: str) -> str:
    """Rich wraps long lines at the console width: join them back."""
    return " ".join(text.split())


def npz_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def assert_same_arrays(a: Path, b: Path) -> None:
    x, y = npz_arrays(a), npz_arrays(b)
    assert x.keys() == y.keys()
    for k in x:
        assert x[k].dtype == y[k].dtype
        assert np.array_equal(x[k], y[k]), k


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Offline with a private cache, for module-scoped fixtures (conftest's autouse one is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("MPLBACKEND", "Agg")
        yield mp


@pytest.fixture(scope="module")
def smoke(env, tmp_path_factory):
    """`mnistlab train` of a small MLP for 2 epochs: (run folder, exit code, stdout, stderr)."""
    run_dir = tmp_path_factory.mktemp("smoke") / "run"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *SMOKE, "--out", str(run_dir), "--quiet"])
    return run_dir, code, out.getvalue(), err.getvalue()


# --- train ---------------------------------------------------------------------------------------


def test_train_smoke_writes_a_complete_run(smoke):
    run_dir, code, out, err = smoke
    assert code == 0, err
    assert err == ""  # --quiet
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert "test accuracy" in lines[0]
    assert "after 2 epochs" in lines[0]
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(RUN_FILES)  # no temporary files left

    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["message"] == ""
    assert {"python", "mnistlab", "jax", "jaxlib", "flax", "optax", "numpy"} <= info["versions"].keys()
    assert info["device"]["backend"] == jax.default_backend()
    dataset = info["dataset"]
    assert dataset["name"] == "mnist-sample"
    assert dataset["sizes"] == {"train": 4000, "test": 1000}
    assert dataset["notice"] is None
    for split in ("train", "test"):
        files = dataset["provenance"][split]["files"]
        assert files
        for f in files:
            assert SHA256.match(f["sha256"]), f
            assert SHA256.match(f["content_sha256"]), f
    assert info["seeds"] == [0]
    assert info["steps_per_epoch"] == 32
    summary = info["summary"]
    assert summary["epochs"] == 2
    assert f"test accuracy {100 * summary['final_test_accuracy']:.2f}%" in lines[0]
    assert summary["final_test_accuracy"] > 0.7

    config = load_toml(run_dir / "config.toml")
    assert (config.dataset, config.model, config.widths, config.epochs) == ("mnist-sample", "mlp", (32,), 2)
    assert config.lr == 0.001  # resolved: the saved config names every value it used

    records = read_jsonl(run_dir / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2]
    assert records[-1]["test_accuracy"] == [summary["final_test_accuracy"]]
    table = (run_dir / "metrics.csv").read_text().splitlines()
    assert len(table) == 3
    assert {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy"} <= set(table[0].split(","))
    steps = (run_dir / "steps.csv").read_text().splitlines()
    assert steps[0] == "epoch,step,loss"
    assert len(steps) == 1 + 2 * 32
    assert steps[-1].startswith("2,64,")

    params = npz_arrays(run_dir / "params.npz")
    checkpoint = npz_arrays(run_dir / "checkpoint.npz")
    meta = json.loads(checkpoint["__meta__"].tobytes())
    assert meta["epoch"] == 2
    assert "history" not in meta  # only what resume needs: the logs hold the history
    n_params = sum(a.size for k, a in params.items() if k != "__meta__")
    assert n_params == info["param_count"] == 784 * 32 + 32 + 32 * 10 + 10


def test_run_json_records_the_command_that_was_run(smoke):
    run_dir = smoke[0]
    command = json.loads((run_dir / "run.json").read_text())["command"]
    assert "--widths 32" in command


def test_default_dataset_falls_back_to_the_sample_offline(smoke, tmp_path, capsys):
    run_dir = tmp_path / "run"
    no_dataset = SMOKE[2:]  # the smoke run's options without --dataset mnist-sample
    code, out, err = run_cli(capsys, "train", *no_dataset, "--out", run_dir)
    assert code == 0, err
    note = one_line(err)
    assert "MNIST is not cached and could not be downloaded" in note
    assert "training on the bundled MNIST sample" in note
    assert "test accuracy" in out
    assert 'dataset = "mnist-sample"' in (run_dir / "config.toml").read_text().splitlines()
    info = json.loads((run_dir / "run.json").read_text())
    assert info["dataset"]["name"] == "mnist-sample"
    assert "MNIST sample" in info["dataset"]["notice"]
    # It is exactly the run that --dataset mnist-sample makes.
    assert_same_arrays(run_dir / "params.npz", smoke[0] / "params.npz")


def test_config_repeats_a_run_exactly_and_options_override_it(smoke, tmp_path, capsys):
    run_dir = smoke[0]
    again = tmp_path / "again"
    code, _, err = run_cli(capsys, "train", "--config", run_dir / "config.toml", "--out", again, "--quiet")
    assert code == 0, err
    assert load_toml(again / "config.toml") == load_toml(run_dir / "config.toml")
    assert_same_arrays(run_dir / "params.npz", again / "params.npz")

    shorter = tmp_path / "shorter"
    args = ["--config", run_dir / "config.toml", "--epochs", "1", "--out", shorter, "--quiet"]
    code, _, err = run_cli(capsys, "train", *args)
    assert code == 0, err
    assert load_toml(shorter / "config.toml") == load_toml(run_dir / "config.toml").replace(epochs=1)
    (first,) = read_jsonl(shorter / "metrics.jsonl")
    original = read_jsonl(run_dir / "metrics.jsonl")[0]
    for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
        assert first[key] == original[key]  # the same first epoch, to the bit


def test_several_seeds_report_mean_and_spread(tmp_path, capsys):
    run_dir = tmp_path / "run"
    args = ["--dataset", "mnist-sample", "--model", "softmax", "--epochs", "1", "--seeds", "3"]
    code, out, err = run_cli(capsys, "train", *args, "--out", run_dir, "--quiet")
    assert code == 0, err
    assert "±" in out
    header = (run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    for column in ("train_loss_std", "train_accuracy_std", "test_loss_std", "test_accuracy_std"):
        assert column in header
    steps_header = (run_dir / "steps.csv").read_text().splitlines()[0]
    assert steps_header == "epoch,step,loss,loss_seed0,loss_seed1,loss_seed2"
    info = json.loads((run_dir / "run.json").read_text())
    assert info["seeds"] == [0, 1, 2]
    assert len(info["summary"]["final_test_accuracy_per_seed"]) == 3

    code, out, err = run_cli(capsys, "evaluate", run_dir)
    assert code == 0, err
    assert "over 3 seeds" in out
    assert "ensemble of the seeds" in out


# --- evaluate and predict ------------------------------------------------------------------------


def test_evaluate_prints_and_reports_the_final_accuracy(smoke, capsys):
    run_dir = smoke[0]
    final = json.loads((run_dir / "run.json").read_text())["summary"]["final_test_accuracy"]
    code, out, err = run_cli(capsys, "evaluate", run_dir)
    assert code == 0, err
    assert f"accuracy {100 * final:.2f}%" in out
    assert "1,000 examples, epoch 2" in out

    code, out, err = run_cli(capsys, "evaluate", run_dir, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["accuracy"] == pytest.approx(final, abs=1e-12)
    assert res["examples"] == 1000
    assert res["epoch"] == 2
    assert sum(c["examples"] for c in res["per_class"].values()) == 1000


def test_evaluate_on_a_dataset_that_is_not_here_is_one_line(smoke, capsys):
    code, _, err = run_cli(capsys, "evaluate", smoke[0], "--dataset", "fashion-mnist")
    assert_user_error(code, err, "fashion-mnist", exit=1)  # data that is not here: a runtime failure


def test_predict_image_files(smoke, tmp_path, capsys):
    from PIL import Image

    from mnistlab.evaluate import load_run, predict_proba

    run_dir = smoke[0]
    test = data.load("mnist-sample", "test")
    png, npy = tmp_path / "img.png", tmp_path / "img2.npy"
    Image.fromarray(test.images[0]).save(png)
    np.save(npy, test.images[1])

    code, out, err = run_cli(capsys, "predict", run_dir, png, npy)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, (png, npy), strict=True):
        assert re.match(rf"{re.escape(str(path))}: [0-9] \([0-9] \d+\.\d%", line), line

    code, out, err = run_cli(capsys, "predict", run_dir, png, npy, "--json")
    assert code == 0, err
    results = json.loads(out)
    assert [r["path"] for r in results] == [str(png), str(npy)]
    for r in results:
        assert sum(r["probabilities"].values()) == pytest.approx(1, abs=1e-5)
        assert r["prediction"] == max(r["probabilities"], key=r["probabilities"].get)
        assert r["inverted"] is False  # white on black, like MNIST

    # Without centring, an MNIST image passes through unchanged: the model's own probabilities.
    code, out, err = run_cli(capsys, "predict", run_dir, png, npy, "--json", "--no-center")
    assert code == 0, err
    got = np.array([list(r["probabilities"].values()) for r in json.loads(out)])
    expected = predict_proba(load_run(run_dir), test.images[:2])
    np.testing.assert_allclose(got, expected, atol=1e-6)


# --- resume --------------------------------------------------------------------------------------


def test_resume_continues_exactly(smoke, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(smoke[0], run_dir)
    code, out, err = run_cli(capsys, "train", "--resume", run_dir, "--epochs", "3", "--quiet")
    assert code == 0, err
    assert "after 3 epochs" in out
    records = read_jsonl(run_dir / "metrics.jsonl")
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[:2] == read_jsonl(smoke[0] / "metrics.jsonl")
    assert load_toml(run_dir / "config.toml").epochs == 3
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert [r["from_epoch"] for r in info["resumed"]] == [2]
    # Exact: the same parameters as three epochs in one go.
    straight = tmp_path / "straight"
    args = ["--config", smoke[0] / "config.toml", "--epochs", "3", "--out", straight, "--quiet"]
    assert run_cli(capsys, "train", *args)[0] == 0
    assert_same_arrays(run_dir / "params.npz", straight / "params.npz")


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ([], ["already finished all 2 epochs", "--epochs"]),
        (["--epochs", "1"], ["--epochs must be >= 2"]),
        (["--lr", "0.1"], ["only --epochs may be given", "--lr"]),
        (["--epochs", "3", "--out", "elsewhere"], ["only --epochs may be given", "--out"]),
    ],
)
def test_resume_refusals(smoke, capsys, extra, fragments):
    run_dir = smoke[0]
    before = {name: (run_dir / name).read_bytes() for name in RUN_FILES}
    code, _, err = run_cli(capsys, "train", "--resume", run_dir, *extra)
    assert_user_error(code, err, *fragments)
    assert {name: (run_dir / name).read_bytes() for name in RUN_FILES} == before


# --- user errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["train", "--dataset", "mnist-sample", "--model", "foo"],
            ["model must be one of", "softmax", "mlp", "binary-mlp", "cnn", "autoencoder", "'foo'"],
        ),
        (["train", "--widths", "a,b"], ["--widths", "comma-separated integers", "'a,b'"]),
        (["train", "--epochs", "0"], ["epochs must be a positive integer", "got 0"]),
        (["train", "--dtype", "float16"], ["dtype must be one of", "float32", "'float16'"]),
        (["train", "--classes", "3"], ["classes must name at least two classes"]),
        (
            ["train", "--dataset", "mnist-sample", "--model", "binary-mlp"],
            ["binary", "two classes", "--classes"],
        ),
        (["train", "--dataset", "mnist-sample", "--out", "{run}"], ["already holds a run", "--resume"]),
        (["train", "--config", "missing.toml"], ["missing.toml", "does not exist"]),
        (["train", "--config", "{bad_toml}"], ["not valid TOML"]),
        (["train", "--resume", "not-a-run"], ["not-a-run", "does not exist"]),
        (["train", "--resume", "{empty}"], ["is not an mnistlab run"]),
        (["train", "--seed", "1", "--seeds", "0,4"], ["--seed", "--seeds"]),
        (["train", "--seeds", "0,0"], ["seeds must be distinct"]),
        (["evaluate", "{empty}"], ["is not an mnistlab run", "config.toml"]),
        (["evaluate", "not-a-run"], ["does not exist"]),
        (["predict", "{empty}", "{image}"], ["is not an mnistlab run"]),
        (["predict", "{run}", "missing.png"], ["missing.png", "no such file", 1]),  # a file: runtime
        (["predict", "{run}", "{image}", "--invert", "maybe"], ["--invert must be one of"]),
    ],
)
def test_user_errors_are_one_line_exit_2(smoke, tmp_path, monkeypatch, capsys, args, fragments):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.toml").write_text("epochs = = 3\n")
    np.save(tmp_path / "img.npy", np.zeros((28, 28), np.uint8))
    names = {"run": smoke[0], "empty": tmp_path / "empty", "bad_toml": tmp_path / "bad.toml"}
    names["image"] = tmp_path / "img.npy"
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = run_cli(capsys, *[a.format(**names) for a in args])
    exit_code = fragments[-1] if isinstance(fragments[-1], int) else 2
    assert_user_error(code, err, *[f for f in fragments if isinstance(f, str)], exit=exit_code)
    assert out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no run folder made


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--model", "foo"], "model must be one of"),
        (["--model", "binary-mlp"], "--classes"),
        (["--out", "{run}"], "already holds a run"),
    ],
)
def test_user_errors_without_dataset_are_one_line(smoke, capsys, args, fragment):
    code, _, err = run_cli(capsys, "train", *[a.format(run=smoke[0]) for a in args])
    assert_user_error(code, err, fragment)


# --- divergence ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def diverged(env, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("diverged") / "run"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", *DIVERGING, "--epochs", "2", "--out", str(run_dir), "--quiet"])
    return run_dir, code, out.getvalue(), err.getvalue()


def test_divergence_exits_1_and_saves_the_run(diverged):
    run_dir, code, out, err = diverged
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert re.match(r"error: diverged at epoch 1, step \d+: loss is (nan|inf|-inf); try a smaller", lines[0])
    assert str(run_dir) in lines[0]
    assert "Traceback" not in err
    assert out.startswith(f"run {run_dir}")
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "diverged"
    assert info["message"].startswith("diverged at epoch 1")
    assert {p.name for p in run_dir.iterdir()} >= RUN_FILES
    (record,) = read_jsonl(run_dir / "metrics.jsonl")
    assert record["diverged"] is True


def test_resume_of_a_diverged_run_is_refused(diverged, capsys):
    run_dir = diverged[0]
    code, _, err = run_cli(capsys, "train", "--resume", run_dir)
    assert_user_error(code, err, "diverged", "smaller --lr")


def test_refused_resume_with_epochs_leaves_the_run_unchanged(diverged, capsys):
    run_dir = diverged[0]
    before = (run_dir / "config.toml").read_text()
    code, _, err = run_cli(capsys, "train", "--resume", run_dir, "--epochs", "5")
    assert_user_error(code, err, "diverged")
    assert (run_dir / "config.toml").read_text() == before


# --- the real script -----------------------------------------------------------------------------


def test_python_m_mnistlab_train(smoke, tmp_path, compilation_cache):
    """The installed entry point in a fresh process: default run folder, exit code, same parameters."""
    env = {
        **os.environ,
        "MNISTLAB_OFFLINE": "1",
        "MNISTLAB_DATA_DIR": str(tmp_path / "cache"),
        "MPLBACKEND": "Agg",
        "JAX_COMPILATION_CACHE_DIR": str(compilation_cache),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mnistlab", "train", *SMOKE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}-mlp-mnist-sample", run_dir.name)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"run {Path('runs') / run_dir.name}; test accuracy")
    progress = one_line(proc.stderr)
    assert "Training mlp on MNIST sample (5,000 images)" in progress
    assert "epoch 2" in progress
    assert json.loads((run_dir / "run.json").read_text())["status"] == "completed"
    assert_same_arrays(run_dir / "params.npz", smoke[0] / "params.npz")  # deterministic across processes
