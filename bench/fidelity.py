"""The studies' reference points, rerun at their full settings: one JSON verdict per point.

    python bench/fidelity.py --data-dir ../shared/data                      # every study with references
    python bench/fidelity.py --data-dir ../shared/data --studies s4 s8      # a few of them
    python bench/fidelity.py --data-dir ../shared/data --dataset fashion-mnist --studies all
    python bench/fidelity.py --out bench-out/fidelity --collect             # read finished folders only

Each study runs through the real command, ``mnistlab study run NAME --json`` in a subprocess, into
``--out/<dataset>/<name>`` and is resumed there when the folder exists, so an interrupted bench
picks up where it stopped (the full set is hours on a 2-core CPU). The verdicts are the study's own
(``study.json``: |ours - reference| <= 2 sigma is "within noise", see docs/fidelity.md); this script
only runs the studies and gathers them. The seeds follow docs/fidelity.md: the studies whose
points sit within a point of the reference, or that the course repeats, run over 3 or 5 seeds.
Prints one JSON object: per study the command, seconds, status, verdict summary and every point.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# Seeds per study as docs/fidelity.md reports them (None: the study's own, e.g. S7's five).
SEEDS = {"learning-rate": 3, "binary-1v7": 3, "capacity": 3}


def study_names(which: list[str], dataset: str) -> list[str]:
    """The catalogue names asked for: ``all``, ``refs`` (those with reference numbers on
    ``dataset``) or names / S-numbers."""
    from mnistlab import studies

    rows = studies.listing()
    if which in (["all"], ["refs"]):
        keep = [r for r in rows if which == ["all"] or dataset in r["reference_datasets"]]
        return [r["name"] for r in keep]
    return [studies.find_study(name).name for name in which]


def run_study(name: str, out: Path, args) -> dict:
    """One study through the CLI (resumed when ``out`` holds it); its study.json, gathered."""
    cmd = [sys.executable, "-m", "mnistlab", "study", "run", name, "--out", str(out), "--json", "-q"]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    if not args.quick:  # --quick picks the bundled sample itself
        cmd += ["--dataset", args.dataset]
    seeds = args.seeds or SEEDS.get(name)
    if seeds:
        cmd += ["--seeds", str(seeds)]
    if args.quick:
        cmd += ["--quick"]
    if (out / "study.json").is_file():
        cmd += ["--resume"]
    seconds = None
    if not args.collect:
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        seconds = round(time.perf_counter() - t, 1)
        if proc.returncode != 0:
            error = proc.stderr.strip()[-500:]
            return {"command": _shown(cmd), "seconds": seconds, "status": "failed", "error": error}
    return gather(out, _shown(cmd), seconds)


def gather(out: Path, command: str, seconds) -> dict:
    """What ``out/study.json`` says: status, summary, and each reference point's verdict."""
    path = out / "study.json"
    if not path.is_file():
        return {"command": command, "seconds": seconds, "status": "not run"}
    study = json.loads(path.read_text())
    keys = ("run", "reference_text", "reference", "ours", "std", "seeds", "difference", "sigma", "verdict")
    points = [{k: v.get(k) for k in keys} for v in study.get("verdicts", [])]
    return {
        "command": command,
        "seconds": seconds,
        "status": study.get("status"),
        "dataset": study.get("dataset_title"),
        "settings": study.get("settings_text"),
        "verdict_summary": study.get("verdict_summary"),
        "points": points,
    }


def _shown(cmd: list[str]) -> str:
    return " ".join(["mnistlab", *cmd[3:]])


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--studies", nargs="+", default=["refs"], help="names, S-numbers, refs (default), all")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--data-dir", default=None, help="cache root holding mnist/ (default: mnistlab's own)")
    p.add_argument("--out", type=Path, default=ROOT / "bench-out" / "fidelity")
    p.add_argument("--seeds", type=int, default=None, help="seeds for every study (default: SEEDS)")
    p.add_argument("--quick", action="store_true", help="the studies' --quick: a smoke test of this script")
    p.add_argument("--collect", action="store_true", help="run nothing: gather the folders in --out")
    args = p.parse_args(argv)

    names = study_names(args.studies, args.dataset)
    report: dict = {"dataset": args.dataset, "quick": args.quick, "studies": {}}
    for name in names:
        report["studies"][name] = run_study(name, args.out / args.dataset / name, args)
    verdicts = [pt["verdict"] for s in report["studies"].values() for pt in s.get("points", [])]
    report["summary"] = {
        "points": len(verdicts),
        "within_noise": sum(v == "within noise" for v in verdicts),
        "off": sum(v == "off" for v in verdicts),
        "failed": [n for n, s in report["studies"].items() if s["status"] == "failed"],
    }
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
