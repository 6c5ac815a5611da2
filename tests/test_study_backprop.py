"""`mnistlab study backprop | logistic | optimizers` (study S9 and its follow-ups), offline, on the
bundled MNIST sample; the full-size Fashion-MNIST check skips when ../shared/data is absent."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import ConfigError, studies
from mnistlab.cli import main

ROWS = ["numpy", "einsum", "jax", "jax-grad", "sklearn"]


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """NumPy's BLAS on one thread: on a 2-core machine shared with XLA's threads and other jobs, its
    spinning worker threads make the small matrix products here several times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Offline with a private cache, for module-scoped fixtures (conftest's autouse one is per test)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_OFFLINE", "1")
        mp.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("MPLBACKEND", "Agg")
        yield mp


@pytest.fixture(scope="module")
def backprop(env, tmp_path_factory):
    """S9's speed table on the MNIST sample: 3 epochs of batch 100, every implementation (the
    einsum form timed on 2 steps). (folder, exit code, stdout, stderr, results.json)."""
    out_dir = tmp_path_factory.mktemp("study") / "backprop"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(
            ["study", "backprop", "--dataset", "mnist-sample", "--einsum-steps", "2", "--out", str(out_dir)]
        )
    info = json.loads((out_dir / "results.json").read_text()) if code == 0 else None
    return out_dir, code, out.getvalue(), err.getvalue(), info


# --- study backprop ------------------------------------------------------------------------------


def test_backprop_prints_the_table_and_saves_a_complete_folder(backprop):
    out_dir, code, out, err, info = backprop
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(studies.RESULT_FILES)  # no temporary files
    text = one_line(out)
    for label in (
        "numpy (hand-written)",
        "jax (hand-written, jit)",
        "jax (jax.grad, jit)",
        "sklearn MLPClassifier",
    ):
        assert label in text
    assert "per-example einsum" in text
    assert "2 of its 40 steps per epoch timed and scaled to 3 epochs" in text
    assert "2 of 40 steps" in text  # the einsum row says what it is (Rich wraps the rest of the cell)
    for column in ("compile s", "training s", "s/epoch", "predict s", "test acc"):
        assert column in text
    assert f"results in {out_dir}" in text
    assert "MNIST sample (5,000 images)" in text
    # Progress on stderr, one line per implementation and epoch.
    assert one_line(err).count("jax (jax.grad, jit): epoch") == 3

    assert info["study"] == "backprop"
    assert [r["name"] for r in info["rows"]] == ROWS
    assert info["dataset"]["name"] == "mnist-sample"
    assert info["dataset"]["sizes"] == {"train": 4000, "test": 1000}
    assert info["dataset"]["notice"] is None
    assert {"python", "jax", "numpy", "scikit-learn"} <= info["versions"].keys()
    assert info["device"]["backend"] == "cpu"
    assert info["network"]["sizes"] == [784, 500, 250, 10]
    assert info["network"]["num_params"] == 784 * 500 + 500 + 500 * 250 + 250 + 250 * 10 + 10
    assert info["reference"]["speed_table"]["numpy"]["test_accuracy"] == 0.9646
    assert info["command"].startswith("mnistlab study backprop")
    assert info["config"]["recipes"]["jax"] == {"epochs": 3, "batch_size": 100, "lr": 0.1, "anneal": 0.99}


def test_backprop_rows_hold_real_numbers(backprop):
    info = backprop[4]
    rows = {r["name"]: r for r in info["rows"]}
    for name in ("numpy", "jax", "jax-grad", "sklearn"):
        r = rows[name]
        assert r["status"] == "completed"
        assert r["epochs_done"] == 3
        assert r["train_seconds"] > 0
        assert r["seconds_per_epoch"] == pytest.approx(r["train_seconds"] / 3)
        assert r["predict_seconds"] > 0
        curves = r["curves"]
        assert curves["epoch"] == [1, 2, 3]
        assert len(curves["train_accuracy"]) == len(curves["train_cross_entropy"]) == 3
        assert curves["train_cross_entropy"][-1] < curves["train_cross_entropy"][0]
        assert r["final_train_accuracy"] == curves["train_accuracy"][-1]
        assert r["test_accuracy"] == pytest.approx(curves["test_accuracy"][-1])
    # Compilation is reported apart, and only where there is some.
    assert rows["numpy"]["compile_seconds"] is None
    assert rows["sklearn"]["compile_seconds"] is None
    assert rows["jax"]["compile_seconds"] > 0
    assert rows["jax-grad"]["compile_seconds"] > 0
    # Annealing: lr *= 0.99 after each epoch (sklearn keeps S9's constant rate).
    np.testing.assert_allclose(rows["jax"]["curves"]["lr"], [0.1, 0.099, 0.09801])
    assert rows["sklearn"]["curves"]["lr"] == [0.1, 0.1, 0.1]
    assert rows["sklearn"]["converged"] is False
    assert rows["sklearn"]["sklearn_settings"]["max_iter"] == 3
    assert rows["sklearn"]["sklearn_settings"]["batch_size"] == 200
    assert any("did not converge" in n for n in info["notes"])
    einsum = rows["einsum"]
    assert einsum["scaled"] is True
    assert einsum["timed_steps"] == 2
    assert einsum["steps_per_epoch"] == 40
    assert einsum["seconds_per_epoch"] == pytest.approx(einsum["timed_seconds"] / 2 * 40)
    assert einsum["test_accuracy"] is None
    assert einsum["max_abs_param_difference_from_batched"] < 1e-5


def test_backprop_accuracy_gate_on_the_mnist_sample(backprop):
    """The numbers are real: S9's speed-table recipe (3 epochs, batch 100, lr 0.1, annealing
    0.99) reaches about 88.7% on the sample's 1,000 test images with all three implementations
    (the same parameters, so the same accuracy to a prediction or two); sklearn's S9 settings
    about 92%."""
    rows = {r["name"]: r for r in backprop[4]["rows"]}
    accuracies = [rows[n]["test_accuracy"] for n in ("numpy", "jax", "jax-grad")]
    assert min(accuracies) > 0.86, accuracies
    assert max(accuracies) - min(accuracies) <= 0.003, accuracies
    assert rows["sklearn"]["test_accuracy"] > 0.88


def test_backprop_csv_files_and_figures(backprop):
    out_dir, info = backprop[0], backprop[4]
    with open(out_dir / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table] == ROWS
    assert float(table[2]["test_accuracy"]) == pytest.approx(info["rows"][2]["test_accuracy"])
    assert table[1]["scaled"] == "True"
    assert table[0]["compile_seconds"] == ""
    with open(out_dir / "curves.csv", newline="") as f:
        curves = list(csv.DictReader(f))
    assert [(r["name"], r["epoch"]) for r in curves][:3] == [("numpy", "1"), ("numpy", "2"), ("numpy", "3")]
    assert len(curves) == 4 * 3
    assert (out_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (out_dir / "curves.svg").read_text()
    for text in ("training accuracy", "training cross-entropy", "epoch", "sklearn MLPClassifier"):
        assert text in svg


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--dataset", "mnist-big"], ["dataset (--dataset) must be one of auto, mnist,", "'mnist-big'"]),
        (
            ["--epochs", "0"],
            ["epochs (--epochs) must be a positive integer <= 1000", "got 0", "e.g. --epochs 3"],
        ),
        (["--batch-size", "-5"], ["batch_size (--batch-size) must be a positive integer <= 60000", "got -5"]),
        (["--lr", "0"], ["lr (--lr) must be a number > 0", "got 0.0", "e.g. --lr 0.1"]),
        (
            ["--anneal", "1.5"],
            ["anneal (--anneal) must be a number in (0, 1]", "got 1.5", "e.g. --anneal 0.99"],
        ),
        (["--anneal", "0"], ["anneal (--anneal) must be a number in (0, 1]", "got 0.0"]),
        (["--skip", "sklearn,torch"], ["--skip", "numpy, einsum, jax, jax-grad, sklearn", "'torch'"]),
        (["--skip", "numpy,einsum,jax,jax-grad,sklearn"], ["leaves nothing to run"]),
        (["--dtype", "float16"], ["dtype (--dtype) must be one of float32, float64", "'float16'"]),
        (["--einsum-steps", "0"], ["einsum_steps (--einsum-steps) must be a positive integer <= 1000"]),
        (["--full", "--epochs", "3"], ["--full runs S9's own recipes", "--epochs", "drop --full"]),
        (["--seed", "-1"], ["seed (--seed) must be a non-negative integer < 4294967296"]),
        # Every size has an upper bound, and the one validator says so.
        (["--epochs", "1001"], ["epochs (--epochs) must be a positive integer <= 1000", "got 1001"]),
        (["--einsum-steps", "1001"], ["einsum_steps (--einsum-steps) must be a positive integer <= 1000"]),
        (["--batch-size", "60001", "--skip", "einsum"], ["must be a positive integer <= 60000", "got 60001"]),
        (["--batch-size", "5000"], ["at most 1,000 with the einsum row", "got 5000", "--skip einsum"]),
        (["--skip", "sklarn"], ["got 'sklarn'", "did you mean 'sklearn'?"]),
    ],
)
def test_backprop_user_errors_are_one_line_before_any_work(capsys, tmp_path, args, fragments):
    out_dir = tmp_path / "never"
    code, out, err = run_cli(capsys, "study", "backprop", *args, "--out", out_dir)
    assert_user_error(code, err, *fragments)
    assert out == ""
    assert not out_dir.exists()


