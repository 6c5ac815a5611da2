"""What a run spends writing its folder per epoch: logs and checkpoint, appended vs rewritten.

    python bench/run_logs.py [--epochs 300] [--steps 469] [--modes append rewrite]   # prints JSON

Writes S1's shape (469 steps per epoch, one seed, a 784x10 softmax) into a temporary folder with
no training at all: ``append`` is what a run does now (the epoch's lines appended, a checkpoint
of state and epoch); ``rewrite`` is what it did before (every log rewritten and the whole history
inside the checkpoint, every epoch), whose cost grows with the epoch: keep --epochs modest for it.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from mnistlab.runs import RunDir, save_checkpoint


class _History:
    def __init__(self):
        self.epochs, self.step_loss = [], []

    def as_dict(self) -> dict:
        return {"epochs": self.epochs, "step_loss": [a.tolist() for a in self.step_loss]}


def _record(e: int, steps: int, rng) -> dict:
    return {
        "epoch": e,
        "step": steps * e,
        "lr": 0.001,
        "train_loss": [float(rng.random())],
        "train_accuracy": [float(rng.random())],
        "test_loss": [float(rng.random())],
        "test_accuracy": [float(rng.random())],
        "epoch_seconds": 0.03,
        "examples_per_second": 1e6,
        "eval_seconds": 0.01,
    }


def bench(mode: str, epochs: int, steps: int) -> dict:
    rng = np.random.default_rng(0)
    state = {"params": {"w": np.zeros((784, 10), np.float32), "b": np.zeros(10, np.float32)}}
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        run, history = RunDir(Path(tmp)), _History()
        for e in range(1, epochs + 1):
            history.epochs.append(_record(e, steps, rng))
            history.step_loss.append(rng.random((1, steps)).astype(np.float32))
            t = time.perf_counter()
            if mode == "append":
                run.append_metrics(history, (0,))
                save_checkpoint(run.checkpoint, state, {"epoch": e})
            else:
                save_checkpoint(run.checkpoint, state, {"epoch": e, "history": history.as_dict()})
                run.write_metrics(history, (0,))
            seconds.append(time.perf_counter() - t)
    return {
        "mode": mode,
        "epochs": epochs,
        "steps_per_epoch": steps,
        "first_10_epochs_s": round(sum(seconds[:10]), 4),
        "last_10_epochs_s": round(sum(seconds[-10:]), 4),
        "total_s": round(sum(seconds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--steps", type=int, default=469)
    parser.add_argument("--modes", nargs="+", default=["append", "rewrite"], choices=["append", "rewrite"])
    args = parser.parse_args()
    print(json.dumps([bench(m, args.epochs, args.steps) for m in args.modes], indent=2))


if __name__ == "__main__":
    main()
