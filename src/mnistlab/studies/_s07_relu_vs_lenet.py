"""S7 ReLU MLP and a LeNet-style CNN (max-pool 2x2 with STRIDE 1, ``cnn-s7``), plain SGD, each
over 5 seeds trained in one program (``seeds``), mean +- std. ``studies.md`` gives the CNN's
later epochs as a range, 99.1-99.24% from epoch 10 on.

Initialised as the notebook's ``stax`` layers: ``glorot`` (Glorot-normal weights, N(0, 1e-6) biases)."""

from __future__ import annotations

from ..runs import TrainConfig
from ._spec import Member, Reference, TrainStudy, quick_defaults

SEEDS = (0, 1, 2, 3, 4)
QUICK_LAYERS = "conv4k5,pool2s1,dense16"
MLP_REFS = ((1, 0.9458), (2, 0.9646), (4, 0.9757), (10, 0.9809), (12, 0.9793))

STUDY = TrainStudy(
    name="relu-vs-lenet",
    number="S7",
    question="How much does a LeNet-style CNN gain over a ReLU MLP, and how much do 5 seeds vary?",
    shows="test accuracy per epoch, mean +- std over 5 seeds, for the MLP and the CNN",
    base=TrainConfig(optimizer="sgd", batch_size=128, seeds=SEEDS, init="glorot"),
    members=(
        Member(
            "mlp",
            "MLP 1024-128 ReLU, lr 0.15",
            {"model": "mlp", "widths": (1024, 128), "activation": "relu", "lr": 0.15, "epochs": 12},
            quick={"widths": (64, 32)},
        ),
        Member(
            "cnn",
            "LeNet-style CNN, lr 0.06",
            {"model": "cnn-s7", "lr": 0.06, "epochs": 20},
            # The same kinds of layers (max-pool stride 1), a few channels: seconds, not minutes.
            quick={"model": "cnn", "layers": QUICK_LAYERS},
        ),
    ),
    references=(
        *(Reference("mlp", "test_accuracy", e, v, f"{100 * v:.2f}% after epoch {e}") for e, v in MLP_REFS),
        Reference("cnn", "test_accuracy", 1, 0.9779, "97.79% after epoch 1"),
        Reference("cnn", "test_accuracy", 4, 0.9895, "98.95% after epoch 4"),
        Reference("cnn", "test_accuracy", 10, 0.9917, "99.1-99.24% from epoch 10 on", low=0.991, high=0.9924),
        Reference("cnn", "test_accuracy", 20, 0.9917, "99.1-99.24% from epoch 10 on", low=0.991, high=0.9924),
    ),
    figures=("curves",),
    quick=quick_defaults(seeds=(0, 1)),
    estimate=12 * 10.0 + 20 * 60.0,
    init="glorot (Glorot-normal weights, N(0, 1e-6) biases), as stax.Dense and stax.Conv draw",
)
