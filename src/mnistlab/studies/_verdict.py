"""One verdict per reference number: ours (mean +- std over seeds), the reference, the
difference, and "within noise" or "off".

How noise is judged (stated in every report): an accuracy measured on ``n`` images has a
binomial standard error ``sqrt(p (1 - p) / n)``; the reference's own run had one, and a run with
another seed lands elsewhere by the seed-to-seed standard deviation ``s`` (measured when the
study runs several seeds, else 0). The two combine as ``sigma = sqrt(se^2 + s^2)``, and a point
is "within noise" when ``|ours - reference| <= 2 sigma`` (about 95% for a normal error). A range
("99.1-99.24% from epoch 10 on") is judged by the distance to the range.

"stays at chance" (S5's lr 2) is checked on every epoch of the run: the mean test accuracy must
never exceed 1.5 / classes. A run that merely learns slowly leaves that band within an epoch.
"""

from __future__ import annotations

import math
import statistics

WITHIN, OFF = "within noise", "off"
NOISE_RULE = (
    "noise: sigma = sqrt(se^2 + s^2), with se = sqrt(p (1 - p) / n) the binomial standard error of "
    "an accuracy p on n images and s the standard deviation over seeds (0 with one seed); within "
    "noise when |ours - reference| <= 2 sigma (for a range, the distance to the range). "
    "'stays at chance': the mean test accuracy never exceeds 1.5 / classes in any epoch."
)


def mean_std(values: list[float]) -> tuple[float, float]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return math.nan, math.nan
    m = statistics.fmean(vals)
    s = statistics.stdev(vals) if len(vals) > 1 and all(map(math.isfinite, vals)) else 0.0
    return m, s


def chance_level(run) -> float:
    return 1.0 / max(int(run.info.get("dataset", {}).get("num_classes", 10)), 2)


def stuck_at_chance(run, metric: str = "test_accuracy") -> bool | None:
    """True when the run's mean ``metric`` never leaves the chance band (see the module doc)."""
    curve = run.curve(metric)
    if not curve:
        return None
    limit = 1.5 * chance_level(run)
    means = [mean_std(v)[0] for v in curve]
    return all((not math.isfinite(m)) or m <= limit for m in means)


def _n_for(run, metric: str) -> int:
    sizes = run.sizes()
    if metric.startswith("test"):
        return int(sizes.get("test", 0))
    if metric.startswith("validation"):
        return int(sizes.get("validation", 0))
    return int(sizes.get("train", 0))


def verdict(ref, run, reference_dataset: str) -> dict:
    """The verdict row of ``ref`` against ``run`` (a :class:`~._execute.RunView`, or None)."""
    row = {
        "run": ref.run,
        "metric": ref.metric,
        "epoch": ref.epoch,
        "step": ref.step,
        "reference": ref.value,
        "reference_text": ref.text,
        "ours": None,
        "std": None,
        "seeds": 0,
        "difference": None,
        "sigma": None,
        "verdict": "",
    }
    if ref.low is not None:
        row.update(low=ref.low, high=ref.high)
    if run is None:
        return {**row, "verdict": "not run"}
    comparable = run.dataset == reference_dataset
    if ref.chance:
        stuck = stuck_at_chance(run, ref.metric)
        curve = run.curve(ref.metric)
        last = mean_std(curve[-1]) if curve else (math.nan, math.nan)
        row.update(ours=last[0], std=last[1], seeds=len(curve[-1]) if curve else 0, epoch=len(curve))
        row["difference"] = None if not math.isfinite(last[0]) else last[0] - ref.value
        text = "stays at chance" if stuck else "leaves chance"
        row["verdict"] = (
            (WITHIN if stuck else OFF) if comparable else f"{text} (reference is for {reference_dataset})"
        )
        row["stuck_at_chance"] = stuck
        return row
    epochs = run.epochs()
    if ref.epoch not in epochs:
        return {**row, "verdict": f"not reached (the run has {len(epochs)} epochs)"}
    at = run.records[epochs.index(ref.epoch)].get("step")
    if ref.step is not None and at != ref.step:  # e.g. --quick, which scores at other steps
        return {
            **row,
            "verdict": f"not measured (epoch {ref.epoch} of this run is step {at}, not {ref.step})",
        }
    values = run.curve(ref.metric)[epochs.index(ref.epoch)]
    if all(v is None for v in values):
        return {**row, "verdict": f"not measured ({ref.metric} not recorded)"}
    m, s = mean_std(values)
    n = _n_for(run, ref.metric) or ref.n
    p = min(max(ref.value, 1e-6), 1 - 1e-6)
    se = math.sqrt(p * (1 - p) / min(n, ref.n))
    sigma = math.sqrt(se**2 + s**2)
    if ref.low is not None:
        diff = 0.0 if ref.low <= m <= ref.high else (m - ref.low if m < ref.low else m - ref.high)
    else:
        diff = m - ref.value
    row.update(ours=m, std=s, seeds=len(values), difference=diff, sigma=sigma)
    if not comparable:
        row["verdict"] = f"not comparable (reference is for {reference_dataset}, this ran on {run.dataset})"
    elif not math.isfinite(m):
        row["verdict"] = OFF
    else:
        row["verdict"] = WITHIN if abs(diff) <= 2 * sigma else OFF
    return row


def verdicts(study, runs: dict) -> list[dict]:
    out = []
    for ref in study.references:
        out.append(verdict(ref, runs.get(ref.run), study.reference_dataset))
    return out


def tally(rows: list[dict]) -> str:
    """``3 of 5 reference points within noise, 1 off, 1 not comparable``."""
    if not rows:
        return "no reference numbers in studies.md"
    within = sum(r["verdict"] == WITHIN for r in rows)
    off = sum(r["verdict"] == OFF for r in rows)
    other = len(rows) - within - off
    text = f"{within} of {len(rows)} reference points within noise, {off} off"
    return text + (f", {other} not checked" if other else "")
