"""mnistlab speedrun: the timed recipe runs end to end, and its config is an ordinary config.

The recipe's accuracy and seconds on the full datasets are measured by bench/speedrun.py, not
here: these run one epoch on the bundled sample, with cheap compilation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import assert_user_error, run_cli

pytestmark = pytest.mark.usefixtures("cheap_compiles", "compilation_cache")


@pytest.fixture(scope="module")
def speedrun_json(tmp_path_factory):
    """One speedrun on the sample (one epoch), run once for the module: (exit code, JSON, folder)."""
    from mnistlab.cli import main

    out = tmp_path_factory.mktemp("speedrun") / "run"
    import contextlib
    import io

    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["speedrun", "--dataset", "mnist-sample", "--epochs", "1", "--out", str(out), "--json"])
    return code, json.loads(stdout.getvalue()), out


def test_speedrun_runs_on_the_sample_and_prints_its_seconds_and_accuracy(speedrun_json):
    code, record, _out = speedrun_json
    assert code == 0
    assert record["status"] == "completed"
    assert record["model"] == "speedrun"
    assert record["dataset"] == "mnist-sample"
    assert record["epochs"] == 1
    assert record["steps"] == 16  # one pass of 4,000 images in batches of 256, scored once, at its end
    assert 0.0 <= record["test_accuracy"] <= 1.0
    assert record["target"] is None
    assert record["reached"] is None
    parts = ("startup", "import", "setup", "compile", "train", "eval", "finish")
    assert all(record["seconds"][p] >= 0 for p in parts)
    assert record["seconds"]["total"] >= record["seconds"]["train"] + record["seconds"]["compile"]


def test_speedrun_leaves_a_normal_run_folder_with_its_record(speedrun_json):
    _, record, out = speedrun_json
    assert record["run"] == str(out)
    for name in ("config.toml", "run.json", "metrics.jsonl", "params.npz", "speedrun.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "speedrun.json").read_text()) == record
    assert json.loads((out / "run.json").read_text())["model"]["name"] == "speedrun"


def test_the_summary_says_whether_the_target_was_reached_and_the_budget_kept(speedrun_json):
    from mnistlab import speedrun

    _, record, _ = speedrun_json
    seconds = {**record["seconds"], "total": 12.5}
    reached = {**record, "test_accuracy": 0.9912, "target": 0.99, "reached": True, "within_budget": True}
    text = speedrun.describe({**reached, "seconds": seconds})
    assert "seconds from process start: startup" in text
    assert "total 12.5 s (within the 20 s budget)" in text
    assert "test accuracy 99.12%: target 99.0% reached in 12.5 s after 1 epoch;" in text
    missed = {**reached, "test_accuracy": 0.9871, "reached": False, "within_budget": False}
    assert "target 99.0% NOT reached" in speedrun.describe({**missed, "seconds": seconds})
    assert "(over the 20 s budget)" in speedrun.describe({**missed, "seconds": seconds})


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_shipped_recipes_are_ordinary_configs(dataset):
    from mnistlab import speedrun
    from mnistlab.train import load_toml

    config = speedrun.speedrun_config(dataset, seed=3)
    assert config.model == "speedrun"
    assert config.dataset == dataset
    assert config.seeds == (3,)
    assert load_toml(speedrun.config_path(dataset)).as_dict() == {**config.as_dict(), "seeds": [0]}


def test_the_shipped_recipe_trains_with_mnistlab_train_config(tmp_path, capsys):
    from mnistlab import speedrun

    # The MNIST recipe's file through the CLI, on the sample for one epoch: the program the
    # speedrun above compiled, so it comes from the compilation cache.
    args = ["train", "--config", speedrun.config_path("mnist"), "--dataset", "mnist-sample", "--epochs", "1"]
    code, out, err = run_cli(capsys, *args, "--out", tmp_path / "r", "--quiet")
    assert code == 0, err
    assert "test accuracy" in out


def test_a_bad_dataset_or_target_is_one_line_before_any_work(tmp_path, capsys):
    code, _, err = run_cli(capsys, "speedrun", "--dataset", "kmnist", "--out", tmp_path / "a")
    assert_user_error(code, err, "--dataset", "kmnist", "mnist")
    code, _, err = run_cli(capsys, "speedrun", "--target", "99", "--out", tmp_path / "b")
    assert_user_error(code, err, "--target", "99")
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def test_the_hashed_init_draws_lecun_uniform_kernels_and_zero_biases():
    import jax

    from mnistlab.models import build_model

    model = build_model("speedrun")
    init = jax.jit(model.init, static_argnums=1)  # one small program for the three keys
    a, b, c = (init(jax.random.PRNGKey(k), (1, 28, 28, 1)) for k in (0, 0, 1))
    zeros = jax.ShapeDtypeStruct((1, 28, 28, 1), np.float32)
    flax_shapes = jax.tree.map(np.shape, jax.eval_shape(model.module.init, jax.random.PRNGKey(0), zeros))
    assert jax.tree.map(np.shape, a) == flax_shapes
    for (path, x), y, z in zip(
        jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b), jax.tree.leaves(c), strict=True
    ):
        x, y, z = np.asarray(x, np.float64), np.asarray(y), np.asarray(z)
        np.testing.assert_array_equal(x, y)  # a pure function of the key
        if x.ndim == 1:
            assert not x.any(), path
            continue
        bound = np.sqrt(3.0 / np.prod(x.shape[:-1]))
        assert np.abs(x).max() <= bound, path
        assert not np.array_equal(x, z), path
        # Uniform(-b, b): x^2 has mean b^2/3 and relative variance 4/5, so the mean of n values
        # is within 5 standard errors, 5 * sqrt(0.8 / n), of b^2/3 unless the draws are not uniform.
        assert abs((x**2).mean() / (bound**2 / 3) - 1) < 5 * np.sqrt(0.8 / x.size), path
