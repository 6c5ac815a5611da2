"""S4 tanh MLP with plain SGD: [784, 1024, 128, 10], weights and biases N(0, 0.1^2), lr 0.1,
batch 128 (469 batches, the last partial one kept), 10 epochs; the notebook's references are
1-indexed ("after epoch 1")."""

from __future__ import annotations

from ..runs import TrainConfig
from ._spec import Member, Reference, TrainStudy, quick_defaults

TANH_MLP = dict(
    model="mlp",
    widths=(1024, 128),
    activation="tanh",
    init="normal",
    init_scale=0.1,
    optimizer="sgd",
    lr=0.1,
    batch_size=128,
    epochs=10,
)
QUICK_WIDTHS = {"widths": (64, 32)}

STUDY = TrainStudy(
    name="tanh-mlp",
    number="S4",
    question="How far does plain SGD take a [784, 1024, 128, 10] tanh network in 10 epochs?",
    shows="train/test accuracy per epoch against the course's numbers",
    base=TrainConfig(**TANH_MLP, eval_train=True),
    members=(Member("tanh", "[784, 1024, 128, 10] tanh, SGD lr 0.1", quick=QUICK_WIDTHS),),
    references=(
        Reference("tanh", "test_accuracy", 1, 0.9377, "93.77% after epoch 1"),
        Reference("tanh", "test_accuracy", 10, 0.9746, "97.46% after epoch 10"),
        Reference("tanh", "train_eval_accuracy", 10, 0.9930, "train 99.30% after epoch 10", n=60_000),
    ),
    figures=("curves",),
    quick=quick_defaults(),
    estimate=10 * 6.0,
    init="normal, sigma 0.1 (weights and biases), as the notebook's init_random_params",
)
