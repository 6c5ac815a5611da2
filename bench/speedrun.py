"""Cold speedruns: ``mnistlab speedrun`` over several seeds, each a fresh process, per dataset.

    python bench/speedrun.py [--seeds 5] [--datasets mnist,fashion-mnist] [--data-dir ../shared/data]

Prints JSON: per dataset the per-seed test accuracy and seconds (from process start, the parts
too), the mean and standard deviation of both, and the fraction of seeds reaching the target and
the 20 s budget. Every run is a new Python process with no persistent compilation cache, so each
pays for its imports and compilation, as a user's first run does. The machine's load average
(before and after) goes with the numbers: other work on the machine slows every part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _one(dataset: str, seed: int, data_dir: str, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC), "MNISTLAB_OFFLINE": "1"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # cold: nothing compiled by an earlier run
    argv = [sys.executable, "-m", "mnistlab", "speedrun", "--dataset", dataset, "--seed", str(seed)]
    argv += ["--data-dir", data_dir, "--out", str(out / f"{dataset}-{seed}"), "--json", "--quiet"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def _stats(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", default="mnist,fashion-mnist")
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--out", type=Path, default=None, help="keep the run folders here")
    args = parser.parse_args()
    results = {"load_before": _load(), "cpus": os.cpu_count(), "datasets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        for dataset in args.datasets.split(","):
            runs = [_one(dataset, seed, args.data_dir, out) for seed in range(args.seeds)]
            acc = [r["test_accuracy"] for r in runs]
            total = [r["seconds"]["total"] for r in runs]
            target, budget = runs[0]["target"], runs[0]["budget_seconds"]
            results["datasets"][dataset] = {
                "target": target,
                "budget_seconds": budget,
                "epochs": runs[0]["epochs"],
                "runs": [
                    {"seed": r["seed"], "test_accuracy": r["test_accuracy"], "seconds": r["seconds"]}
                    for r in runs
                ],
                "test_accuracy": _stats(acc),
                "total_seconds": _stats(total),
                "mean_parts_seconds": {
                    k: statistics.fmean(r["seconds"][k] for r in runs) for k in runs[0]["seconds"]
                },
                "fraction_reaching_target": sum(a >= target for a in acc) / len(acc) if target else None,
                "fraction_within_budget": sum(t <= budget for t in total) / len(total),
                "mean_reaches_target": statistics.fmean(acc) >= target if target else None,
            }
    results["load_after"] = _load()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
