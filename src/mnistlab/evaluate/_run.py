"""Scoring a trained run: reload it from its folder, evaluate on any split, predict new images.

A run with several seeds holds one parameter set per seed: evaluation reports each and their
mean and spread, and computes every other metric from the seeds' averaged probabilities (an
ensemble), saying so; prediction averages them too. Everything that runs the model over a dataset
does so in fixed-size padded chunks, so memory stays bounded and each program compiles once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Bool, Float, Int

from .._compute import chunk_size
from .._errors import ConfigError, DataError, check_int
from ..data import Dataset, NormStats, load, select_classes
from ..runs import CHECKPOINT, PARAMS, TrainConfig, _checkpoint
from ..train import build_model_for, read_run
from . import _examples, _metrics


@dataclass
class LoadedRun:
    run_dir: Path
    config: TrainConfig
    info: dict
    engine: Any  # mnistlab.train.Engine
    params: Any  # one parameter set per seed, stacked on a leading axis
    epoch: int
    # Jitted programs made for this run (evaluation reuses them across datasets) and trace counts.
    _programs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.info["dataset"]["class_names"])

    @property
    def kind(self) -> str:
        return self.engine.model.kind


def load_run(run_dir: str | os.PathLike) -> LoadedRun:
    """A run's model, final parameters (or its last checkpoint's, if it did not finish) and config.

    A float64 run's parameters are loaded as float64 (with JAX's x64 mode on just for the loading);
    the functions here that run its model switch that mode on again themselves.
    """
    from .._compute import precision

    run_dir, config, info = read_run(run_dir)
    with precision(config.dtype):
        return _load_run(run_dir, config, info)


def _load_run(run_dir: Path, config: TrainConfig, info: dict) -> LoadedRun:
    from ..train._engine import Engine

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


# --- evaluation ----------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """A run scored on one dataset: the per-example numbers and the JSON-able ``metrics``.

    With several seeds, ``probs`` (and everything in ``metrics`` but the ``*_per_seed`` numbers) is
    the ensemble: the seeds' probabilities averaged. ``per_example_loss`` is each example's loss
    averaged over the seeds. An autoencoder has ``probs`` None and only loss metrics.
    """

    run: LoadedRun
    dataset: Dataset
    probs: Float[np.ndarray, "n k"] | None
    per_example_loss: Float[np.ndarray, " n"]
    metrics: dict[str, Any]
    # A binary model's logit (mean over the seeds): the score its ROC curve and S8 rows rank by.
    scores: Float[np.ndarray, " n"] | None = None
    # The run's training set's per-example losses, when ``train_losses`` was given.
    train_loss: Float[np.ndarray, " n_train"] | None = None

    @property
    def predictions(self) -> Int[np.ndarray, " n"]:
        return self.probs.argmax(axis=1)


def _count_arg(name: str, value, minimum: int) -> int:
    k = check_int(name, value)
    if k < minimum:
        raise ConfigError(f"{name} must be >= {minimum}; got {k}")
    return k


def _check_dataset(run: LoadedRun, ds, param: str = "dataset") -> Dataset:
    if not isinstance(ds, Dataset):
        raise ConfigError(f"{param} must be a mnistlab.data.Dataset; got {type(ds).__name__}")
    if ds.image_shape != (28, 28):
        raise ConfigError(f"{param} has {ds.image_shape} images; the run's model takes 28 x 28")
    if ds.num_classes != len(run.class_names):
        raise ConfigError(
            f"{param} must have the run's {len(run.class_names)} classes; {ds.title} has {ds.num_classes}"
        )
    return ds


def _scorer(run: LoadedRun):
    """The jitted ``(params, images, labels) -> dict`` of per-example numbers, made once per run.

    Kept on the run so that scoring its test and its training set (same chunk shape) reuses one
    compiled program.
    """
    if "score" in run._programs:
        return run._programs["score"]
    import jax
    import jax.numpy as jnp

    engine = run.engine
    kind = engine.model.kind
    several = len(run.config.seeds) > 1

    def over_seeds(fn, params):
        # A size-1 vmap turns every matmul into a batched one, which XLA:CPU may run slower.
        if several:
            return jax.vmap(fn)(params)
        return jax.tree.map(lambda a: a[None], fn(jax.tree.map(lambda a: a[0], params)))

    def outputs(p, x):
        # In the run's compute precision, as engine.per_example computes its loss and accuracy, so
        # a bfloat16 run's ensemble accuracy of one seed is its accuracy (predict_proba uses float32).
        if engine.compute_dtype == jnp.bfloat16:
            p = jax.tree.map(lambda a: a.astype(jnp.bfloat16), p)
            x = x.astype(jnp.bfloat16)
        return engine.model.apply(p, x).astype(engine.param_dtype)

    def score(params, images, labels):
        run._programs["score_traces"] = run._programs.get("score_traces", 0) + 1
        x = engine.prepare(images)
        loss, correct = over_seeds(lambda p: engine.per_example(p, x, labels), params)
        out = {"loss": loss, "correct": correct}
        if kind == "autoencoder":
            return out
        z = over_seeds(lambda p: outputs(p, x), params)
        if kind == "binary":
            p1 = jax.nn.sigmoid(z)
            out["probs"] = jnp.stack([1 - p1, p1], axis=-1).mean(axis=0)
            out["logit"] = z.mean(axis=0)
        else:
            out["probs"] = jax.nn.softmax(z, axis=-1).mean(axis=0)
        return out

    run._programs["score"] = jax.jit(score)
    return run._programs["score"]


def _score(run: LoadedRun, images, labels) -> dict[str, np.ndarray]:
    """Per-example loss and correctness per seed ``(seeds, n)``, ensemble probabilities ``(n, K)``
    (and a binary model's mean logit ``(n,)``), in fixed-size padded chunks: bounded memory, and
    one compilation for every set of at least ``eval_batch_size`` examples."""
    import jax

    fn = _scorer(run)
    images, labels = np.asarray(images), np.asarray(labels, np.int32)
    n = len(images)
    size = chunk_size(n, run.config.eval_batch_size)
    parts: dict[str, list[np.ndarray]] = {}
    for i in range(0, n, size):
        x, y = images[i : i + size], labels[i : i + size]
        pad = size - len(x)
        if pad:
            x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
            y = np.concatenate([y, np.zeros(pad, y.dtype)])
        out = fn(run.params, jax.device_put(x), jax.device_put(y))
        for k, v in out.items():
            v = np.asarray(v)
            parts.setdefault(k, []).append(v[..., : size - pad, :] if k == "probs" else v[..., : size - pad])
    return {k: np.concatenate(v, axis=-2 if k == "probs" else -1) for k, v in parts.items()}


def _thin_curve(fpr: np.ndarray, tpr: np.ndarray, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``points`` points of a ROC curve, evenly spaced along it.

    Both coordinates only grow, so ``fpr + tpr`` measures the distance travelled along the curve
    (0 to 2): picking evenly in it keeps the curve's steps and corners at 1/``points`` resolution,
    where picking every n-th point would drop a long straight stretch's shape.
    """
    if len(fpr) <= points:
        return fpr, tpr
    along = fpr + tpr
    picks = np.searchsorted(along, np.linspace(0, along[-1], points - 1), side="left")
    keep = np.unique(np.r_[0, np.clip(picks, 0, len(fpr) - 1), len(fpr) - 1])
    return fpr[keep], tpr[keep]


def evaluate(
    run: LoadedRun,
    dataset: Dataset,
    *,
    top_k=(1, 3, 5),
    bins: int = 15,
    examples: int = 8,
    train_losses: Dataset | None = None,
    mislabelled: Bool[np.ndarray, " n_train"] | None = None,
    highest_loss: int = 20,
) -> Evaluation:
    """Score ``run`` on every example of ``dataset`` (already class-selected like the run's data).

    ``metrics`` holds loss and accuracy (per seed and, with several seeds, of the ensemble),
    per-class accuracy, precision and recall, the confusion matrix, top-k accuracy for each ``k``
    in ``top_k`` below the number of classes, calibration in ``bins`` bins, for binary models
    thresholded accuracy and ROC, and ``notable_examples``: the ``examples`` most confident right
    and wrong test examples per class (binary: study S8's four rows of ``examples``).
    ``train_losses``, the run's training set (``prepare_data(run.config).train``), adds
    ``highest_loss_train``: its ``highest_loss`` examples of highest loss and, with the
    ``mislabelled`` mask of ``--corrupt``, how many of them are mislabelled.
    Every index refers to the dataset it was computed on.
    """
    from .._compute import precision
    from ..runs import finite

    dataset = _check_dataset(run, dataset)
    if len(dataset) == 0:
        raise ConfigError(f"dataset must hold at least one example; {dataset.title} holds none")
    bins = _count_arg("bins", bins, 1)
    examples = _count_arg("examples", examples, 1)
    highest_loss = _count_arg("highest_loss", highest_loss, 0)
    ks = [top_k] if isinstance(top_k, int) else list(top_k)
    ks = sorted({_count_arg("top_k", k, 1) for k in ks})
    if train_losses is not None:
        _check_dataset(run, train_losses, "train_losses")
    if mislabelled is not None:
        if train_losses is None:
            raise ConfigError("mislabelled needs train_losses: it is a mask over the training set")
        mislabelled = np.asarray(mislabelled)
        if mislabelled.shape != (len(train_losses),) or mislabelled.dtype != np.bool_:
            raise ConfigError(
                f"mislabelled must be a boolean mask of shape ({len(train_losses)},) over train_losses; "
                f"got {mislabelled.dtype} of shape {mislabelled.shape}"
            )
    with precision(run.config.dtype):
        sc = _score(run, dataset.images, dataset.labels)
        tr = None
        if train_losses is not None and highest_loss and run.kind != "autoencoder":
            tr = _score(run, train_losses.images, train_losses.labels)
    names = list(dataset.class_names)
    seeds = list(run.config.seeds)
    n = len(dataset)
    loss_per_seed = sc["loss"].astype(np.float64).mean(axis=1)
    m: dict[str, Any] = {
        "run": str(run.run_dir),
        "dataset": dataset.name,
        "title": dataset.title,
        "split": dataset.split,
        "examples": n,
        "epoch": run.epoch,
        "seeds": seeds,
        "class_names": names,
        # Whether the metrics below the per-seed ones are of the seeds' averaged probabilities.
        "ensemble": len(seeds) > 1,
        "loss": float(loss_per_seed.mean()),
        "loss_per_seed": loss_per_seed.tolist(),
    }
    per_example_loss = sc["loss"].astype(np.float64).mean(axis=0)
    if run.kind == "autoencoder":
        return Evaluation(run, dataset, None, per_example_loss, finite(m))
    probs, labels = sc["probs"].astype(np.float64), dataset.labels.astype(np.int64)
    acc = sc["correct"].astype(np.float64).mean(axis=1)
    pred = probs.argmax(axis=1)
    m["accuracy"] = float(acc.mean())
    m["accuracy_per_seed"] = acc.tolist()
    m["accuracy_std"] = float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
    if len(acc) > 1:
        m["ensemble_accuracy"] = float((pred == labels).mean())
    cm = _metrics.confusion_matrix(labels, pred, len(names))
    pc = _metrics.per_class_metrics(cm)
    m["per_class"] = {
        name: {
            "examples": int(pc["support"][k]),
            "accuracy": float(pc["recall"][k]),  # a class's accuracy is its recall
            "precision": float(pc["precision"][k]),
            "recall": float(pc["recall"][k]),
            "predicted": int(pc["predicted"][k]),
        }
        for k, name in enumerate(names)
    }
    m["confusion_matrix"] = cm.tolist()
    m["top_k_accuracy"] = {str(k): _metrics.top_k_accuracy(probs, labels, k) for k in ks if k < len(names)}
    m["calibration"] = _metrics.calibration(probs, labels, bins)
    found = _examples.confident_examples(probs, labels, examples)
    conf = probs.max(axis=1)
    notable: dict[str, Any] = {
        "confident_correct": {names[c]: idx for c, idx in found["correct"].items()},
        "confident_wrong": {
            names[c]: [
                {
                    "index": i,
                    "predicted": names[pred[i]],
                    "predicted_index": int(pred[i]),
                    "confidence": float(conf[i]),
                }
                for i in idx
            ]
            for c, idx in found["wrong"].items()
        },
    }
    scores = None
    if run.kind == "binary":
        scores = sc["logit"].astype(np.float64)
        b: dict[str, Any] = {
            "threshold": 0.5,
            "accuracy": _metrics.thresholded_accuracy(probs[:, 1], labels, 0.5),
            "score": "logit",  # the mean over the seeds with several
            "positive_class": names[1],
            "negative_class": names[0],
            "roc_auc": None,
            "roc": None,
        }
        if 0 < labels.sum() < n:  # a ROC curve needs both classes
            b["roc_auc"] = _metrics.roc_auc(scores, labels)
            fpr, tpr = _thin_curve(*_metrics.roc_curve(scores, labels)[:2])
            b["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
        m["binary"] = b
        for row, idx in _examples.binary_extremes(scores, labels, examples).items():
            notable[row] = [{"index": i, "score": float(scores[i])} for i in idx]
    m["notable_examples"] = notable
    train_loss = None
    if tr is not None:
        train_loss = tr["loss"].astype(np.float64).mean(axis=0)
        # A non-finite loss (a nearly diverged model) counts as the highest, not as an error.
        ranked = np.where(np.isfinite(train_loss), train_loss, np.finfo(np.float64).max)
        hl = _examples.highest_loss(ranked, highest_loss, mislabelled)
        idx = hl["indices"]
        train_pred = tr["probs"].argmax(axis=1)
        m["highest_loss_train"] = {
            "k": len(idx),
            "examples": len(train_losses),
            "indices": idx,
            "losses": [float(train_loss[i]) for i in idx],
            "labels": [int(train_losses.labels[i]) for i in idx],  # class indices, as the run saw them
            "predicted": [int(train_pred[i]) for i in idx],
            "mislabelled": None if mislabelled is None else [bool(mislabelled[i]) for i in idx],
            "mislabelled_fraction": hl["mislabelled_fraction"],
            "base_rate": hl["base_rate"],
        }
    return Evaluation(run, dataset, probs, per_example_loss, finite(m), scores, train_loss)


def evaluate_run(
    run_dir: str | os.PathLike,
    *,
    dataset: str | None = None,
    split: str = "test",
    data_dir=None,
    examples: int = 8,
    bins: int = 15,
    highest_loss: int = 20,
    train: bool = True,
) -> dict[str, Any]:
    """Every metric of :func:`evaluate` for a run folder on one split of any compatible dataset.

    With ``train``, also the ``highest_loss`` training examples of highest loss, over the run's
    own training set rebuilt as the run built it (class selection, ``--corrupt``, validation
    split), with the fraction of them mislabelled for a ``--corrupt`` run. The dict is JSON-ready:
    undefined numbers are None.
    """
    from .._compute import precision
    from ..train._run import prepare_data

    examples = _count_arg("examples", examples, 1)
    bins = _count_arg("bins", bins, 1)
    highest_loss = _count_arg("highest_loss", highest_loss, 0)
    run = load_run(run_dir)  # reads config.toml and run.json once, for everything below
    with precision(run.config.dtype):
        ds = _dataset_for(run, dataset, split, data_dir)
        train_ds = mislabelled = None
        if train and highest_loss and run.kind != "autoencoder":
            try:
                data = prepare_data(run.config, data_dir=data_dir, progress=False)
            except DataError as exc:
                raise DataError(
                    f"{exc}; the training set is needed for the highest-loss training examples "
                    "(give --no-train to skip them)"
                ) from None
            train_ds, mislabelled = data.train, data.mislabelled
        ev = evaluate(
            run,
            ds,
            bins=bins,
            examples=examples,
            train_losses=train_ds,
            mislabelled=mislabelled,
            highest_loss=highest_loss,
        )
    return ev.metrics


# --- untrained networks and gradients ------------------------------------------------------------


def _activation_elements(engine, param_shapes) -> int:
    """Elements the forward pass of ONE example produces, summed over its operations: an upper
    bound on the memory one (example, model) pair needs, to size the chunks of a vmapped pass."""
    import jax

    shape = (1, *engine.input_shape[1:])
    x = jax.ShapeDtypeStruct(shape, engine.param_dtype)
    jaxpr = jax.make_jaxpr(engine.model.apply)(param_shapes, x)
    total = sum(
        int(np.prod(v.aval.shape)) for eqn in jaxpr.eqns for v in eqn.outvars if hasattr(v.aval, "shape")
    )
    return max(total, 1)


def _init_program(run: LoadedRun):
    """The jitted ``(keys, images, labels, idx, mask) -> correct counts (n,)``, made once per run."""
    if "init" in run._programs:
        return run._programs["init"]
    import jax
    import jax.numpy as jnp
    from jax import lax

    engine, model = run.engine, run.engine.model

    def program(keys, images, labels, idx, mask):
        run._programs["init_traces"] = run._programs.get("init_traces", 0) + 1

        def init(k):
            return jax.tree.map(lambda a: a.astype(engine.param_dtype), model.init(k, engine.input_shape))

        params = jax.vmap(init)(keys)

        def body(total, batch):
            i, m = batch
            x, y = engine.prepare(images[i]), labels[i]
            correct = jax.vmap(lambda p: engine.per_example(p, x, y)[1])(params)  # (n, chunk)
            return total + (correct.astype(jnp.int32) * m).sum(axis=1, dtype=jnp.int32), None

        total, _ = lax.scan(body, jnp.zeros(keys.shape[0], jnp.int32), (idx, mask))
        return total

    run._programs["init"] = jax.jit(program)
    return run._programs["init"]


def init_accuracies(
    run: LoadedRun, dataset: Dataset, *, n: int = 100, key, chunk: int | None = None
) -> Float[np.ndarray, " n"]:
    """Accuracy on ``dataset`` of ``n`` freshly initialised, untrained copies of the run's model.

    ONE jitted program: ``jax.vmap(model.init)`` over ``jax.random.split(key, n)``, then a scan over
    fixed-size chunks of the data, each scored by all ``n`` models at once (vmap). ``chunk``
    (examples per step) defaults to what keeps the activations of the ``n`` models within about
    256 MB. Study S8 histograms this: for a binary model it is spread around 50%.
    """
    import jax

    from .._compute import eval_indices as _eval_indices
    from .._compute import precision

    if run.kind == "autoencoder":
        raise ConfigError(f"{run.run_dir} is an autoencoder; init_accuracies needs a classifier run")
    dataset = _check_dataset(run, dataset)
    n = _count_arg("n", n, 1)
    if len(dataset) == 0:
        raise ConfigError(f"dataset must hold at least one example; {dataset.title} holds none")
    if isinstance(key, int) and not isinstance(key, bool):
        key = jax.random.PRNGKey(key)
    engine, model = run.engine, run.engine.model
    with precision(run.config.dtype):
        if chunk is None:  # XLA may keep every activation of a chunk for all n models at once
            shapes = jax.eval_shape(lambda k: model.init(k, engine.input_shape), jax.random.PRNGKey(0))
            per_pair = _activation_elements(engine, shapes) * np.dtype(engine.param_dtype).itemsize
            chunk = int(np.clip((256 << 20) // (n * per_pair), 1, run.config.eval_batch_size))
        chunk = _count_arg("chunk", chunk, 1)
        idx, mask = _eval_indices(len(dataset), chunk)
        counts = _init_program(run)(
            jax.random.split(key, n),
            jax.device_put(np.asarray(dataset.images)),
            jax.device_put(np.asarray(dataset.labels, np.int32)),
            idx,
            mask,
        )
    return np.asarray(counts, np.float64) / len(dataset)


def _path_name(path) -> str:
    parts = []
    for p in path:
        for attr in ("key", "name", "idx"):
            if hasattr(p, attr):
                parts.append(str(getattr(p, attr)))
                break
        else:
            parts.append(str(p))
    if len(parts) > 1 and parts[0] == "params":  # Flax's collection name says nothing here
        parts = parts[1:]
    return "/".join(parts)


def weight_gradients(
    run: LoadedRun, dataset: Dataset, *, batch: int | None = None, seed_index: int = 0
) -> dict[str, np.ndarray]:
    """The gradient of the run's training objective with respect to each weight matrix.

    The objective is what training differentiates: the mean per-example loss over the first
    ``batch`` examples of ``dataset`` (all of them by default) plus the run's ``--l2`` / ``--l1``
    penalties, at the parameters of seed number ``seed_index`` of the run. Keys are layer paths
    such as ``"hidden_0/kernel"``; values have the kernel's shape (a convolution's is
    ``(height, width, in, out)``). Biases are left out.
    """
    import jax
    import jax.numpy as jnp

    from .._compute import precision
    from ..train import _losses

    dataset = _check_dataset(run, dataset)
    seeds = len(run.config.seeds)
    seed_index = check_int("seed_index", seed_index)
    if not 0 <= seed_index < seeds:
        raise ConfigError(
            f"seed_index must lie in [0, {seeds - 1}] (the run has {seeds} seeds); got {seed_index}"
        )
    m = len(dataset) if batch is None else min(_count_arg("batch", batch, 1), len(dataset))
    if m == 0:
        raise ConfigError(f"dataset must hold at least one example; {dataset.title} holds none")
    engine, cfg = run.engine, run.config
    images = np.asarray(dataset.images[:m])
    labels = np.asarray(dataset.labels[:m], np.int32)
    size = chunk_size(m, cfg.eval_batch_size)
    with precision(cfg.dtype):
        params = jax.tree.map(lambda a: a[seed_index], run.params)
        if m <= size:
            # One chunk: the engine's own objective, so this is exactly what a training step sees.
            grads = jax.jit(jax.grad(lambda p, x, y: engine._objective(p, engine.prepare(x), y, y >= 0)[0]))(
                params, jnp.asarray(images), jnp.asarray(labels)
            )
        else:
            # Larger sets in bounded memory: the mean's gradient is the sum of the chunks' summed
            # losses' gradients over m, plus the penalties' gradient once.
            def chunk_sum(p, x, y, w):
                loss, _ = engine.per_example(p, engine.prepare(x), y)
                return (loss * w.astype(loss.dtype)).sum()

            grad_sum = jax.jit(jax.grad(chunk_sum))
            grads = jax.tree.map(jnp.zeros_like, params)
            for i in range(0, m, size):
                x, y = images[i : i + size], labels[i : i + size]
                pad = size - len(x)
                w = np.arange(size) < size - pad
                if pad:
                    x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
                    y = np.concatenate([y, np.zeros(pad, y.dtype)])
                grads = jax.tree.map(jnp.add, grads, grad_sum(params, x, y, w))
            grads = jax.tree.map(lambda g: g / m, grads)
            if cfg.l2 or cfg.l1:
                penalty = jax.grad(lambda p: cfg.l2 * _losses.l2_penalty(p) + cfg.l1 * _losses.l1_penalty(p))
                grads = jax.tree.map(jnp.add, grads, penalty(params))
        leaves = jax.tree_util.tree_flatten_with_path(grads)[0]
    return {_path_name(path): np.asarray(g) for path, g in leaves if _path_name(path).endswith("kernel")}


# --- prediction -----------------------------------------------------------------------------------


def predict_proba(run: LoadedRun, images) -> Float[np.ndarray, "n k"]:
    """Class probabilities for ``images`` (uint8 0-255 or float 0-255), averaged over seeds."""
    from .._compute import precision

    with precision(run.config.dtype):
        return _predict_proba(run, images)


def _predict_proba(run: LoadedRun, images) -> Float[np.ndarray, "n k"]:
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
    from .._compute import precision

    run = load_run(run_dir)
    with precision(run.config.dtype):
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
