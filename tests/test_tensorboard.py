"""`mnistlab train --tensorboard`: the event files read back with TensorBoard's own reader hold
exactly the numbers of metrics.jsonl and steps.csv, the images and the hyperparameters, and a
resumed run appends to the same log without writing any step twice.

Reading needs the ``tensorboard`` package (writing needs only tensorboardX)."""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import train
from mnistlab.runs import RunDir, mean_std

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import plugin_data_pb2

pytestmark = pytest.mark.usefixtures("compilation_cache")  # the resumed session reuses the programs

SEEDS = (0, 1)
ARGS = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "16", "--batch-size", "512"]
ARGS += ["--seeds", "0,1", "--val-fraction", "0.1", "--lr", "0.01", "--quiet", "--tensorboard"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, cheap_compiles) -> Path:
    """A two-seed run with a validation split: 2 epochs, then resumed to 3, both with --tensorboard."""
    from mnistlab.cli import main

    out = tmp_path_factory.mktemp("tb") / "run"
    assert main(["train", *ARGS, "--epochs", "2", "--out", str(out)]) == 0
    assert main(["train", "--resume", str(out), "--epochs", "3", "--quiet", "--tensorboard"]) == 0
    return out


@pytest.fixture(scope="module")
def log(run) -> EventAccumulator:
    acc = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc


def _series(log, tag) -> dict[int, float]:
    events = log.Scalars(tag)
    steps = [e.step for e in events]
    assert len(steps) == len(set(steps)), f"{tag} has a step twice"
    return {e.step: e.value for e in events}


def f32(values) -> list[float]:
    """What the event file holds for ``values``: the float32 nearest to each."""
    return np.asarray(values, np.float32).astype(np.float64).tolist()


def test_every_steps_loss_is_logged_at_its_global_step_as_steps_csv_has_it(run, log):
    with open(run / "steps.csv") as f:
        rows = [line.strip().split(",") for line in f][1:]
    steps = [int(r[1]) for r in rows]
    assert steps == list(range(1, 3 * RunDir(run).info["steps_per_epoch"] + 1))
    logged = _series(log, "train/step_loss")
    assert list(logged) == steps
    assert list(logged.values()) == f32([float(r[2]) for r in rows])
    for j, seed in enumerate(SEEDS):
        per_seed = _series(log, f"train/step_loss/seed_{seed}")
        assert list(per_seed.values()) == f32([float(r[3 + j]) for r in rows])


def test_every_splits_epoch_metrics_and_the_learning_rate_are_metrics_jsonls(run, log):
    records = RunDir(run).metrics()
    at = [r["step"] for r in records]
    keys = [k for k in records[0] if k.endswith(("_loss", "_accuracy"))]
    assert {"train_loss", "train_accuracy", "validation_accuracy", "test_loss", "test_accuracy"} <= set(keys)
    for key in keys:
        split, metric = key.rsplit("_", 1)
        mean = _series(log, f"{split}/{metric}")
        assert list(mean) == at
        assert list(mean.values()) == f32([mean_std(r[key])[0] for r in records]), key
        for j, seed in enumerate(SEEDS):
            per_seed = _series(log, f"{split}/{metric}/seed_{seed}")
            assert list(per_seed.values()) == f32([r[key][j] for r in records]), key
    lr = _series(log, "train/lr")
    assert list(lr) == at
    assert list(lr.values()) == f32([r["lr"] for r in records])


def test_the_resumed_session_appends_to_the_same_log_and_writes_no_step_twice(run):
    files = sorted((run / "tensorboard").glob("*tfevents*"))
    assert len(files) == 4  # each session: its training log, then the confusion matrix
    # Every value of every file, whatever TensorBoard would purge: each (tag, step) written once.
    seen = collections.Counter(
        (value.tag, event.step)
        for path in files
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
    )
    assert len(seen) > 3 * RunDir(run).info["steps_per_epoch"]
    assert [k for k, n in seen.items() if n > 1] == []


def test_weight_images_and_the_test_confusion_matrix_are_logged_when_each_session_ends(run, log):
    spe = RunDir(run).info["steps_per_epoch"]
    assert [e.step for e in log.Images("weights/first_layer")] == [2 * spe, 3 * spe]
    matrices = log.Images("test/confusion_matrix")
    assert [e.step for e in matrices] == [2 * spe, 3 * spe]
    assert all(e.encoded_image_string.startswith(b"\x89PNG") and e.width > 100 for e in matrices)


def test_the_config_is_logged_as_hyperparameters_whose_metrics_end_at_the_final_numbers(run, log):
    content = log.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hp = start.session_start_info.hparams
    config = RunDir(run).config
    assert hp["model"].string_value == "mlp"
    assert hp["lr"].number_value == config.lr == 0.01
    assert hp["seeds"].string_value == "0,1"
    assert hp["val_fraction"].number_value == 0.1
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"]).experiment
    tags = [m.name.tag for m in experiment.metric_infos]
    assert {"test/accuracy", "test/loss", "validation/accuracy", "train/loss"} <= set(tags)
    # The HParams view shows each metric series' last value: the run's final numbers.
    summary = json.loads((run / "run.json").read_text())["summary"]
    assert summary["epochs"] == 3
    for tag in tags:
        split, metric = tag.split("/")
        assert log.Scalars(tag)[-1].value == f32([summary[f"final_{split}_{metric}"]])[0], tag


def test_without_tensorboardx_the_option_fails_before_training_naming_the_extra(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # `import tensorboardX` now fails
    code, _, err = run_cli(capsys, "train", *ARGS, "--epochs", "1", "--out", tmp_path / "run")
    assert_user_error(code, err, "needs tensorboardX", "pip install 'mnistlab[tensorboard]'", exit=1)
    assert not (tmp_path / "run").exists()
    with pytest.raises(train.MissingExtraError, match=r"pip install 'mnistlab\[tensorboard\]'$"):
        train.train(train.TrainConfig(dataset="mnist-sample"), out=tmp_path / "run", tensorboard=True)
    assert not (tmp_path / "run").exists()