def test_out_must_be_a_folder_without_results(capsys, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, _, err = run_cli(capsys, "study", "backprop", "--dataset", "mnist-sample", "--out", a_file)
    assert_user_error(code, err, f"--out {a_file} is a file")
    done = tmp_path / "done"
    done.mkdir()
    (done / "results.json").write_text("{}")
    code, _, err = run_cli(capsys, "study", "logistic", "--dataset", "mnist-sample", "--out", done)
    assert_user_error(code, err, "already holds results", "choose another --out")


def test_missing_dataset_is_a_data_error(capsys, tmp_path):
    code, _, err = run_cli(capsys, "study", "optimizers", "--dataset", "kmnist", "--out", tmp_path / "x")
    assert_user_error(code, err, "kmnist", exit=1)  # data that is not here: a runtime failure
    assert not (tmp_path / "x").exists()


def test_recipes_of_the_speed_table_and_of_full():
    c = studies.BackpropConfig()
    assert c.recipe("numpy") == studies.Recipe(3, 100, 0.1, 0.99)
    assert c.recipe("sklearn") == studies.Recipe(3, 200, 0.1, 1.0)  # S9's settings, max_iter = epochs
    f = studies.BackpropConfig(full=True)
    assert f.recipe("numpy") == f.recipe("jax") == studies.Recipe(12, 10, 0.1, 0.9)
    assert f.recipe("jax-grad") == studies.Recipe(20, 50, 0.1, 0.98)
    assert f.recipe("sklearn") == studies.Recipe(20, 200, 0.1, 1.0)
    assert studies.BackpropConfig(skip="sklearn, einsum").implementations == ("numpy", "jax", "jax-grad")
    with pytest.raises(ConfigError, match="--full"):
        studies.BackpropConfig(full=True, lr=0.05)


# --- follow-ups --------------------------------------------------------------------------------


def test_logistic_auto_falls_back_to_the_sample_and_saves_under_studies(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "study", "logistic", "--epochs", "1", "--quiet")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "MNIST sample" in one_line(err)
    (folder,) = (tmp_path / "studies").iterdir()
    assert folder.name.startswith("logistic-")
    assert sorted(p.name for p in folder.iterdir()) == sorted(studies.RESULT_FILES)
    info = json.loads((folder / "results.json").read_text())
    assert info["dataset"]["name"] == "mnist-sample"
    assert info["network"]["sizes"] == [784, 10]
    rows = {r["name"]: r for r in info["rows"]}
    assert set(rows) == {"numpy", "jax-grad"}
    # Same start, same batches, same mathematics: the same model.
    assert rows["numpy"]["test_accuracy"] == pytest.approx(rows["jax-grad"]["test_accuracy"], abs=0.002)
    assert rows["numpy"]["test_accuracy"] > 0.78
    assert "logistic regression" in one_line(out)


def test_optimizers_compares_adam_and_sgd_from_the_same_start(capsys, tmp_path):
    out_dir = tmp_path / "opt"
    code, out, err = run_cli(
        capsys, "study", "optimizers", "--dataset", "mnist-sample", "--epochs", "1", "--out", out_dir
    )
    assert code == 0, err
    text = one_line(out)
    for fragment in ("SGD (jax.grad, jit)", "Adam (jax.grad, jit)", "train CE", "train acc", "test acc"):
        assert fragment in text
    info = json.loads((out_dir / "results.json").read_text())
    rows = {r["name"]: r for r in info["rows"]}
    assert set(rows) == {"sgd", "adam"}
    assert rows["sgd"]["recipe"]["lr"] == 0.1
    assert rows["adam"]["recipe"]["lr"] == 0.001
    for r in rows.values():
        assert len(r["curves"]["test_accuracy"]) == 1
        assert len(r["curves"]["train_cross_entropy"]) == 1
        assert r["test_accuracy"] > 0.8
    # Same start and batches: they differ only through the update rule.
    assert rows["sgd"]["curves"]["train_cross_entropy"] != rows["adam"]["curves"]["train_cross_entropy"]
    assert "test accuracy" in (out_dir / "curves.svg").read_text()


def test_a_failed_save_leaves_no_partial_folder(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    data = studies.StudyData(
        rng.uniform(0, 1, (200, 784)).astype(np.float32),
        rng.integers(0, 10, 200).astype(np.int32),
        rng.uniform(0, 1, (50, 784)).astype(np.float32),
        rng.integers(0, 10, 50).astype(np.int32),
        name="random",
        title="random pixels",
    )
    config = studies.LogisticConfig(epochs=1, skip="jax-grad")
    result = studies.run_logistic(config, data=data, save=False, quiet=True)
    assert result.out_dir is None

    def broken(info):
        raise RuntimeError("disk full")

    from mnistlab.studies import _output

    monkeypatch.setattr(_output, "curves_csv", broken)
    out_dir = tmp_path / "partial"
    with pytest.raises(RuntimeError, match="disk full"):
        studies.save_results(result.info, out_dir, "logistic")
    assert not out_dir.exists()
    monkeypatch.undo()
    saved = studies.save_results(result.info, out_dir, "logistic")
    assert sorted(p.name for p in saved.iterdir()) == sorted(studies.RESULT_FILES)
    with pytest.raises(ConfigError, match="already holds results"):
        studies.save_results(result.info, out_dir, "logistic")


# --- the full-size data ------------------------------------------------------------------------


@pytest.mark.full_data
def test_fashion_mnist_one_epoch_of_the_jax_network(shared_data):
    """All 60,000 Fashion-MNIST training images, one epoch of batch 100: about 82% on the 10,000
    test images (S9's speed-table recipe, first epoch)."""
    config = studies.BackpropConfig(dataset="fashion-mnist", epochs=1, skip="numpy,einsum,jax-grad,sklearn")
    result = studies.run_backprop(config, data_dir=shared_data, save=False, quiet=True)
    row = result.row("jax")
    assert result.info["dataset"]["sizes"] == {"train": 60_000, "test": 10_000}
    assert row["test_accuracy"] > 0.78
    assert row["curves"]["train_accuracy"][0] > 0.78
