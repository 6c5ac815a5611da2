"""S12 Flax MNIST with a validation split: global normalisation (mean and std over all training
pixels, ``preprocess global``), a dense Flax network (the notebook leaves it open: 784-256-10
ReLU), cross-entropy on one-hot labels, plain SGD (optax's sgd is the same tree map), a
disjoint, seeded 10% validation split (``val_fraction``), train and validation accuracy per
epoch, the test accuracy at the end. The best-validation parameters are kept beside the last
(``best-validation_accuracy.npz`` in the run folder, by an epoch callback).

Gap: the notebook batches by splitting the array in order (``jnp.array_split``), the engine
shuffles each epoch; ``studies.md`` gives no reference numbers."""

from __future__ import annotations

from ..runs import TrainConfig
from ._spec import Member, TrainStudy, quick_defaults

STUDY = TrainStudy(
    name="validation-split",
    number="S12",
    question="Do validation accuracies, measured on a disjoint part of the training set, track the "
    "test accuracy while a dense network trains?",
    shows="train and validation accuracy per epoch, test accuracy at the end",
    base=TrainConfig(
        model="mlp",
        widths=(256,),
        activation="relu",
        preprocess="global",
        loss="cross-entropy",
        optimizer="sgd",
        lr=0.05,
        batch_size=128,
        epochs=10,
        val_fraction=0.1,
        eval_train=True,
    ),
    members=(Member("mlp", "784-256-10 ReLU, SGD lr 0.05", quick={"widths": (64,)}),),
    figures=("train-vs-validation",),
    quick=quick_defaults(eval_train=True),
    estimate=10 * 3.0,
    keep_best="validation_accuracy",
    gaps=("batches come from a shuffled order each epoch, not the notebook's in-order array split",),
    init="default (Flax's LeCun-normal weights, zero biases), as flax.linen.Dense",
)
