"""What the training engine needs from a model: a pure ``init`` and a pure ``apply``.

A :class:`Model` wraps either a Flax linen module or a user's pair of functions
``init(key, input_shape) -> params`` and ``apply(params, x) -> outputs``; ``input_shape``
includes a leading batch dimension (any size, e.g. ``(1, 784)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

INPUT_LAYOUTS = ("flat", "NHWC", "NCHW")
KINDS = ("classifier", "binary", "autoencoder")


@dataclass(frozen=True)
class Model:
    """A model as pure functions.

    ``input_layout`` says how the engine feeds a batch of ``(B, H, W)`` images: ``"flat"`` as
    ``(B, H*W)``, ``"NHWC"`` as ``(B, H, W, 1)``, ``"NCHW"`` as ``(B, 1, H, W)``.
    ``kind`` says what the outputs are: ``"classifier"`` -> ``(B, num_classes)`` logits,
    ``"binary"`` -> ``(B,)`` logits of the positive class, ``"autoencoder"`` -> ``(B, H*W)``
    reconstructions of the flat input.
    """

    name: str
    init: Callable[..., Any]
    apply: Callable[..., Any]
    input_layout: str = "flat"
    kind: str = "classifier"
    module: Any = None
    spec: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FeatureModel(Model):
    """A :class:`Model` whose module also has an ``encode`` method: the autoencoder's codes, or an
    MLP's last hidden layer (S10's "bottleneck features")."""

    def encode(self, params, x):
        """Features of the flat inputs ``x`` under ``params`` (as returned by ``init``)."""
        return self.module.apply(params, x, method="encode")
