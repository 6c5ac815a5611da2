"""README.md, as a new user reads it: every command it shows runs, in order, and its generated
tables match the code."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def _commands() -> list[str]:
    """Every command of the bash blocks after the first (the install lines), continuation lines
    joined and comments dropped."""
    out = []
    for block in _blocks("bash")[1:]:
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:  # a pipe stays a pipe
                out.append(" ".join(w if w == "|" else shlex.quote(w) for w in words))
    return out


def test_readme_starts_with_the_install_and_run_and_the_test_commands():
    first = _blocks("bash")[0].strip().splitlines()
    assert first == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/mnistlab train",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]


def test_readme_tables_are_generated_from_the_registries():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "tools" / "readme_tables.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    text = README.read_text(encoding="utf-8")
    assert tool.render(text) == text, "README's tables are out of date: run python tools/readme_tables.py"


@pytest.fixture(scope="module")
def tour(tmp_path_factory, shared_data, full_mnist):
    """A new user's folder: MNIST's files in ~/Downloads/mnist, Fashion-MNIST in the cache (as a
    download would leave it), a drawing in my-digit.png."""
    from PIL import Image

    from mnistlab import data

    root = tmp_path_factory.mktemp("readme")
    home, cache, work = root / "home", root / "cache", root / "work"
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "mnist").symlink_to(full_mnist)
    cache.mkdir()
    (cache / "fashion-mnist").symlink_to(shared_data / "fashion-mnist")
    work.mkdir()
    digit = data.load("mnist-sample", "test").images[0]
    Image.fromarray(255 - np.asarray(digit)).resize((96, 96)).save(work / "my-digit.png")  # dark ink on white
    return {"home": home, "cache": cache, "work": work}


COMMANDS = _commands()


def test_the_readme_shows_commands():
    assert len(COMMANDS) >= 20
    assert all(c.startswith("mnistlab ") for c in COMMANDS)


def _serve_briefly(command: str) -> None:
    """A server runs until Ctrl-C: start it in a subprocess on a free port (never opening a
    browser), check that it answers with the runs made so far, and stop it as a user would."""
    import signal
    import urllib.request

    args = [a for a in shlex.split(command)[1:] if a != "--open"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnistlab", *args, "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()  # "serving http://127.0.0.1:PORT/  (Ctrl-C stops it)"
        assert line.startswith("serving http://127.0.0.1:"), line
        url = line.split()[1]
        with urllib.request.urlopen(url + "api/runs", timeout=60) as response:
            names = {e["name"] for e in json.load(response)["entries"]}
        assert "mlp" in names, names
        with urllib.request.urlopen(url, timeout=60) as response:
            assert response.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, command


@pytest.mark.full_data
@pytest.mark.slow
def test_every_readme_command_runs_in_order(tour, capsys, monkeypatch):
    monkeypatch.chdir(tour["work"])
    monkeypatch.setenv("HOME", str(tour["home"]))
    monkeypatch.setenv("MNISTLAB_DATA_DIR", str(tour["cache"]))
    for command in COMMANDS:
        if command.startswith("mnistlab serve "):
            _serve_briefly(command)
            continue
        if "|" in command:  # a pipeline: through the shell, as typed
            shell = command.replace("mnistlab ", f"{shlex.quote(sys.executable)} -m mnistlab ", 1)
            proc = subprocess.run(shell, shell=True, capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, f"{command}\n{proc.stderr}"
            continue
        args = [os.path.expanduser(a) for a in shlex.split(command)[1:]]
        code, out, err = run_cli(capsys, *args)
        assert code == 0, f"{command}\n{err}"
        if "--json" in args:
            json.loads(out)
    work = tour["work"]
    for run in ("mlp", "s4", "s7", "s8", "lenet5", "tb", "mlp-lr", "softmax"):
        assert (work / "runs" / run / "params.npz").is_file(), run
    assert json.loads((work / "runs" / "mlp" / "run.json").read_text())["summary"]["epochs"] == 4
    assert (work / "compare.html").is_file()
    assert any((work / "runs" / "tb" / "tensorboard").iterdir())
    assert (work / "runs" / "mlp" / "export" / "model.stablehlo").is_file()
    assert (work / "s7.onnx").is_file()
    assert (work / "grid.png").is_file()
    # The README's Python: the run folder and the notebook view, in the same folder.
    for block in _blocks("python"):
        if 'open("runs/mlp")' in block or 'evaluate_run("runs/mlp")' in block:
            exec(compile(block, "README.md", "exec"), {})
