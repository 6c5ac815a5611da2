"""S2 deep fully connected net: 784-512-256-10, ReLU, otherwise S1's training.

``studies.md`` gives no reference numbers for S2; the report shows the curves and the first
layer's weight images. Initialised as S1 (``glorot``).
"""

from __future__ import annotations

from ..runs import TrainConfig
from ._s01_softmax import SOFTMAX_TRAINING
from ._spec import Member, TrainStudy, quick_defaults

STUDY = TrainStudy(
    name="deep-mlp",
    number="S2",
    question="Does a 784-512-256-10 ReLU network trained exactly like S1's softmax layer beat it?",
    shows="train/test accuracy per epoch; first-layer weight images",
    base=TrainConfig(model="mlp", widths=(512, 256), activation="relu", **SOFTMAX_TRAINING),
    members=(Member("mlp", "784-512-256-10 ReLU", quick={"widths": (64, 32)}),),
    figures=("curves", "first-layer"),
    quick=quick_defaults(),
    estimate=101 * 6.0,
    init="glorot (Glorot-normal weights, N(0, 1e-6) biases), as stax.Dense and stax.Conv draw",
)
