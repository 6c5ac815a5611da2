"""How long a user waits before anything happens: `import mnistlab`, a few commands and
`mnistlab report` on a 3-epoch run, 5 runs each.

    python bench/startup.py [--repeat 5] [--src PATH] [--report-run RUN | --no-report]   # prints JSON

Each command is a fresh process (what a user's shell runs), timed as wall seconds and as CPU
seconds (user + system, of the process and its threads): on a shared machine the wall time
measures the neighbours too, the CPU time mostly this command. Bytecode is written and one
untimed warm-up run goes first, as an installed package has its ``.pyc`` files (a
``PYTHONDONTWRITEBYTECODE=1`` environment would otherwise time Python compiling mnistlab).
``--src`` points at another checkout's ``src`` to time it with the same interpreter and packages
(before/after comparisons on one machine). The report is timed twice: compiling its programs,
and with them in the compile cache (``MNISTLAB_COMPILE_CACHE``). It runs on ``--report-run``,
else on a run this script trains first (``mnistlab train --dataset mnist-sample --epochs 3``, the default
CNN) in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "import mnistlab": ["-c", "import mnistlab"],
    "mnistlab --help": ["-m", "mnistlab", "--help"],
    "mnistlab data list": ["-m", "mnistlab", "data", "list"],
    "mnistlab train --help": ["-m", "mnistlab", "train", "--help"],
}


def timed(argv: list[str], env: dict, repeat: int) -> dict:
    subprocess.run([sys.executable, *argv], env=env, capture_output=True, check=True)  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *argv], env=env, capture_output=True, check=True)
        wall.append(round(time.perf_counter() - t0, 3))
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(round(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, 3))
    return {
        "seconds": wall,
        "median": statistics.median(wall),
        "cpu_seconds": cpu,
        "cpu_median": statistics.median(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument("--report-run", type=Path, default=None, help="a finished run to report on")
    parser.add_argument("--no-report", action="store_true", help="leave the report out")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.src), "MNISTLAB_OFFLINE": "1", "MNISTLAB_COMPILE_CACHE": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = {name: timed(argv, env, args.repeat) for name, argv in COMMANDS.items()}
    if not args.no_report:
        with tempfile.TemporaryDirectory() as tmp:
            run = args.report_run
            if run is None:
                run = Path(tmp) / "run"
                train = ["-m", "mnistlab", "train", "--dataset", "mnist-sample", "--epochs", "3", "-q"]
                quiet = {"env": env, "check": True, "stdout": subprocess.DEVNULL}  # stdout is our JSON
                subprocess.run([sys.executable, *train, "--out", str(run)], **quiet)
            report = ["-m", "mnistlab", "report", str(run), "--out", str(Path(tmp) / "report.html")]
            # Cold: every program compiled (a first report); warm: the compiled programs loaded from
            # the command line's cache (a report run again), the warm-up run having filled it.
            cold = {**env, "MNISTLAB_COMPILE_CACHE": "0"}
            warm = {**env, "MNISTLAB_COMPILE_CACHE": str(Path(tmp) / "xla")}
            results["mnistlab report (3-epoch run), compiling"] = timed(report, cold, args.repeat)
            results["mnistlab report (3-epoch run), compiled programs cached"] = timed(
                report, warm, args.repeat
            )
    load = os.getloadavg()[0]
    print(
        json.dumps(
            {
                "src": str(args.src),
                "python": sys.version.split()[0],
                "load_average_1min": load,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
