"""S5 (learning rates 0.001, 1.6, 2 on S4's tanh MLP) on the full MNIST: ONE compiled program for
the three rates (``train.train_sweep``) against three separate runs (``train.train``).

    PYTHONPATH=src python bench/sweep.py [--data-dir ../shared/data] [--epochs 1]   # prints JSON

Per method: wall seconds for the whole thing (data, compiling, training, evaluating, writing the
run folders), seconds compiling (the epoch and evaluation programs, summed over runs), seconds
in training epochs (steady state: after compiling), and each rate's final test accuracy (the
two methods must agree). Both use the same data folder and write into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path


def s5_configs(epochs: int):
    from mnistlab.studies import find_study

    study = find_study("learning-rate")  # its base and members, as `mnistlab study run` builds them
    configs = [study.base.replace(**m.changes, dataset="mnist", epochs=epochs) for m in study.members]
    return [m.name for m in study.members], configs


def _numbers(results, wall: float, *, shared: bool) -> dict:
    """``shared``: one program for all (each member reports the group's seconds: count them once)."""
    total = max if shared else sum
    return {
        "wall_seconds": round(wall, 2),
        "compile_seconds": round(total(r.summary.get("compile_seconds", 0.0) for r in results), 2),
        "train_seconds": round(total(r.summary.get("train_seconds", 0.0) for r in results), 2),
        "status": [r.status for r in results],
        "final_test_accuracy": [r.summary.get("final_test_accuracy") for r in results],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    import jax

    from mnistlab import train

    names, configs = s5_configs(args.epochs)
    out: dict = {
        "study": "S5 learning-rate",
        "runs": names,
        "epochs": args.epochs,
        "device": f"{jax.devices()[0].platform} ({platform.processor() or platform.machine()})",
    }
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        swept = train.train_sweep(
            configs, outs=[Path(tmp, "sweep", n) for n in names], data_dir=args.data_dir, quiet=True
        )
        out["one_program"] = _numbers(swept, time.perf_counter() - t, shared=True)
        t = time.perf_counter()
        alone = [
            train.train(c, out=Path(tmp, "alone", n), data_dir=args.data_dir, quiet=True)
            for n, c in zip(names, configs, strict=True)
        ]
        out["separate_runs"] = _numbers(alone, time.perf_counter() - t, shared=False)
    a, b = out["one_program"], out["separate_runs"]
    out["speedup_wall"] = round(b["wall_seconds"] / a["wall_seconds"], 2)
    out["speedup_compile"] = round(b["compile_seconds"] / max(a["compile_seconds"], 1e-9), 2)
    out["speedup_train"] = round(b["train_seconds"] / max(a["train_seconds"], 1e-9), 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
