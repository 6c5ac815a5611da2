"""The command line's persistent cache of compiled programs (mnistlab._compile_cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from mnistlab._compile_cache import COMPILE_CACHE_MAX_BYTES, use_compile_cache


def test_the_cache_goes_to_a_folder_per_processor_kind_unless_the_user_chose():
    env: dict[str, str] = {}
    folder = use_compile_cache(env)
    assert folder == env["JAX_COMPILATION_CACHE_DIR"]
    assert os.path.join("mnistlab", "xla") in folder
    assert env["JAX_COMPILATION_CACHE_MAX_SIZE"] == str(COMPILE_CACHE_MAX_BYTES)
    assert use_compile_cache({}) == folder  # the same machine, the same folder

    assert use_compile_cache({"MNISTLAB_COMPILE_CACHE": "0"}) is None
    off: dict[str, str] = {"MNISTLAB_COMPILE_CACHE": "off"}
    assert use_compile_cache(off) is None
    assert "JAX_COMPILATION_CACHE_DIR" not in off
    assert use_compile_cache({"MNISTLAB_COMPILE_CACHE": "/tmp/here"}) == "/tmp/here"
    theirs = {"JAX_COMPILATION_CACHE_DIR": "/their/cache", "MNISTLAB_COMPILE_CACHE": "/tmp/here"}
    assert use_compile_cache(theirs) == "/their/cache"  # JAX's own setting wins, untouched
    assert "JAX_COMPILATION_CACHE_MAX_SIZE" not in theirs


def test_a_second_run_of_the_same_model_loads_its_programs_and_trains_the_same(tmp_path):
    cache = tmp_path / "xla"
    env = {
        **os.environ,
        "MNISTLAB_COMPILE_CACHE": str(cache),
        "JAX_LOG_COMPILES": "1",  # JAX then logs each cache hit as a warning
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",  # a tiny model compiles fast
    }
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    results, logs = [], []
    for i in range(2):
        out = tmp_path / f"run{i}"
        cmd = [sys.executable, "-m", "mnistlab", "train", "--dataset", "mnist-sample", "--model", "softmax"]
        cmd += ["--epochs", "1", "--out", str(out), "--json", "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results.append(json.loads(proc.stdout))
        logs.append(proc.stderr)
        if i == 0:
            assert any(p.name.endswith("-cache") for p in cache.iterdir()), "nothing was cached"
    assert "Persistent compilation cache hit" not in logs[0]
    assert "Persistent compilation cache hit" in logs[1]
    first, second = (json.loads((tmp_path / f"run{i}" / "metrics.jsonl").read_text()) for i in range(2))
    assert first["test_accuracy"] == second["test_accuracy"]
    assert first["train_loss"] == second["train_loss"]


def test_the_command_line_turns_it_on_except_for_a_speedrun_which_is_timed_cold(tmp_path):
    code = (
        "import os, sys\n"
        "from mnistlab.cli import main\n"
        "try:\n"
        "    main([sys.argv[1], '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('JAX_COMPILATION_CACHE_DIR'))\n"
    )
    env = {**os.environ, "MNISTLAB_COMPILE_CACHE": str(tmp_path / "xla")}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    seen = {}
    for command in ("train", "speedrun"):
        proc = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen[command] = proc.stdout.strip().splitlines()[-1]
    assert seen == {"train": str(tmp_path / "xla"), "speedrun": "None"}
