"""Bad paths and values: every output path is checked before any work, every size option has an
upper bound (and a memory estimate stands behind them), and a damaged run folder is one line
with exit 2 whichever command reads it. None of these trains: the run folders are made by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import assert_user_error, run_cli
from mnistlab.runs import TrainConfig, resolve, to_toml

# A run.json as training writes it, cut to what reading a run needs.
INFO = {
    "status": "completed",
    "dataset": {
        "name": "mnist-sample",
        "class_names": [str(i) for i in range(10)],
        "num_classes": 10,
        "sizes": {"train": 4000, "test": 1000},
    },
    "model": {"kind": "classifier"},
    "seeds": [0],
}


def make_run(folder: Path, *, info=INFO, params: bytes | None = b"PK\x03\x04 truncated") -> Path:
    """A run folder (config.toml, run.json, params.npz unless None) with no training behind it."""
    folder.mkdir(parents=True, exist_ok=True)
    config = resolve(TrainConfig(dataset="mnist-sample", model="softmax", epochs=1))
    (folder / "config.toml").write_text(to_toml(config))
    (folder / "run.json").write_text(json.dumps(info) if isinstance(info, dict) else info)
    if params is not None:
        (folder / "params.npz").write_bytes(params)
    return folder


@pytest.fixture
def run(tmp_path) -> Path:
    return make_run(tmp_path / "run")


# --- output paths, checked before any work ---------------------------------------------------------

# --dataset mnist is not cached and the tests are offline: had the data been asked for first,
# the error would be that one (exit 1), not the path's.
BAD_OUT = [
    ("/proc/x", "--out /proc/x cannot be written"),
    ("/etc/hostname/run", "/etc/hostname is a file, not a folder"),
]


@pytest.mark.parametrize(("out", "fragment"), BAD_OUT, ids=[o for o, _ in BAD_OUT])
def test_train_refuses_an_unwritable_out_before_the_data(capsys, out, fragment):
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist", "--out", out)
    assert_user_error(code, err, fragment)


def test_train_refuses_an_out_folder_holding_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist", "--out", tmp_path)
    assert_user_error(code, err, f"--out {tmp_path}", "already holds other files (notes.txt)", "new or empty")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_train_refuses_an_unwritable_default_runs_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "runs").write_text("a file where the runs folder goes")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "train", "--dataset", "mnist")
    assert_user_error(code, err, "the default run folder", "--out")


@pytest.mark.parametrize("where", ["/proc/x", "FILE"])
def test_report_refuses_unwritable_figures_before_any_work(tmp_path, capsys, monkeypatch, where):
    run = make_run(tmp_path / "run", params=None)  # a run stopped before its first checkpoint
    monkeypatch.setattr("mnistlab.report._collect.open_run", lambda r: pytest.fail("did work first"))
    figures = str(run / "run.json") if where == "FILE" else where
    code, _, err = run_cli(capsys, "report", run, "--figures", figures)
    assert_user_error(code, err, f"--figures {figures}")


def test_report_on_a_missing_run_blames_the_run_not_its_out(tmp_path, capsys):
    code, _, err = run_cli(capsys, "report", tmp_path / "nope")
    assert_user_error(code, err, f"run folder {tmp_path / 'nope'} does not exist")
    assert "--out" not in err


def test_resume_with_out_names_the_flag_once(run, capsys):
    code, _, err = run_cli(capsys, "train", "--resume", run, "--out", "elsewhere")
    assert_user_error(code, err, "only --epochs may be given with it", "got --out")
    assert "----" not in err


# --- upper bounds ----------------------------------------------------------------------------------

BAD_SIZES = [
    (
        ["evaluate", "{run}", "--bins", "1000000000"],
        "bins (--bins) must be an integer <= 1000; got 1000000000",
    ),
    (["evaluate", "{run}", "--examples", "100000"], "examples (--examples) must be an integer <= 1000"),
    (["report", "{run}", "--inits", "1000000000"], "inits (--inits) must be an integer <= 10000"),
    (["report", "{run}", "--examples", "0"], "--examples must be >= 1; got 0"),
    (["predict", "{run}", "x.png", "--top", "100000"], "top (--top) must be an integer <= 1000"),
    (["train", "--resume", "{run}", "--epochs", "1e23"], "Invalid value for '--epochs'"),
    (["train", "--epochs", "1e20"], "Invalid value for '--epochs'"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_SIZES, ids=[" ".join(a[:1] + a[2:]) for a, _ in BAD_SIZES])
def test_every_size_option_has_an_upper_bound_refused_in_one_line(run, capsys, args, fragment):
    code, _, err = run_cli(capsys, *[a.format(run=run) for a in args])
    assert_user_error(code, err, fragment)


def test_help_states_the_upper_bound_of_every_size_option(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    text = " ".join(out.split())
    for bound in ("Epochs. Default: 3. At most 100,000.", "At most 1,000,000.", "Each at most 65,536"):
        assert bound in text
    assert "At most 1,024 seeds." in text
    for command, bound in [("evaluate", "1 to 1000"), ("report", "0 to 10000"), ("predict", "at most 1000")]:
        _code, out, _ = run_cli(capsys, command, "--help")
        assert bound in " ".join(out.split()), command


def test_a_run_too_big_for_the_memory_is_refused_naming_the_estimate(tmp_path, capsys, monkeypatch):
    from mnistlab import _compute

    monkeypatch.setattr(_compute, "available_memory", lambda: (2**20, "MemAvailable in /proc/meminfo"))
    out = tmp_path / "run"
    args = ["--dataset", "mnist-sample", "--model", "mlp", "--widths", "4096,4096", "--seeds", "3"]
    code, _, err = run_cli(capsys, "train", *args, "--out", out)
    assert_user_error(code, err, "this needs about", "x 3 seeds", "only 1 MiB is available", "--seeds")
    assert not out.exists()  # refused before the folder was made


def test_the_memory_estimate_counts_parameters_seeds_and_optimizer_state():
    from mnistlab.models import build_model
    from mnistlab.train import Engine, _memory

    model = build_model("mlp", num_classes=10, widths=(100,), image_shape=(28, 28))
    config = resolve(TrainConfig(model="mlp", widths=(100,), seeds=(0, 1), optimizer="adam"))
    engine = Engine(model, config, n_train=1000, image_shape=(28, 28), num_classes=10)
    estimate, per_seed = _memory.training_bytes(engine, 1000, 0)
    assert per_seed == 784 * 100 + 100 + 100 * 10 + 10
    # params + adam's two moments + gradient + update, float32, both seeds: at least 5 copies.
    assert estimate >= 5 * 4 * per_seed * 2


def test_available_memory_is_a_positive_number_of_bytes_with_its_source():
    from mnistlab._compute import available_memory

    found = available_memory()
    assert found is not None
    assert found[0] > 0
    assert isinstance(found[1], str)


# --- damaged run folders ---------------------------------------------------------------------------

COMMANDS = [["evaluate"], ["report"], ["predict", "x.png"], ["export"]]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_run_json_without_its_dataset_record_is_one_line_exit_2(tmp_path, capsys, command):
    bad = make_run(tmp_path / "run", info="{}")
    code, _, err = run_cli(capsys, command[0], bad, *command[1:])
    assert_user_error(code, err, f"{bad / 'run.json'} has no dataset record", "damaged")


def test_evaluate_and_report_agree_on_a_truncated_params_file(run, capsys):
    errors = []
    for command in ("evaluate", "report"):
        code, _, err = run_cli(capsys, command, run)
        assert_user_error(code, err, f"{run / 'params.npz'} is not a readable", "damaged")
        errors.append(err)
    assert errors[0] == errors[1]
    assert not (run / "report.html").exists()


def test_train_config_given_an_image_is_one_line(tmp_path, capsys):
    image = tmp_path / "image.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    code, _, err = run_cli(capsys, "train", "--config", image)
    assert_user_error(code, err, f"config file {image} is not a text file")


def test_report_refuses_more_inits_than_the_memory_holds_before_any_work(tmp_path, capsys, monkeypatch):
    from mnistlab import _compute
    from mnistlab.models import build_model
    from mnistlab.runs import RunDir
    from mnistlab.train import Engine

    run = make_run(tmp_path / "run", params=None)
    config = RunDir.open(run).config
    model = build_model("softmax", num_classes=10, image_shape=(28, 28))
    engine = Engine(model, config, n_train=4000, image_shape=(28, 28), num_classes=10)
    RunDir(run).save_params(engine.init().params, {"epoch": 1})
    (run / "metrics.jsonl").write_text("")
    monkeypatch.setattr(_compute, "available_memory", lambda: (2**20, "MemAvailable in /proc/meminfo"))
    monkeypatch.setattr("mnistlab.report._collect.collect", lambda *a, **k: pytest.fail("did work first"))
    code, _, err = run_cli(capsys, "report", run, "--inits", "50")
    assert_user_error(code, err, "50 initialisations", "31,400 bytes each", "--inits")
    assert not (run / "report.html").exists()
