"""S1 softmax regression: one Dense(10) layer, momentum SGD, an L2 penalty; L2 vs L1 and lambda
up and down, with the learned class templates.

Settings from the course notebook: ``stax.Dense`` + ``LogSoftmax``, ``optimizers.momentum(0.001,
0.9)``, batch 128 over a fresh permutation each epoch with the last partial batch kept (469
batches), 101 epochs, train and test accuracy on the whole sets after every epoch (so
``eval_train``). The notebook counts epochs from 0: its "epoch 0" is our epoch 1.

Initialisation: ``stax.Dense`` draws Glorot-normal weights and N(0, 1e-6) biases, so the runs use
``init="glorot"`` (Flax's own default, LeCun-normal, would differ in the weights' scale).

The four members differ only in ``l2`` and ``l1``, so the study runner trains them as ONE compiled
program (:func:`mnistlab.train.train_sweep`): each member's lambdas are values carried beside its
parameters, and a lambda of 0 adds exact zeros, so each run equals its config trained alone.
"""

from __future__ import annotations

from ..runs import TrainConfig
from ._spec import Member, Reference, TrainStudy, quick_defaults

LAMBDA = 0.001
SOFTMAX_TRAINING = dict(
    optimizer="momentum",
    lr=0.001,
    momentum=0.9,
    l2=LAMBDA,
    batch_size=128,
    epochs=101,
    eval_train=True,
    init="glorot",  # stax.Dense/Conv's Glorot-normal weights and N(0, 1e-6) biases
)

STUDY = TrainStudy(
    name="softmax",
    number="S1",
    question="How well does a single softmax layer classify digits, and how do the penalty's kind "
    "(L2 vs L1) and strength change its accuracy and its weight images?",
    shows="train/test accuracy per epoch; the ten class templates of each penalty",
    base=TrainConfig(model="softmax", **SOFTMAX_TRAINING),
    members=(
        Member("l2", f"L2, lambda {LAMBDA:g}"),
        Member("l1", f"L1, lambda {LAMBDA:g}", {"l2": 0.0, "l1": LAMBDA}),
        # --quick runs L2 and L1: lambda up and down take the same code path with other numbers.
        Member("l2-up", f"L2, lambda {10 * LAMBDA:g}", {"l2": 10 * LAMBDA}, in_quick=False),
        Member("l2-down", f"L2, lambda {LAMBDA / 10:g}", {"l2": LAMBDA / 10}, in_quick=False),
    ),
    references=(
        Reference("l2", "test_accuracy", 1, 0.835, "83.5% after epoch 0"),
        Reference("l2", "test_accuracy", 11, 0.900, "90.0% at epoch 10"),
        Reference("l2", "test_accuracy", 51, 0.915, "91.5% at epoch 50"),
        Reference("l2", "test_accuracy", 101, 0.9177, "91.77% at epoch 100"),
        Reference("l2", "train_eval_accuracy", 101, 0.9157, "train 91.57% at epoch 100", n=60_000),
    ),
    figures=("curves", "templates"),
    quick=quick_defaults(),
    estimate=4 * 101 * 1.0,
    init="glorot (Glorot-normal weights, N(0, 1e-6) biases), as stax.Dense and stax.Conv draw",
)
