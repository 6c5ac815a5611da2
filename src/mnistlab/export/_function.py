"""The function every export format holds: uint8 images in, class probabilities out.

The run's own preprocessing is inside it (``engine.prepare``: scaling, the run's normalisation
with its recorded statistics, the model's input layout), so a user of the exported file feeds
raw MNIST-style pixels and needs nothing from mnistlab. The arithmetic is that of
:func:`mnistlab.evaluate.predict_proba`: softmax of the logits (a binary model's sigmoid as
``[1 - p, p]``), averaged over the run's seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._compute import over_seeds
from .._errors import ConfigError
from ..evaluate import LoadedRun

# What the exported function takes: a batch of MNIST-style images, 0 = background, of the run's
# size (28x28 for MNIST; a user's dataset may have any): ``run.image_shape``.
INPUT_NAME, OUTPUT_NAME = "images", "probabilities"


def check_exportable(run_dir, kind: str) -> None:
    """Refuse what has no class probabilities to export (an autoencoder reconstructs images)."""
    if kind == "autoencoder":
        raise ConfigError(f"{run_dir} is an autoencoder: export writes classifiers (class probabilities out)")


def _one_seed(engine) -> Callable:
    """``(params of one seed, prepared x) -> (b, K)`` probabilities, as predict_proba computes them."""
    import jax
    import jax.numpy as jnp

    def probs(p, x):
        out = engine.model.apply(p, x)
        if engine.model.kind == "binary":
            p1 = jax.nn.sigmoid(out)
            return jnp.stack([1 - p1, p1], axis=-1)
        return jax.nn.softmax(out, axis=-1)

    return probs


def probability_function(run: LoadedRun, *, unrolled: bool = False) -> Callable:
    """``images`` uint8 ``(b, 28, 28)`` -> probabilities ``(b, K)``, the run's parameters built in.

    By default the seeds go through ``jax.vmap`` exactly as in ``predict_proba``, so the exported
    program is the one mnistlab runs. ``unrolled=True`` applies the model once per seed in a
    Python loop instead (the same mathematics): jax2onnx replaces Flax's ``Dense`` by its own
    primitive while converting, and that primitive has no batching rule for ``vmap``.
    """
    check_exportable(run.run_dir, run.kind)
    import jax
    import jax.numpy as jnp

    engine, params = run.engine, run.params
    one = _one_seed(engine)
    n_seeds = len(run.config.seeds)
    if not unrolled:

        def probabilities(images):
            x = engine.prepare(images)
            return over_seeds(lambda p: one(p, x), n_seeds > 1)(params).mean(axis=0)

        return probabilities

    # NumPy slices: each seed's parameters become constants of their own, not one stacked
    # constant indexed inside the graph.
    per_seed = [jax.tree.map(lambda a, i=i: np.asarray(a)[i], params) for i in range(n_seeds)]

    def probabilities_unrolled(images):
        x = engine.prepare(images)
        return jnp.stack([one(p, x) for p in per_seed]).mean(axis=0)

    return probabilities_unrolled


def output_dtype(run: LoadedRun) -> str:
    """The probabilities' dtype: the parameters' (float64 runs compute in float64 throughout)."""
    return "float64" if run.config.dtype == "float64" else "float32"


def preprocessing(run: LoadedRun) -> dict:
    """What the built-in preprocessing does, in words and numbers (for the sidecar and the README)."""
    cfg = run.config
    layout = run.engine.model.input_layout
    dtype = output_dtype(run)
    norm = run.info["dataset"].get("normalization")
    steps = [f"x = images / 255 in {dtype}"]
    record: dict = {"built_in": True, "method": cfg.preprocess, "layout": layout}
    if cfg.preprocess == "global":
        mean, std = float(norm["mean"]), float(norm["std"])
        record |= {"mean": mean, "std": std}
        steps.append(f"x = (x - {mean!r}) / {std!r}: the training set's pixel mean and std")
    elif cfg.preprocess == "per-image":
        steps.append("x = (x - mean(x)) / std(x) over each image's pixels; a blank image stays 0")
    h, w = run.image_shape
    steps.append(
        {
            "flat": f"x reshaped to (batch, {h * w})",
            "NHWC": f"x reshaped to (batch, {h}, {w}, 1)",
            "NCHW": f"x reshaped to (batch, 1, {h}, {w})",
        }[layout]
    )
    record["steps"] = steps
    return record


def output_record(run: LoadedRun) -> dict:
    k = len(run.class_names)
    seeds = len(run.config.seeds)
    what = "softmax of the logits" if run.kind == "classifier" else "[1 - p, p], p = sigmoid of the logit"
    if seeds > 1:
        what += f", averaged over the run's {seeds} seeds"
    return {"name": OUTPUT_NAME, "shape": ["batch", k], "dtype": output_dtype(run), "what": what}


def input_record(run: LoadedRun) -> dict:
    return {
        "name": INPUT_NAME,
        "shape": ["batch", *run.image_shape],
        "dtype": "uint8",
        "what": "grey-level pixels 0-255, a light digit on a dark background as in MNIST",
    }
