"""How long a user waits before anything happens: `import mnistlab` and a few commands, 5 runs each.

    python bench/startup.py [--repeat 5] [--src PATH]   # prints JSON

Each command is a fresh process (what a user's shell runs); ``--src`` points at another checkout's
``src`` to time it with the same interpreter and packages (before/after comparisons on one machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "import mnistlab": ["-c", "import mnistlab"],
    "mnistlab --help": ["-m", "mnistlab", "--help"],
    "mnistlab data list": ["-m", "mnistlab", "data", "list"],
    "mnistlab train --help": ["-m", "mnistlab", "train", "--help"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.src), "MNISTLAB_OFFLINE": "1"}
    results = {}
    for name, argv in COMMANDS.items():
        seconds = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, *argv], env=env, capture_output=True, check=True)
            seconds.append(round(time.perf_counter() - t0, 3))
        results[name] = {"seconds": seconds, "median": statistics.median(seconds)}
    print(json.dumps({"src": str(args.src), "python": sys.version.split()[0], "results": results}, indent=2))


if __name__ == "__main__":
    main()
