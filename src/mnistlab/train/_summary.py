"""What a run says about itself: its summary (final and best numbers), its dataset's facts for
run.json and the header line printed when training starts."""

from __future__ import annotations

from typing import Any

from ..runs import TrainConfig, mean_std
from ._data import RunData
from ._health import assess, chance_level


def summarize_history(history, kind: str, *, chance: dict | None = None, seeds=None) -> dict:
    """Final and best test numbers (mean over seeds; per-seed values and std alongside), and, given
    the run's ``seeds``, whether it is stuck at ``chance`` or its loss blew up (see ``_health``)."""
    good = [r for r in history.epochs if not r.get("diverged")]
    if not good:
        return {}
    last = good[-1]
    out: dict[str, Any] = {"epochs": last["epoch"]}
    metric = "test_accuracy" if kind != "autoencoder" else "test_loss"
    for k, v in last.items():
        if k.endswith(("_loss", "_accuracy")):
            m, s = mean_std(v)
            out[f"final_{k}"] = m
            if isinstance(v, list) and len(v) > 1:
                out[f"final_{k}_std"] = s
                out[f"final_{k}_per_seed"] = v
    if metric in last:
        best = (max if kind != "autoencoder" else min)(good, key=lambda r: mean_std(r[metric])[0])
        out[f"best_{metric}"] = mean_std(best[metric])[0]
        out["best_epoch"] = best["epoch"]
    out["train_seconds"] = sum(r["epoch_seconds"] for r in good)
    out["mean_epoch_seconds"] = out["train_seconds"] / len(good)
    if seeds is not None:
        out.update(assess(history, chance=chance if kind != "autoencoder" else None, seeds=seeds) or {})
    return out


def chance_info(data: RunData, kind: str) -> dict | None:
    """Chance accuracy on the split the run is judged on (test, else validation); None for an
    autoencoder or a run scored on nothing."""
    split = next((k for k in ("test", "validation") if k in data.evals), None)
    if kind == "autoencoder" or split is None:
        return None
    return {**chance_level(data.evals[split].labels, data.num_classes), "split": split}


def dataset_info(data: RunData) -> dict:
    return {
        "name": data.config.dataset,
        "title": data.train.title,
        "class_names": list(data.class_names),
        "num_classes": data.num_classes,
        "sizes": {"train": len(data.train), **{k: len(v) for k, v in data.evals.items()}},
        "provenance": {
            "train": data.train.provenance.as_dict(),
            **{k: v.provenance.as_dict() for k, v in data.evals.items()},
        },
        "normalization": None if data.norm is None else {"mean": data.norm.mean, "std": data.norm.std},
        "notice": data.notice,
    }


def title_line(config: TrainConfig, data: RunData, engine) -> str:
    seeds = config.seeds
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds {list(seeds)} in one program"
    sizes = ", ".join(f"{len(v):,} {k}" for k, v in [("train", data.train), *data.evals.items()])
    import jax

    length = f"{config.epochs} epochs of {engine.steps_per_epoch} steps"
    if config.steps:
        every = "at the end" if config.eval_every == config.steps else f"every {config.eval_every:,}"
        length = f"{config.steps:,} steps ({engine.steps_per_pass} a pass), scored {every}"
    return (
        f"Training {config.model} on {data.train.title} ({sizes}): {length} "
        f"(batch {config.batch_size}), {config.optimizer} lr {config.lr:g}"
        f"{'' if config.schedule == 'constant' else ' ' + config.schedule}, {seed_text}, {config.dtype} on "
        f"{jax.default_backend()}"
    )
