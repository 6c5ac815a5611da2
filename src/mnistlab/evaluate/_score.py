"""Scoring a run on a dataset: every metric of :func:`evaluate`, and :func:`evaluate_run` for a folder.

A run with several seeds holds one parameter set per seed: evaluation reports each seed's loss and
accuracy and their mean and spread, and computes every other metric from the seeds' averaged
probabilities (an ensemble), saying so. The model runs over the dataset in fixed-size padded
chunks (:func:`mnistlab._compute.map_chunks`), so memory stays bounded and the program compiles once.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .._compute import chunk_size, map_chunks, over_seeds, precision
from .._errors import ConfigError, DataError
from .._status import say
from ..data import Dataset
from ..train import prepare_data
from . import _examples, _metrics
from ._load import LoadedRun, check_dataset, dataset_for, load_run, nonempty
from ._metrics import check_count
from ._results import Averages, ClassMetrics, Evaluation, Metrics

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Bool


def _scorer(run: LoadedRun):
    """The jitted ``(params, images, labels) -> dict`` of per-example numbers, made once per run.

    Kept on the run so that scoring its test and its training set (same chunk shape) reuses one
    compiled program. Every output has the example axis first, as :func:`map_chunks` wants.
    """
    if "score" in run._programs:
        return run._programs["score"]
    import jax
    import jax.numpy as jnp

    engine = run.engine
    kind = engine.model.kind
    several = len(run.config.seeds) > 1

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
        loss, correct = over_seeds(lambda p: engine.per_example(p, x, labels), several)(params)
        out = {"loss": loss.T, "correct": correct.T}  # (n, seeds)
        if kind == "autoencoder":
            return out
        z = over_seeds(lambda p: outputs(p, x), several)(params)
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
    images, labels = np.asarray(images), np.asarray(labels, np.int32)
    size = chunk_size(len(images), run.config.eval_batch_size)
    out = map_chunks(lambda x, y: _scorer(run)(run.params, x, y), [images, labels], size)
    out["loss"], out["correct"] = out["loss"].T, out["correct"].T
    return out


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
    per-class accuracy, precision, recall and F1 with their macro and weighted averages, the
    confusion matrix, top-k accuracy for each ``k`` in ``top_k`` below the number of classes,
    calibration in ``bins`` bins, for binary models thresholded accuracy and ROC, and
    ``notable_examples``: the ``examples`` most confident right and wrong test examples per class
    (binary: study S8's four rows of ``examples``).
    ``train_losses``, the run's training set (``prepare_data(run.config).train``), adds
    ``highest_loss_train``: its ``highest_loss`` examples of highest loss and, with the
    ``mislabelled`` mask of ``--corrupt``, how many of them are mislabelled.
    Every index refers to the dataset it was computed on.
    """
    dataset = check_dataset(run, dataset)
    nonempty(dataset)
    bins = check_count("bins", bins, 1)
    examples = check_count("examples", examples, 1)
    highest_loss = check_count("highest_loss", highest_loss, 0)
    ks = [top_k] if isinstance(top_k, int) else list(top_k)
    ks = sorted({check_count("top_k", k, 1) for k in ks})
    if train_losses is not None:
        check_dataset(run, train_losses, "train_losses")
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
    names = tuple(dataset.class_names)
    seeds = tuple(run.config.seeds)
    loss_per_seed = sc["loss"].astype(np.float64).mean(axis=1)
    common = dict(
        run=str(run.run_dir),
        dataset=dataset.name,
        title=dataset.title,
        split=dataset.split,
        examples=len(dataset),
        epoch=run.epoch,
        seeds=seeds,
        class_names=names,
        ensemble=len(seeds) > 1,
        loss=float(loss_per_seed.mean()),
        loss_per_seed=tuple(loss_per_seed.tolist()),
    )
    per_example_loss = sc["loss"].astype(np.float64).mean(axis=0)
    if run.kind == "autoencoder":
        return Evaluation(run, dataset, None, per_example_loss, Metrics(**common))
    probs, labels = sc["probs"].astype(np.float64), dataset.labels.astype(np.int64)
    acc = sc["correct"].astype(np.float64).mean(axis=1)
    pred = probs.argmax(axis=1)
    cm = _metrics.confusion_matrix(labels, pred, len(names))
    scores = sc["logit"].astype(np.float64) if run.kind == "binary" else None
    train_loss = None if tr is None else tr["loss"].astype(np.float64).mean(axis=0)
    metrics = Metrics(
        **common,
        accuracy=float(acc.mean()),
        accuracy_per_seed=tuple(acc.tolist()),
        accuracy_std=float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
        ensemble_accuracy=float((pred == labels).mean()) if len(acc) > 1 else None,
        per_class=_per_class(cm, names),
        **_averages(cm),
        confusion_matrix=cm,
        top_k_accuracy={k: _metrics.top_k_accuracy(probs, labels, k) for k in ks if k < len(names)},
        calibration=_metrics.calibration(probs, labels, bins),
        binary=None if scores is None else _binary(scores, probs, labels, names),
        notable_examples=_notable(probs, labels, pred, scores, names, examples),
        highest_loss_train=None
        if tr is None
        else _highest_loss_train(train_loss, tr, train_losses, mislabelled, highest_loss),
    )
    return Evaluation(run, dataset, probs, per_example_loss, metrics, scores, train_loss)


