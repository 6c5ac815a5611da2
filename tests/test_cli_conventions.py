"""Conventions every command keeps: help and version, exit codes, JSON, plain output when piped,
and options that are all checked before any data is touched."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from helpers import run_cli
from mnistlab.runs import params


def test_version_works_on_its_own(capsys):
    from mnistlab import __version__

    assert run_cli(capsys, "--version") == (0, f"mnistlab {__version__}\n", "")


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_names_every_command_the_exit_codes_and_the_environment(capsys, flag):
    code, out, _ = run_cli(capsys, flag)
    assert code == 0
    for command in ("train", "evaluate", "predict", "report", "export", "data", "study"):
        assert f"  {command} " in out
    text = " ".join(out.split())
    assert "Exit codes: 0 success; 1 runtime failure" in text
    assert "2 usage error" in text
    assert "130 interrupted" in text
    assert "MNISTLAB_OFFLINE=1" in text
    assert "MNISTLAB_DATA_DIR" in text
    assert "--install-completion" in out  # shell completion is offered


def test_train_help_shows_each_choice_from_its_registry(capsys):
    from mnistlab.models import model_names
    from mnistlab.optim import OPTIMIZERS, SCHEDULES

    code, out, _ = run_cli(capsys, "train", "-h")
    assert code == 0
    assert f"--optimizer [{'|'.join(OPTIMIZERS)}]" in out
    assert f"--schedule [{'|'.join(SCHEDULES)}]" in out
    assert f"--model [{'|'.join(model_names())}]" in out


def test_train_has_an_option_for_every_command_line_field_of_the_config(capsys):
    code, out, _ = run_cli(capsys, "train", "--help")
    assert code == 0
    for name, p in params().items():
        if p.cli == "seeds":
            assert "--seed " in out
            assert "--seeds " in out
        elif p.cli:
            flag = (p.flag or "--" + name.replace("_", "-")).split("/")[0]
            assert flag in out, f"{name}: {flag} not in train --help"


# Each bad value is refused with exit 2 and one line BEFORE the data: the dataset asked for
# (MNIST, not cached, offline) would otherwise fail first with exit 1.
BAD_OPTIONS = [
    (["--optimizer", "adma"], ["optimizer must be one of", "got 'adma'", "did you mean 'adam'"]),
    (["--schedule", "cosin"], ["schedule must be one of", "did you mean 'cosine'"]),
    (["--model", "cnnn"], ["model must be one of", "did you mean 'cnn'"]),
    (["--activation", "elu"], ["activation must be", "relu"]),
    (["--init", "he"], ["init must be one of", "s9"]),
    (["--dtype", "float16"], ["dtype must be one of", "'float16'"]),
    (["--preprocess", "zca"], ["preprocess must be one of"]),
    (["--lr", "-1"], ["lr must be", "> 0", "got -1"]),
    (["--momentum", "1"], ["momentum must be", "[0, 1)"]),
    (["--epochs", "0"], ["epochs must be a positive integer", "got 0"]),
    (["--epochs", "99999999999999999999"], ["epochs must be a positive integer <= 100000"]),
    (["--batch-size", "0"], ["batch_size must be a positive integer"]),
    (["--widths", "10,,20"], ["--widths must be comma-separated integers", "'10,,20'"]),
    (["--widths", "100000000"], ["widths must be", "<= 65536"]),
    (["--seeds", "100000"], ["--seeds must be a count in [1, 1024]"]),
    (["--val-fraction", "0.9"], ["val_fraction must be a number in [0, 0.5]"]),
    (["--optimizer", "sgd", "--momentum", "0.5"], ["momentum", "sgd"]),
    (["--optimizer", "adam", "--momentum", "0.5"], ["momentum", "adam"]),
    (["--schedule", "exponential"], ["exponential schedule needs", "--lr-factor"]),
    (["--lr-factor", "0.5"], ["--lr-factor", "only used by", "exponential"]),
    (["--schedule", "warmup-cosine", "--warmup-epochs", "5", "--epochs", "3"], ["warmup_epochs"]),
    (["--schedule", "cosine", "--lr", "0.1", "--final-lr", "0.5"], ["final_lr"]),
    (["--classes", "3"], ["classes must name at least two classes"]),
]


@pytest.mark.parametrize(("args", "fragments"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_every_bad_train_option_fails_before_the_data_with_one_line(
    capsys, tmp_path, monkeypatch, args, fragments
):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "train", "--dataset", "mnist", *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for f in fragments:
        assert f in lines[0], f"{f!r} not in {lines[0]!r}"
    assert "MNISTLAB_OFFLINE" not in err  # the data was never asked for
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_data_list_piped_prints_whole_rows(capsys):
    code, out, _ = run_cli(capsys, "data", "list")  # capsys: stdout is not a terminal
    assert code == 0
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert rows[0][:3] == ["name", "title", "classes"]
    names = [r[0] for r in rows[1:]]
    assert {"mnist", "fashion-mnist", "kmnist", "mnist-sample"} <= set(names)
    assert all(len(r) == len(rows[0]) for r in rows)


def test_data_list_through_a_real_pipe_is_grep_able(tmp_path):
    env = {**os.environ, "MNISTLAB_OFFLINE": "1", "MNISTLAB_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        f"{sys.executable} -m mnistlab data list | grep fashion",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("fashion-mnist\t")


def test_data_list_json(capsys):
    code, out, _ = run_cli(capsys, "data", "list", "--json")
    assert code == 0
    listing = json.loads(out)
    sample = next(d for d in listing["datasets"] if d["name"] == "mnist-sample")
    assert (sample["train"], sample["test"]) == (4000, 1000)
    assert sample["available"]


def test_train_and_report_json(capsys, tmp_path):
    run = tmp_path / "run"
    args = ["--dataset", "mnist-sample", "--model", "softmax", "--epochs", "1", "--out", run, "-q", "--json"]
    code, out, err = run_cli(capsys, "train", *args)
    assert code == 0, err
    result = json.loads(out)
    assert result["run"] == str(run)
    assert result["status"] == "completed"
    assert 0.5 < result["summary"]["final_test_accuracy"] <= 1
    code, out, err = run_cli(capsys, "report", run, "--json", "--examples", "2")
    assert code == 0, err
    written = json.loads(out)
    assert written == {"report": str(run / "report.html"), "runs": [str(run)]}
    assert (run / "report.html").stat().st_size > 10_000
    # Its progress went to stderr, one plain line per phase when piped (no spinner escapes).
    phases = [re.sub(r" \(\d+\.\d s\)$", "", line) for line in err.splitlines()]  # "... (0.4 s)"
    assert phases[0] == "report: reading 1 run folder"
    assert phases[-1] == f"report: writing {run / 'report.html'}"
    assert "report: run: evaluation figures" in phases
    assert "\x1b" not in err


def test_an_interrupt_outside_training_exits_130_with_one_line(capsys, monkeypatch):
    from mnistlab import data

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "status", interrupted)
    code, _out, err = run_cli(capsys, "data", "list")
    assert code == 130
    assert err == "interrupted\n"


def test_every_help_the_listings_and_a_config_check_start_without_jax():
    # Every --help answers at once: JAX, Flax and Optax load only when a command builds a model or
    # an optimizer. The registries' names (models, optimizers, schedules) are read without them,
    # so checking a config (train --help lists the choices) imports none of them either.
    code = (
        "import sys\n"
        "from mnistlab.cli import main\n"
        "from mnistlab.runs import from_dict\n"
        "assert 'jax' not in sys.modules, 'importing mnistlab.runs imported jax'\n"
        "from_dict({'model': 'cnn-s7', 'optimizer': 'momentum', 'schedule': 'cosine',"
        " 'init': 'glorot'})\n"
        "for args in (['--help'], ['train', '--help'], ['report', '--help'], ['evaluate', '--help'],\n"
        "             ['speedrun', '--help'], ['data', 'list'], ['study', 'list'],\n"
        "             ['study', 'run', '--help'], ['study', 'backprop', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in ('jax', 'flax', 'optax') if m in sys.modules)\n"
        "sys.exit(f'imported {heavy}' if heavy else 0)\n"
    )
    env = {**os.environ, "MNISTLAB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "not_loaded"),
    [
        (["--help"], ("numpy", "mnistlab.studies", "pydantic")),
        (["data", "list"], ("mnistlab.studies", "pydantic")),
        (["train", "--help"], ("mnistlab.studies", "pydantic")),
    ],
)
def test_a_command_loads_only_what_it_needs(args, not_loaded):
    # Issue 12's 0.5 s: the studies' commands are built only under `mnistlab study` (each reads its
    # config, importing the studies and NumPy), and Typer is one that parses options without
    # pydantic (0.1-0.2 s of import); the run folder's modules (NumPy) load when a run is opened.
    code = (
        "import sys\n"
        "from mnistlab.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"loaded = sorted(m for m in {not_loaded!r} if m in sys.modules)\n"
        "sys.exit(f'imported {loaded}' if loaded else 0)\n"
    )
    env = {**os.environ, "MNISTLAB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            ["train", "--epochs", "1", "--epochs=2", "--dataset", "mnist-sample"],
            "--epochs was given 2 times (1, 2)",
        ),
        (["study", "backprop", "--skip", "numpy", "--skip", "einsum"], "--skip numpy,einsum"),
    ],
)
def test_an_option_given_twice_is_refused_instead_of_the_first_value_being_dropped(
    capsys, tmp_path, monkeypatch, args, named
):
    monkeypatch.chdir(tmp_path)
    code, _out, err = run_cli(capsys, *args)
    assert code == 2
    assert named in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing ran
