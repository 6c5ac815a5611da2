"""The run folder (RunDir) and the declarative config: layout, reading once, TOML, validation."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, DataError
from mnistlab._checks import Deferred, Interval, Items, NoneOK, Options, check
from mnistlab.runs import RunDir, TrainConfig, flag, from_dict, load_toml, params, resolve, to_toml


class _History:
    """What RunDir.write_metrics reads from a training history."""

    def __init__(self, epochs, step_loss):
        self.epochs, self.step_loss = epochs, step_loss


# --- the config ----------------------------------------------------------------------------------


def test_every_field_declares_its_help_group_and_constraints():
    for name, p in params().items():
        assert p.help.endswith("."), name
        assert p.group in {"data", "model", "objective", "optimizer", "loop"}, name
        assert p.constraints, name
        default = TrainConfig.__dataclass_fields__[name].default
        check(name, default, p.constraints)  # every default passes its own declaration


def test_flags_are_the_field_names_with_dashes_or_their_declared_pair():
    assert flag("lr") == "--lr"
    assert flag("batch_size") == "--batch-size"
    assert flag("drop_last") == "--drop-last"


def test_optimizer_fields_are_checked_by_the_optimizer_packages_own_declaration():
    from mnistlab.optim import PARAM_CONSTRAINTS

    deferred = next(c for c in params()["momentum"].constraints if isinstance(c, Deferred))
    assert tuple(deferred.load()) == tuple(PARAM_CONSTRAINTS["momentum"])
    with pytest.raises(ConfigError, match=r"^momentum must be unset or a number in \[0, 1\); got 1\.0"):
        TrainConfig(momentum=1.0)
    TrainConfig(momentum=0.0)  # the closed end


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"optimizer": "adma"}, "optimizer must be one of sgd, momentum, nesterov, adam, adamw, rmsprop; "),
        ({"optimizer": "adma"}, "(did you mean 'adam'?)"),
        ({"epochs": 0}, "epochs must be a positive integer <= 100000; got 0"),
        ({"epochs": True}, "epochs must be a positive integer <= 100000; got True"),
        ({"seeds": (0, 0)}, "seeds must be distinct; got (0, 0)"),
        ({"seeds": ()}, "seeds must have at least 1 item; got ()"),
        ({"widths": (3, 0)}, "widths must be unset or a list of positive integers <= 65536"),
        ({"lr": float("nan")}, "lr must be unset or a number > 0; got nan"),
        ({"classes": (3,)}, "classes must name at least two classes"),
        ({"dataset": "fashion"}, "(did you mean 'fashion-mnist'?)"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_field_the_rule_and_the_value(changes, message):
    with pytest.raises(ConfigError) as excinfo:
        TrainConfig(**changes)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"optimizer": "sgd", "momentum": 0.5}, "sgd"),
        ({"schedule": "exponential"}, "--lr-factor"),
        ({"lr_factor": 0.5}, "only used by"),
        ({"schedule": "warmup-cosine", "warmup_epochs": 3.0, "epochs": 3}, "warmup_epochs"),
    ],
)
def test_cross_field_rules_are_checked_by_resolve(changes, fragment):
    config = TrainConfig(**changes)  # each value is fine on its own
    with pytest.raises(ConfigError, match=fragment):
        resolve(config)


def test_resolve_names_the_learning_rate_of_the_optimizer():
    from mnistlab.optim import default_lr

    for name in ("sgd", "momentum", "adam"):
        assert resolve(TrainConfig(optimizer=name)).lr == default_lr(name)
    assert resolve(TrainConfig(optimizer="sgd", lr=0.5)).lr == 0.5


def test_toml_round_trip_is_exact_with_every_kind_of_value(tmp_path):
    config = resolve(
        TrainConfig(
            dataset="mnist-sample",
            model="mlp",
            widths=(1024, 128),
            classes=(7, 1),
            lr=1e-3 / 3,  # a float that needs all its digits
            seeds=(0, 4, 7),
            drop_last=True,
            layers='conv8k3,dense16 \U0001d11e "quoted" \\ back',  # outside the BMP, quotes, a backslash
        )
    )
    text = to_toml(config, header="a header")
    assert tomllib.loads(text)  # valid TOML (the old hand-written writer was not, outside the BMP)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert load_toml(path) == config
    assert "# activation = (default)" in text  # None: a comment, read back as not given
    assert "widths = [1024, 128]" in text  # lists on one line


def test_from_dict_names_unknown_options_and_the_source():
    with pytest.raises(ConfigError, match=r"^run/config.toml: unknown option\(s\) learning_rate"):
        from_dict({"learning_rate": 0.1}, source="run/config.toml")


def test_a_config_file_that_is_not_text_is_one_line(tmp_path):
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(ConfigError, match="is not a text file"):
        load_toml(png)


# --- the run folder -------------------------------------------------------------------------------


def test_create_writes_the_config_and_refuses_a_folder_that_holds_a_run(tmp_path):
    config = resolve(TrainConfig(dataset="mnist-sample", model="softmax"))
    run = RunDir.create(tmp_path / "run", config)
    assert run.path == tmp_path / "run"
    assert load_toml(run.path / "config.toml") == config
    run.write_info({"status": "running"})
    with pytest.raises(ConfigError, match="already holds a run"):
        RunDir.create(tmp_path / "run", config)


def test_create_without_out_names_the_folder_after_time_model_and_dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = resolve(TrainConfig(dataset="mnist-sample", model="softmax"))
    first, second = RunDir.create(None, config), RunDir.create(None, config)
    assert first.path.parent == second.path.parent == Path("runs")
    assert first.path.name.endswith("-softmax-mnist-sample")
    assert first.path != second.path  # the same second: a suffix, never the same folder


def test_open_reads_config_and_info_once(tmp_path, monkeypatch):
    config = resolve(TrainConfig(dataset="mnist-sample", model="softmax"))
    RunDir.create(tmp_path, config).write_info({"status": "completed"})
    reads = []
    real = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda self, *a, **k: reads.append(self.name) or real(self, *a, **k)
    )
    run = RunDir.open(tmp_path)
    for _ in range(3):
        assert run.config == config
        assert run.info["status"] == "completed"
    assert sorted(reads) == ["config.toml", "run.json"]


@pytest.mark.parametrize(
    ("files", "error", "fragment"),
    [
        ({}, ConfigError, "is not an mnistlab run"),
        ({"config.toml": "epochs = 3\n"}, ConfigError, "lacks config.toml or run.json"),
        ({"config.toml": "", "run.json": "{"}, DataError, "not valid JSON"),
        ({"config.toml": "", "run.json": "[]"}, DataError, "JSON object"),
    ],
)
def test_open_refuses_what_is_not_a_run_in_one_line(tmp_path, files, error, fragment):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(error, match=fragment):
        RunDir.open(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        RunDir.open(tmp_path / "nope")


def test_metrics_and_steps_round_trip_for_several_seeds(tmp_path):
    run = RunDir(tmp_path)
    epochs = [
        {"epoch": 1, "train_loss": [0.5, 0.7], "test_accuracy": [0.9, 0.8], "lr": 0.1},
        {"epoch": 2, "train_loss": [0.25, float("nan")], "test_accuracy": [0.95, 0.85], "lr": 0.1},
    ]
    steps = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, 0.25], [np.nan, 1.0]])]
    run.write_metrics(_History(epochs, steps), seeds=(0, 1))
    got = RunDir(tmp_path)
    assert got.metrics()[0] == epochs[0]
    assert got.metrics()[1]["train_loss"] == [0.25, None]  # strict JSON: NaN is null
    np.testing.assert_array_equal(got.steps(), np.array([[1.0, 2.0, 0.5, 0.25], [3.0, 4.0, np.nan, 1.0]]))
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header == ["epoch", "train_loss", "train_loss_std", "test_accuracy", "test_accuracy_std", "lr"]
    json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[1])


def test_a_damaged_metrics_file_is_a_data_error_naming_the_line(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"metrics.jsonl, line 2: expected a JSON object"):
        RunDir(tmp_path).metrics()


# --- the one validator ----------------------------------------------------------------------------


def test_the_validator_describes_each_kind_of_constraint():
    assert Interval(float, 0, 1, "right").describe() == "a number in (0, 1]"
    assert Interval(int, 1).describe() == "a positive integer"
    assert Interval(int, 0, 9, "left").describe() == "a non-negative integer < 9"
    assert Items(Interval(int, 1, 8)).describe() == "a list of positive integers <= 8"
    assert Options(lambda: ("a", "b")).describe() == "one of a, b"
    with pytest.raises(
        ConfigError, match=r"^x \(--x\) must be unset or one of alpha, beta; got 'alpah' \(did you mean"
    ):
        check("x", "alpah", (NoneOK(), Options(("alpha", "beta"))), flag="--x")


def test_numpy_scalars_are_numbers_and_bools_are_not():
    assert check("n", np.int64(3), (Interval(int, 1),)) == 3
    assert check("x", np.float32(0.5), (Interval(float, 0, 1),)) == 0.5
    with pytest.raises(ConfigError):
        check("n", True, (Interval(int, 0),))


def test_run_results_print_one_short_line():
    from mnistlab.train import RunResult

    result = RunResult(
        Path("runs/x"),
        resolve(TrainConfig(dataset="mnist-sample", model="mlp")),
        "completed",
        "",
        history=None,
        summary={"final_test_accuracy": 0.9746, "epochs": 10, "best_test_accuracy": 0.975, "best_epoch": 9},
        state={"params": np.zeros(10**6)},
    )
    assert (
        repr(result)
        == "RunResult('runs/x', mlp on mnist-sample, completed: test accuracy 97.46% after 10 epochs)"
    )
    html = result._repr_html_()
    assert "97.46%" in html
    assert "97.50% at epoch 9" in html
