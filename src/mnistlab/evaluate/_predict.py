"""Predicting with a trained run: class probabilities for arrays of images and for image files.

A run with several seeds predicts with their ensemble: the seeds' probabilities averaged.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .._compute import chunk_size, map_chunks, over_seeds, precision
from .._errors import ConfigError
from .._status import say
from ._load import LoadedRun, load_run

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Float

# Rows per compiled prediction call: bounded memory for any number of images.
_LARGEST_CHUNK = 1000


def _predictor(run: LoadedRun):
    """The jitted ``(params, images) -> probabilities (n, K)`` (seeds averaged), made once per run."""
    if "predict" in run._programs:
        return run._programs["predict"]
    import jax
    import jax.numpy as jnp

    engine = run.engine

    def probs(params, images):
        x = engine.prepare(images)

        def one(p):
            out = engine.model.apply(p, x)
            if engine.model.kind == "binary":
                p1 = jax.nn.sigmoid(out)
                return jnp.stack([1 - p1, p1], axis=-1)
            return jax.nn.softmax(out, axis=-1)

        return over_seeds(one, len(run.config.seeds) > 1)(params).mean(axis=0)

    run._programs["predict"] = jax.jit(probs)
    return run._programs["predict"]


def predict_proba(run: LoadedRun, images) -> Float[np.ndarray, "n k"]:
    """Class probabilities for ``images`` (uint8 0-255 or float 0-255), averaged over seeds."""
    images = np.asarray(images)
    if len(images) == 0:
        return np.zeros((0, len(run.class_names)), np.float32)
    with precision(run.config.dtype):
        fn = _predictor(run)
        size = chunk_size(len(images), _LARGEST_CHUNK)
        return map_chunks(lambda x: fn(run.params, x), [images], size)


def predict_files(
    run_dir: str | os.PathLike, paths, *, invert="auto", center: bool = True, progress=None
) -> list[dict[str, Any]]:
    """Probabilities for image files (PNG, JPEG, ... or .npy of any size), one dict per file.

    Each image is resized to the run's image size (its dataset's) before the model sees it.
    ``progress(text)``, when given, hears each phase as it starts (the command's stderr).
    """
    from .._images import load_images

    # One phase up to the prediction: a user error (no such run, a bad file) prints one line only.
    say(progress, f"reading the run and {len(paths):,} image file{'s' if len(paths) != 1 else ''}")
    run = load_run(run_dir)
    if run.kind == "autoencoder":
        raise ConfigError(f"{run.run_dir} is an autoencoder; predict needs a classifier run")
    # Resized (and centred) to the size the run's model takes: its dataset's, 28x28 for MNIST.
    images, infos = load_images(paths, invert=invert, center=center, size=run.image_shape)
    # The engine's preprocessing starts from 0-255 pixels, as in the training data.
    say(progress, f"compiling and predicting {len(images):,} images")
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
                "resized_to": list(run.image_shape),
                "seeds_averaged": len(run.config.seeds),
            }
        )
    return out
