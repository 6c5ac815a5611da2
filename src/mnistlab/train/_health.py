"""Is a finished run healthy? A run can end "completed" with every loss finite and still have
learned nothing: study S5's lr 2 keeps a loss near 111 at 10% accuracy. This says so.

Two verdicts, each for a whole run of at least :data:`MIN_EPOCHS` epochs, each per seed:

- **stuck at chance**: every epoch's accuracy (test, else validation) is at or below chance,
  and it is not climbing (up by more than the margin since the first epoch, with the training
  loss falling every epoch: a slow start at a tiny learning rate, which is not flagged).
  Chance is the share of the scored set's most frequent class, not ``1/classes``: a net stuck
  on one answer scores exactly that share (11.35% on MNIST's test set, whose largest class is
  the 1s), plus a margin of three binomial standard errors for the set's size, so sampling noise
  around chance is not read as learning.
- **loss blew up**: the last epoch's training loss is over :data:`BLOWUP` times the run's first
  step's loss (the untrained net's), and its accuracy (where it has one) is not above chance.

Why a flag beside the status rather than status "diverged": "diverged" means a non-finite loss
stopped the run (exit 1, no resume), while these runs ran to their end and their folders are
whole; the verdict is about what they learned. A run that is merely slow never trips it: any
epoch above the chance threshold clears "stuck", and a loss under 10x its start clears "blew up".
"""

from __future__ import annotations

import itertools
import math

import numpy as np

MIN_EPOCHS = 3
BLOWUP = 10.0
STUCK, BLEW_UP = "stuck at chance", "loss blew up"


def chance_level(labels, num_classes: int) -> dict:
    """Chance accuracy on a scored set: the largest class's share, and the threshold (share plus
    three binomial standard errors for ``len(labels)`` examples) a run must beat once."""
    labels = np.asarray(labels).astype(np.int64).ravel()
    n = len(labels)
    share = float(np.bincount(labels, minlength=num_classes).max() / n) if n else 1.0 / num_classes
    share = max(share, 1.0 / num_classes)
    margin = 3.0 * math.sqrt(share * (1.0 - share) / n) if n else 0.0
    return {"accuracy": share, "threshold": min(1.0, share + margin), "examples": n}


def _per_seed(value, seeds: int) -> list[float]:
    values = value if isinstance(value, list) else [value]
    values = [math.nan if v is None else float(v) for v in values]
    return values if len(values) == seeds else values[:1] * seeds


def _which(flagged: list[int], seed_ids: list) -> str:
    if len(seed_ids) == 1:
        return ""
    return f" (seed{'s' if len(flagged) > 1 else ''} {', '.join(str(seed_ids[s]) for s in flagged)})"


def assess(history, *, chance: dict | None, seeds) -> dict | None:
    """``{"health": STUCK or BLEW_UP, "health_message": ..., "flagged_seeds": [...]}`` when the
    run (some seed of it) is stuck at chance or blew up; None when healthy or too short to say.

    ``chance``: :func:`chance_level` of the scored set (None: no accuracy to judge); ``seeds``:
    the run's seeds, in the order of its per-seed lists."""
    good = [r for r in history.epochs if not r.get("diverged")]
    if len(good) < MIN_EPOCHS:
        return None
    seed_ids = list(seeds)
    seeds = len(seed_ids)
    key = next((k for k in ("test_accuracy", "validation_accuracy") if k in good[-1]), None)
    threshold = chance["threshold"] if chance and key else None
    acc = [_per_seed(r[key], seeds) for r in good] if threshold is not None else None
    losses = [_per_seed(r["train_loss"], seeds) for r in good] if "train_loss" in good[-1] else None

    def improving(s: int) -> bool:
        # Slow, not stuck: accuracy up by more than the noise margin, loss down every epoch.
        if losses is None or not acc[-1][s] > acc[0][s] + (threshold - chance["accuracy"]):
            return False
        return all(b < a for a, b in itertools.pairwise(x[s] for x in losses))

    stuck = [s for s in range(seeds) if acc and all(not (a[s] > threshold) for a in acc) and not improving(s)]
    blew = []
    if history.step_loss and np.size(history.step_loss[0]) and "train_loss" in good[-1]:
        first = np.asarray(history.step_loss[0], np.float64).reshape(seeds, -1)[:, 0]
        last = _per_seed(good[-1]["train_loss"], seeds)
        for s in range(seeds):
            above = acc is not None and acc[-1][s] > threshold
            if math.isfinite(first[s]) and last[s] > BLOWUP * first[s] and not above:
                blew.append(s)
    if not stuck and not blew:
        return None
    split = key.removesuffix("_accuracy") if key else ""
    if stuck:
        best = max(max(a[s] for a in acc) for s in stuck)
        message = (
            f"stuck at chance{_which(stuck, seed_ids)}: {split} accuracy never rose above "
            f"{100 * threshold:.1f}% (chance {100 * chance['accuracy']:.1f}%) in {len(good)} epochs, "
            f"best {100 * best:.1f}%; try a smaller learning rate"
        )
        return {"health": STUCK, "health_message": message, "flagged_seeds": [seed_ids[s] for s in stuck]}
    s = blew[0]
    message = (
        f"loss blew up{_which(blew, seed_ids)}: training loss {last[s]:.4g} after {len(good)} epochs, over "
        f"{BLOWUP:g}x its first step's {first[s]:.4g}; try a smaller learning rate"
    )
    return {"health": BLEW_UP, "health_message": message, "flagged_seeds": [seed_ids[s] for s in blew]}
