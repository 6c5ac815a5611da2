"""Scoring a trained run: reload it from its folder, evaluate on any split, predict new images.

A run with several seeds holds one parameter set per seed: evaluation reports each and their
mean and spread; prediction averages the seeds' probabilities (an ensemble) and says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Float

from .._errors import ConfigError, DataError
from ..data import Dataset, NormStats, load, select_classes
from ..train import _checkpoint
from ..train._config import TrainConfig
from ..train._run import CHECKPOINT, PARAMS, build_model_for, read_run


@dataclass
class LoadedRun:
    run_dir: Path
    config: TrainConfig
    info: dict
    engine: Any  # mnistlab.train.Engine
    params: Any  # one parameter set per seed, stacked on a leading axis
    epoch: int

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.info["dataset"]["class_names"])

    @property
    def kind(self) -> str:
        return self.engine.model.kind


def load_run(run_dir: str | os.PathLike) -> LoadedRun:
    """A run's model, final parameters (or its last checkpoint's, if it did not finish) and config."""
    from ..train._engine import Engine

    run_dir, config, info = read_run(run_dir)
    ds = info["dataset"]
    norm = ds.get("normalization")
    norm = NormStats(norm["mean"], norm["std"]) if norm else None
    image_shape = (28, 28)
    model = build_model_for(config, ds["num_classes"], image_shape)
    engine = Engine(
        model,
        config,
        n_train=ds["sizes"]["train"],
        image_shape=image_shape,
        num_classes=ds["num_classes"],
        norm=norm,
    )
    path = run_dir / PARAMS if (run_dir / PARAMS).is_file() else run_dir / CHECKPOINT
    if not path.is_file():
        raise DataError(f"{run_dir} holds no parameters yet ({PARAMS} and {CHECKPOINT} are missing)")
    template = engine.init()
    if path.name == PARAMS:
        params, meta = _checkpoint.load(path, template.params)
    else:
        state, meta = _checkpoint.load(path, template)
        params = state.params
    return LoadedRun(run_dir, config, info, engine, params, int(meta["epoch"]))


def _dataset_for(run: LoadedRun, dataset: str | None, split: str, data_dir) -> Dataset:
    name = dataset or run.config.dataset
    ds = load(name, split, data_dir=data_dir)
    if ds.image_shape != (28, 28):
        raise DataError(f"{ds.title} has {ds.image_shape} images; the run's model takes 28 x 28")
    if run.config.classes:
        ds = select_classes(ds, run.config.classes)
    elif ds.num_classes != len(run.class_names):
        raise ConfigError(
            f"dataset {name} has {ds.num_classes} classes; the run was trained on {len(run.class_names)}"
        )
    return ds


def evaluate_run(
    run_dir: str | os.PathLike, *, dataset: str | None = None, split: str = "test", data_dir=None
) -> dict[str, Any]:
    """Loss, accuracy and per-class accuracy of a run on one split of any compatible dataset."""
    from ..train._engine import precision

    run_dir, config, _ = read_run(run_dir)
    with precision(config.dtype):
        return _evaluate(load_run(run_dir), dataset, split, data_dir)


def _evaluate(run: LoadedRun, dataset, split, data_dir) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    ds = _dataset_for(run, dataset, split, data_dir)
    images, labels = jax.device_put(ds.images), jax.device_put(ds.labels)
    loss, acc = run.engine.evaluate(run.params, images, labels)
    out: dict[str, Any] = {
        "run": str(run.run_dir),
        "dataset": ds.name,
        "title": ds.title,
        "split": split,
        "examples": len(ds),
        "epoch": run.epoch,
        "seeds": list(run.config.seeds),
        "loss": float(loss.mean()),
        "loss_per_seed": loss.tolist(),
    }
    if run.kind == "autoencoder":
        return out
    probs = predict_proba(run, jnp.asarray(ds.images))
    pred = probs.argmax(axis=1)
    out["accuracy"] = float(acc.mean())
    out["accuracy_per_seed"] = acc.tolist()
    out["accuracy_std"] = float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
    if len(acc) > 1:
        out["ensemble_accuracy"] = float((pred == ds.labels).mean())
    per_class = {}
    for k, name in enumerate(ds.class_names):
        members = ds.labels == k
        per_class[name] = {
            "examples": int(members.sum()),
            "accuracy": float((pred[members] == k).mean()) if members.any() else None,
        }
    out["per_class"] = per_class
    return out


def predict_proba(run: LoadedRun, images) -> Float[np.ndarray, "n k"]:
    """Class probabilities for ``images`` (uint8 0-255 or float 0-255), averaged over seeds."""
    import jax
    import jax.numpy as jnp

    engine = run.engine
    x_all = jnp.asarray(images)

    @jax.jit
    def probs(params, x):
        def one(p):
            out = engine.model.apply(p, engine.prepare(x))
            if engine.model.kind == "binary":
                p1 = jax.nn.sigmoid(out)
                return jnp.stack([1 - p1, p1], axis=-1)
            return jax.nn.softmax(out, axis=-1)

        return jax.vmap(one)(params).mean(axis=0)

    # Fixed-size chunks (the last one padded) so the program compiles once, in bounded memory.
    size, chunks = min(1000, max(len(x_all), 1)), []
    for i in range(0, len(x_all), size):
        part = x_all[i : i + size]
        pad = size - len(part)
        if pad:
            part = jnp.concatenate([part, jnp.zeros((pad, *part.shape[1:]), part.dtype)])
        chunks.append(np.asarray(probs(run.params, part))[: size - pad])
    return np.concatenate(chunks) if chunks else np.zeros((0, len(run.class_names)), np.float32)


def predict_files(
    run_dir: str | os.PathLike, paths, *, invert="auto", center: bool = True
) -> list[dict[str, Any]]:
    """Probabilities for image files (PNG, JPEG, ... or .npy of any size), one dict per file."""
    from ..train._engine import precision

    run_dir, config, _ = read_run(run_dir)
    with precision(config.dtype):
        run = load_run(run_dir)
        return _predict(run, paths, invert, center)


def _predict(run: LoadedRun, paths, invert, center) -> list[dict[str, Any]]:
    from .._images import load_images

    if run.kind == "autoencoder":
        raise ConfigError(f"{run.run_dir} is an autoencoder; predict needs a classifier run")
    images, infos = load_images(paths, invert=invert, center=center)
    # The engine's preprocessing starts from 0-255 pixels, as in the training data.
    probs = predict_proba(run, (images * 255).astype(np.float32))
    out = []
    for p, info in zip(probs, infos, strict=True):
        order = np.argsort(-p)
        out.append(
            {
                "path": str(info["path"]),
                "prediction": run.class_names[int(order[0])],
                "class_index": int(order[0]),
                "confidence": float(p[order[0]]),
                "probabilities": {run.class_names[k]: float(p[k]) for k in range(len(p))},
                "inverted": info["inverted"],
                "seeds_averaged": len(run.config.seeds),
            }
        )
    return out
