"""The speedrun: the shipped recipe's config, one timed run of it, and the record it leaves.

Why a recipe is a config file and not code: anyone can run, change or resume it with
``mnistlab train --config`` (the model is the registered ``"speedrun"``, the rest is
ordinary :class:`~mnistlab.train.TrainConfig` fields), and the numbers below come from exactly
what the file says. ``mnistlab speedrun`` only adds the clock and the verdict.

The record (``speedrun.json`` in the run folder, and ``--json``) holds the seconds of each part
of the wait, from process start: ``startup`` (Python, the CLI), ``import`` (JAX, mnistlab's
training stack), ``setup`` (data loading, the model, the parameters' initialisation, the run
folder: all of ``train()`` that is not one of the next three), ``compile``, ``train`` (the
epochs), ``eval`` (scoring the test set: once, at the end, see :func:`score_once`), ``finish``
(after training: the summary, this record) and ``total``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .._checks import Options, check
from .._fs import atomic_write_bytes
from ..train import RunResult, TrainConfig, from_dict, load_toml, train

CONFIG_DIR = Path(__file__).with_name("configs")
# The recipes: a config file per dataset. mnist-sample runs MNIST's recipe on the bundled sample
# (for tests and offline trials; it has no target: 4,000 images do not make 99%).
RECIPES = {
    "mnist": "speedrun-mnist.toml",
    "fashion-mnist": "speedrun-fashion-mnist.toml",
    "mnist-sample": "speedrun-mnist.toml",
}
TARGETS = {"mnist": 0.99, "fashion-mnist": 0.91}  # issue 12's; stretch 0.994 and 0.93
STRETCH = {"mnist": 0.994, "fashion-mnist": 0.93}
BUDGET_SECONDS = 20.0  # issue 12: process start to the scored run, compile included
RECORD_FILE = "speedrun.json"


def config_path(dataset: str) -> Path:
    """The shipped config file of ``dataset``'s recipe."""
    return CONFIG_DIR / RECIPES[check("dataset", dataset, (Options(tuple(RECIPES)),), flag="--dataset")]


def speedrun_config(dataset: str = "mnist", *, seed: int = 0, epochs: int | None = None) -> TrainConfig:
    """``dataset``'s recipe as a config, with ``seed`` (and ``epochs`` when given, for quick checks)."""
    base = load_toml(config_path(dataset)).as_dict()
    values = {**base, "dataset": dataset, "seeds": [seed]}
    if epochs is not None:
        values["epochs"] = epochs
    return from_dict(values, source=f"the {dataset} speedrun recipe")


def score_once(config: TrainConfig, *, data_dir=None) -> TrainConfig:
    """``config``'s epochs as ONE chunk of steps (``steps`` = epochs x batches per pass,
    ``eval_every`` = ``steps``): the same batches in the same order and the same schedule, with
    the test set scored once, at the end, instead of after every epoch.

    What the speedrun times: the test set only scores the finished run, and scoring it after
    each of Fashion-MNIST's five epochs was 0.7 s of a 20 s budget.
    """
    from ..data import get_info, num_batches

    if config.val_fraction or config.classes or config.steps:
        return config  # not the whole training split, or steps already: scored as it says
    n = get_info(config.dataset, data_dir=data_dir).split_sizes["train"]
    steps = config.epochs * num_batches(n, config.batch_size, drop_last=config.drop_last)
    return config.replace(steps=steps, eval_every=steps, epochs=1)


def default_target(dataset: str) -> float | None:
    """The test accuracy ``dataset``'s speedrun aims at (None for the sample)."""
    return TARGETS.get(dataset)


def timed_run(config: TrainConfig, **train_kwargs) -> tuple[RunResult, float]:
    """``train(config, **train_kwargs)`` and its wall-clock seconds."""
    t = time.perf_counter()
    result = train(config, **train_kwargs)
    return result, time.perf_counter() - t


def speedrun_record(
    result: RunResult,
    *,
    run_seconds: float,
    startup: float,
    imported: float,
    target: float | None,
    total: float,
    epochs: int | None = None,
) -> dict:
    """What one speedrun measured: its parts in seconds, the test accuracy and the verdict.
    ``epochs``: the passes over the training set (default: the run's epochs; see :func:`score_once`)."""
    records = result.history.epochs
    compile_s = float(result.summary.get("compile_seconds", 0.0))
    train_s = float(sum(r["epoch_seconds"] for r in records))
    eval_s = float(sum(r.get("eval_seconds", 0.0) for r in records))
    accuracy = records[-1]["test_accuracy"][0] if records and "test_accuracy" in records[-1] else None
    seconds = {
        "startup": startup,
        "import": imported,
        "setup": max(run_seconds - compile_s - train_s - eval_s, 0.0),
        "compile": compile_s,
        "train": train_s,
        "eval": eval_s,
    }
    seconds["finish"] = max(total - sum(seconds.values()), 0.0)
    seconds["total"] = total
    config = result.config
    return {
        "run": str(result.run_dir),
        "status": result.status,
        "dataset": config.dataset,
        "model": config.model,
        "seed": int(config.seeds[0]),
        "epochs": len(records) if epochs is None else epochs,
        "steps": config.steps,  # None when the run was scored after every epoch
        "test_accuracy": accuracy,
        "target": target,
        "reached": None if target is None or accuracy is None else bool(accuracy >= target),
        "budget_seconds": BUDGET_SECONDS,
        "within_budget": bool(total <= BUDGET_SECONDS),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def write_record(run_dir, record: dict) -> Path:
    """``record`` as ``<run_dir>/speedrun.json`` (written whole or not at all)."""
    path = Path(run_dir) / RECORD_FILE
    atomic_write_bytes(path, (json.dumps(record, indent=2) + "\n").encode())
    return path


def describe(record: dict) -> str:
    """Two lines for a person: the parts of the wait, then the accuracy and the verdict."""
    s = record["seconds"]
    parts = ", ".join(f"{k} {s[k]:.1f}" for k in ("startup", "import", "setup", "compile", "train", "eval"))
    acc = record["test_accuracy"]
    line = f"test accuracy {100 * acc:.2f}%" if acc is not None else "no test accuracy"
    if record["target"] is not None:
        verdict = "reached" if record["reached"] else "NOT reached"
        line += f": target {100 * record['target']:.1f}% {verdict}"
    budget = "within" if record["within_budget"] else "over"
    return (
        f"seconds from process start: {parts}; total {s['total']:.1f} s "
        f"({budget} the {record['budget_seconds']:.0f} s budget)\n"
        f"{line} in {s['total']:.1f} s after {record['epochs']} epoch{'s' if record['epochs'] != 1 else ''}; "
        f"run {record['run']}"
    )
