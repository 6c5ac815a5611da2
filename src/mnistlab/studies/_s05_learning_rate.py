"""S5 learning-rate study on S4's model and data: lr 0.001 (slow), 1.6 (oscillates, converges),
2 (diverges: accuracy at chance). The lr-2 run keeps a finite loss, so the engine calls it
"completed"; the report's verdict checks "stays at chance" from the run's test accuracy.

The three rates differ only in ``lr``, so the study runner trains them as ONE compiled program
(:func:`mnistlab.train.train_sweep`: the members are the three rates x the seeds), each still into
its own run folder; each equals its rate trained alone (tests/test_sweep.py)."""

from __future__ import annotations

from ..runs import TrainConfig
from ._s04_tanh_mlp import QUICK_WIDTHS, TANH_MLP
from ._spec import Member, Reference, TrainStudy, quick_defaults

LR16 = (0.811, 0.845, 0.832, 0.918, 0.895, 0.845, 0.928, 0.928, 0.933, 0.948)

STUDY = TrainStudy(
    name="learning-rate",
    number="S5",
    question="What does the learning rate do to S4's network: too small, oscillating, diverging?",
    shows="test accuracy per epoch, one line per learning rate, divergence marked",
    base=TrainConfig(**TANH_MLP),
    members=(
        Member("lr-0.001", "lr 0.001", {"lr": 0.001}, quick=QUICK_WIDTHS),
        Member("lr-1.6", "lr 1.6", {"lr": 1.6}, quick=QUICK_WIDTHS),
        Member("lr-2", "lr 2", {"lr": 2.0}, quick=QUICK_WIDTHS),
    ),
    references=(
        Reference("lr-0.001", "test_accuracy", 1, 0.582, "58.2% after epoch 1"),
        Reference("lr-0.001", "test_accuracy", 10, 0.8695, "86.95% after epoch 10"),
        *(
            Reference("lr-1.6", "test_accuracy", e, v, f"{100 * v:.1f}% after epoch {e}")
            for e, v in enumerate(LR16, start=1)
        ),
        Reference("lr-2", "test_accuracy", 10, 0.10, "stays at chance (about 10%)", chance=True),
    ),
    figures=("curves",),
    quick=quick_defaults(),
    estimate=3 * 10 * 6.0,
    init="normal, sigma 0.1 (weights and biases), as S4",
)
