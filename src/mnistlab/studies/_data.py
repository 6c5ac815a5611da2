"""The arrays a study trains on: a dataset loaded as ``mnistlab train`` loads it, flattened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check
from .._errors import ConfigError
from ._config import DATASET, DTYPE

if TYPE_CHECKING:
    from jaxtyping import Float, Int


@dataclass
class StudyData:
    """The arrays every implementation sees: pixels scaled to [0, 1] and flattened to 784."""

    x_train: Float[np.ndarray, "n 784"]
    y_train: Int[np.ndarray, " n"]
    x_test: Float[np.ndarray, "m 784"]
    y_test: Int[np.ndarray, " m"]
    name: str
    title: str
    notice: str | None = None
    provenance: dict = field(default_factory=dict)

    def info(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "sizes": {"train": len(self.y_train), "test": len(self.y_test)},
            "notice": self.notice,
            "provenance": self.provenance,
        }


def load_data(dataset: str, dtype: str = "float32", *, data_dir=None, progress: bool = True) -> StudyData:
    """Load a dataset as ``mnistlab train`` does (``auto``: MNIST when cached or downloadable,
    else the bundled sample, with a notice saying so), scaled to [0, 1] and flattened."""
    from ..data import scale
    from ..train import TrainConfig, prepare_data

    check("dataset", dataset, [DATASET], flag="--dataset")
    check("dtype", dtype, [DTYPE], flag="--dtype")
    run = prepare_data(TrainConfig(dataset=dataset, preprocess="scale"), data_dir=data_dir, progress=progress)
    train, test = run.train, run.evals["test"]
    if train.image_shape != (28, 28) or train.num_classes != 10:
        # The studies reproduce published MNIST settings (784 inputs, 10 outputs) by hand.
        h, w = train.image_shape
        raise ConfigError(
            f"--dataset {dataset}: the studies need 28x28 images in 10 classes, as MNIST's; "
            f"{train.title} has {h}x{w} images in {train.num_classes} classes. Train on it with "
            f"`mnistlab train --dataset {dataset}`"
        )

    def flat(ds):
        return scale(ds.images, dtype).reshape(len(ds), -1)

    return StudyData(
        flat(train),
        np.asarray(train.labels, np.int32),
        flat(test),
        np.asarray(test.labels, np.int32),
        name=run.config.dataset,
        title=train.title,
        notice=run.notice,
        provenance={"train": train.provenance.as_dict(), "test": test.provenance.as_dict()},
    )
