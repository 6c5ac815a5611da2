"""S3 small CNN, channels-first: conv 16 4x4 stride 4, conv 32 3x3, dense 256 (``cnn-s3``, NCHW
input), otherwise S1's training. ``studies.md`` gives no reference numbers for S3. Initialised
as S1 (``glorot``: ``stax.Conv`` draws Glorot-normal weights too)."""

from __future__ import annotations

from ..runs import TrainConfig
from ._s01_softmax import SOFTMAX_TRAINING
from ._spec import Member, TrainStudy, quick_defaults

STUDY = TrainStudy(
    name="cnn-nchw",
    number="S3",
    question="How does a small channels-first CNN trained like S1 compare with the dense models?",
    shows="train/test accuracy per epoch",
    base=TrainConfig(model="cnn-s3", **SOFTMAX_TRAINING),
    members=(
        Member(
            "cnn",
            "CNN (NCHW) conv16k4s4-conv32k3-dense256",
            # The same layers and layout with a few channels: --quick is a smoke test.
            quick={"model": "cnn", "layers": "nchw,conv4k4s4,conv8k3,dense16"},
        ),
    ),
    figures=("curves",),
    quick=quick_defaults(),
    estimate=101 * 8.0,
    init="glorot (Glorot-normal weights, N(0, 1e-6) biases), as stax.Dense and stax.Conv draw",
)
