"""S6 capacity study: an underfitting [784, 4, 10] tanh net, and an overfitting 7-layer tanh net
trained on half-corrupted labels (the FIRST 30,000 training images permuted among themselves,
seeded: ``--corrupt 30000``). Both N(0, 0.1^2), plain SGD. The notebook counts epochs from 0:
its epoch 4 is our 5, its epochs 0-9 our 1-10. Train accuracy is scored on the (corrupted)
training set after each epoch, as the notebook does."""

from __future__ import annotations

from ..runs import TrainConfig
from ._spec import Member, Reference, TrainStudy, quick_defaults

OVERFIT_WIDTHS = (2048, 1024, 512, 1024, 512, 128)

STUDY = TrainStudy(
    name="capacity",
    number="S6",
    question="What do too little capacity (underfitting) and too much capacity on noisy labels "
    "(overfitting) look like in the train and test curves?",
    shows="train vs test accuracy per epoch for both nets",
    base=TrainConfig(
        model="mlp",
        activation="tanh",
        init="normal",
        init_scale=0.1,
        optimizer="sgd",
        batch_size=128,
        eval_train=True,
    ),
    members=(
        Member("underfit", "[784, 4, 10], lr 0.1", {"widths": (4,), "lr": 0.1, "epochs": 10}),
        Member(
            "overfit",
            "7 layers, lr 0.01, 30,000 labels corrupted",
            {"widths": OVERFIT_WIDTHS, "lr": 0.01, "epochs": 30, "corrupt": 30_000},
            quick={"widths": (128, 64, 32), "corrupt": 2_000},
        ),
    ),
    references=(
        Reference("underfit", "test_accuracy", 10, 0.834, "83.4% after 10 epochs"),
        Reference("overfit", "train_eval_accuracy", 1, 0.458, "train 45.8% at epoch 0", n=60_000),
        Reference("overfit", "train_eval_accuracy", 10, 0.609, "train 60.9% at epoch 9", n=60_000),
        Reference("overfit", "test_accuracy", 5, 0.859, "test peak 85.9% at epoch 4"),
        Reference("overfit", "test_accuracy", 10, 0.829, "test 82.9% at epoch 9"),
    ),
    figures=("train-vs-test",),
    quick=quick_defaults(eval_train=True),
    estimate=10 * 2.0 + 30 * 60.0,
    init="normal, sigma 0.1 (weights and biases), as the notebook's init_random_params",
)
