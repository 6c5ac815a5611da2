"""A run's data and model, made from its config: load, select, corrupt, split, normalise; build.

Separate from the run's bookkeeping (``_run``) so that evaluation and the report, which rebuild a
run's data and model, use exactly what training used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ConfigError, DataError
from ..data import (
    Dataset,
    NormStats,
    corrupt_labels,
    fit_normalization,
    get_info,
    load,
    select_classes,
    stratified_split_indices,
    train_val_split,
)
from ..runs import TrainConfig


@dataclass
class RunData:
    config: TrainConfig  # with ``dataset`` resolved
    train: Dataset
    evals: dict[str, Dataset]
    norm: NormStats | None
    notice: str | None = None
    # With ``corrupt``: which training images carry a wrong label (derived, for inspection only).
    mislabelled: np.ndarray | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.train.class_names)

    @property
    def num_classes(self) -> int:
        return len(self.train.class_names)


def prepare_data(config: TrainConfig, *, data_dir=None, progress: bool = True) -> RunData:
    """Load, select, corrupt, split and fit normalisation exactly as ``config`` says."""
    import jax

    notice = None
    name = config.dataset
    if name == "auto":
        try:
            # Quietly: failing mirrors are expected offline, and the notice below says what happened.
            train = load("mnist", "train", data_dir=data_dir, progress=False, timeout=10)
            test = load("mnist", "test", data_dir=data_dir, progress=False, timeout=10)
            name = "mnist"
        except DataError as exc:
            why = str(exc).split(";")[0]
            notice = (
                f"MNIST is not cached and could not be downloaded ({why}); training on the bundled "
                "MNIST sample (5,000 images: 4,000 train / 1,000 test) instead. Give --dataset mnist "
                "to insist, or `mnistlab data fetch mnist` when online."
            )
            name = "mnist-sample"
    if name != "mnist" or config.dataset != "auto":
        train = load(name, "train", data_dir=data_dir, progress=progress)
        test = load(name, "test", data_dir=data_dir, progress=progress)
    config = config.replace(dataset=name)
    if config.classes:  # select_classes checks the indices against the dataset
        train, test = select_classes(train, config.classes), select_classes(test, config.classes)
    data_key = jax.random.PRNGKey(config.data_seed)
    if config.corrupt:
        if config.corrupt > len(train):
            raise ConfigError(
                f"corrupt must be <= {len(train)} (the training set's size); got {config.corrupt}"
            )
        train, mislabelled = corrupt_labels(train, config.corrupt, key=jax.random.fold_in(data_key, 0))
    else:
        mislabelled = None
    evals = {}
    if config.val_fraction:
        val_key = jax.random.fold_in(data_key, 1)
        if mislabelled is not None:  # the same split, applied to the mask
            rest, _ = stratified_split_indices(train.labels, config.val_fraction, key=val_key)
            mislabelled = mislabelled[rest]
        train, val = train_val_split(train, config.val_fraction, key=val_key)
        evals["validation"] = val
    evals["test"] = test
    norm = fit_normalization(train.images) if config.preprocess == "global" else None
    return RunData(config, train, evals, norm, notice, mislabelled)


def check_model_fits(config: TrainConfig, *, data_dir=None):
    """Build ``config``'s model for its dataset's declared image size and class count, loading no
    data: a typo, a CNN that shrinks the images to nothing or a binary model on ten classes is
    refused before anything is loaded, downloaded or written. Returns the model."""
    info = get_info("mnist" if config.dataset == "auto" else config.dataset, data_dir=data_dir)
    return build_model_for(config, len(config.classes) or info.num_classes, info.image_shape)


def build_model_for(config: TrainConfig, num_classes: int, image_shape):
    from ..models import build_model

    model = build_model(
        config.model,
        num_classes=num_classes,
        widths=config.widths,
        activation=config.activation,
        layers=config.layers,
        init=config.init,
        init_scale=config.init_scale,
        image_shape=tuple(image_shape),
    )
    if model.kind == "binary" and num_classes != 2:
        raise ConfigError(
            f"model {config.model} is a binary classifier and needs exactly two classes; got {num_classes}. "
            "Give --classes A,B (B becomes label 1, the positive class), e.g. --classes 7,1"
        )
    return model


def with_model_defaults(config: TrainConfig, spec: dict) -> TrainConfig:
    """Write the model's own defaults (widths, activation, layers, init scale) into the config,
    so the saved config.toml names every number and stays right if a default changes later."""
    changes = {}
    if "widths" in spec:
        changes["widths"] = tuple(spec["widths"])
    if "activation" in spec:
        changes["activation"] = spec["activation"]
    if "layers" in spec:
        changes["layers"] = spec["layers"]
    if spec.get("init_scale") is not None:
        changes["init_scale"] = float(spec["init_scale"])
    return config.replace(**changes)