def _per_class(cm: np.ndarray, names) -> dict[str, ClassMetrics]:
    pc = _metrics.per_class_metrics(cm)
    return {
        name: ClassMetrics(
            examples=int(pc["support"][k]),
            predicted=int(pc["predicted"][k]),
            precision=float(pc["precision"][k]),
            recall=float(pc["recall"][k]),
            f1=float(pc["f1"][k]),
        )
        for k, name in enumerate(names)
    }


def _averages(cm: np.ndarray) -> dict[str, Averages]:
    avg = _metrics.averaged_metrics(cm)
    return {f"{name}_avg": Averages(**avg[name]) for name in ("macro", "weighted")}


def _binary(scores, probs, labels, names) -> dict[str, Any]:
    b: dict[str, Any] = {
        "threshold": 0.5,
        "accuracy": _metrics.thresholded_accuracy(probs[:, 1], labels, 0.5),
        "score": "logit",  # the mean over the seeds with several
        "positive_class": names[1],
        "negative_class": names[0],
        "roc_auc": None,
        "roc": None,
    }
    if 0 < labels.sum() < len(labels):  # a ROC curve needs both classes
        b["roc_auc"] = _metrics.roc_auc(scores, labels)
        fpr, tpr = _thin_curve(*_metrics.roc_curve(scores, labels)[:2])
        b["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    return b


def _notable(probs, labels, pred, scores, names, examples: int) -> dict[str, Any]:
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
    if scores is not None:
        for row, idx in _examples.binary_extremes(scores, labels, examples).items():
            notable[row] = [{"index": i, "score": float(scores[i])} for i in idx]
    return notable


def _highest_loss_train(train_loss, tr, train_set: Dataset, mislabelled, k: int) -> dict[str, Any]:
    # A non-finite loss (a nearly diverged model) counts as the highest, not as an error.
    ranked = np.where(np.isfinite(train_loss), train_loss, np.finfo(np.float64).max)
    hl = _examples.highest_loss(ranked, k, mislabelled)
    idx = hl["indices"]
    train_pred = tr["probs"].argmax(axis=1)
    return {
        "k": len(idx),
        "examples": len(train_set),
        "indices": idx,
        "losses": [float(train_loss[i]) for i in idx],
        "labels": [int(train_set.labels[i]) for i in idx],  # class indices, as the run saw them
        "predicted": [int(train_pred[i]) for i in idx],
        "mislabelled": None if mislabelled is None else [bool(mislabelled[i]) for i in idx],
        "mislabelled_fraction": hl["mislabelled_fraction"],
        "base_rate": hl["base_rate"],
    }


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
    progress=None,
) -> Evaluation:
    """:func:`evaluate` for a run folder on one split of any compatible dataset.

    With ``train``, also the ``highest_loss`` training examples of highest loss, over the run's
    own training set rebuilt as the run built it (class selection, ``--corrupt``, validation
    split), with the fraction of them mislabelled for a ``--corrupt`` run.
    ``evaluate_run(...).metrics.to_json()`` is what ``mnistlab evaluate --json`` prints.
    ``progress(text)``, when given, hears each phase as it starts (the command's stderr).
    """
    examples = check_count("examples", examples, 1)
    bins = check_count("bins", bins, 1)
    highest_loss = check_count("highest_loss", highest_loss, 0)
    # One phase up to the scoring: a user error (no such run, data missing) prints one line only.
    say(progress, f"reading the run and the {split} split")
    run = load_run(run_dir)  # reads the folder once, for everything below
    with precision(run.config.dtype):
        ds = dataset_for(run, dataset, split, data_dir)
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
        also = f" and the {len(train_ds):,} training examples" if train_ds is not None else ""
        say(progress, f"compiling and scoring {len(ds):,} {split} examples{also}")
        return evaluate(
            run,
            ds,
            bins=bins,
            examples=examples,
            train_losses=train_ds,
            mislabelled=mislabelled,
            highest_loss=highest_loss,
        )
