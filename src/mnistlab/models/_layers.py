"""The layer grammar of the configurable CNN: ``"nchw,conv16k4s4,conv32k3,dense256"`` and back.

Pure string and shape logic (no JAX), so the CLI and the config can check a spec, and say where
an image would shrink to nothing, before any data is loaded or anything is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .._checks import TypeOf, check
from .._errors import ConfigError

LAYERS_GRAMMAR = (
    "layers is a comma-separated list: an optional layout first ('nhwc', the default, or 'nchw'), then "
    "conv<out>k<size>[s<stride>][same] (stride 1, VALID padding unless 'same'), "
    "pool<window>[s<stride>] (max-pooling, stride = window unless given), avgpool<window>[s<stride>] "
    "(average pooling, likewise), dense<width>; "
    "convs and pools come before the first dense"
)
LAYERS_EXAMPLE = "conv12k5,pool2s1,conv16k5,pool2s1,dense120,dense84"
LAYERS_CONSTRAINTS = (TypeOf(str, f"a string such as {LAYERS_EXAMPLE!r}"),)

# The layer specs the registry's CNNs are built from, here with the grammar (not with the Flax
# modules) so that the registry, read by every --help and config check, imports no JAX.
# The default CNN ("cnn"). Retune it here: everything else reads this one constant.
CNN_LAYERS = "conv32k3,pool2,conv64k3,pool2,dense128"
CNN_PRESETS = {
    "cnn": CNN_LAYERS,  # the configurable one's default
    # S3: channels-first; 28 -> 7 (4x4 stride 4) -> 5 (3x3), so 5*5*32 = 800 features to flatten.
    "cnn-s3": "nchw,conv16k4s4,conv32k3,dense256",
    # S7: LeNet-style with stride-1 pooling; 28 -> 24 -> 23 -> 19 -> 18, so 18*18*16 = 5184.
    "cnn-s7": "conv12k5,pool2s1,conv16k5,pool2s1,dense120,dense84",
}
# The speedrun recipe's layers (see mnistlab.speedrun for the validation runs behind them): a
# strided 5x5 first layer takes 28x28 to 12x12 at once, a max-pool halves it, one 3x3 layer, a
# dense head.
SPEEDRUN_LAYERS = "conv24k5s2,pool2,conv48k3,dense128"


@dataclass(frozen=True)
class ConvLayer:
    """``conv<features>k<size>[s<stride>][same]``: a ``size x size`` convolution, then the activation."""

    features: int
    size: int
    stride: int = 1
    padding: str = "VALID"

    def __str__(self) -> str:
        stride = f"s{self.stride}" if self.stride != 1 else ""
        return f"conv{self.features}k{self.size}{stride}{'same' if self.padding == 'SAME' else ''}"


@dataclass(frozen=True)
class PoolLayer:
    """``pool<window>[s<stride>]`` (max) or ``avgpool<window>[s<stride>]`` (``op="avg"``): VALID
    pooling over ``window x window`` patches."""

    window: int
    stride: int
    op: str = "max"

    def __str__(self) -> str:
        prefix = "avgpool" if self.op == "avg" else "pool"
        return f"{prefix}{self.window}" + (f"s{self.stride}" if self.stride != self.window else "")


@dataclass(frozen=True)
class DenseLayer:
    """``dense<width>``: a hidden fully connected layer, then the activation."""

    width: int

    def __str__(self) -> str:
        return f"dense{self.width}"


Layer = ConvLayer | PoolLayer | DenseLayer

_CONV_RE = re.compile(r"conv(\d+)k(\d+)(?:s(\d+))?(same|valid)?")
_POOL_RE = re.compile(r"(avg)?pool(\d+)(?:s(\d+))?")
_DENSE_RE = re.compile(r"dense(\d+)")


def _bad_layers(spec, problem: str) -> ConfigError:
    return ConfigError(f"{problem} in layers {spec!r}. {LAYERS_GRAMMAR}; e.g. {LAYERS_EXAMPLE!r}")


def parse_layers(spec: str) -> tuple[str, tuple[Layer, ...]]:
    """``(layout, layers)`` from a layer spec such as ``"nchw,conv16k4s4,conv32k3,dense256"``.

    Case and whitespace are ignored. See :data:`LAYERS_GRAMMAR`; the final ``Dense(num_classes)``
    is not part of the spec (the CNN appends it).
    """
    check("layers", spec, LAYERS_CONSTRAINTS)
    tokens = [t.strip().lower() for t in spec.split(",")]
    if tokens == [""]:
        raise _bad_layers(spec, "no layers")
    layout = "NHWC"
    if tokens[0] in ("nhwc", "nchw"):
        layout = tokens.pop(0).upper()
    if not tokens:
        raise _bad_layers(spec, "no layers after the layout")
    layers: list[Layer] = []
    for token in tokens:
        if m := _CONV_RE.fullmatch(token):
            layer: Layer = ConvLayer(
                int(m[1]), int(m[2]), int(m[3] or 1), "SAME" if m[4] == "same" else "VALID"
            )
            values = (layer.features, layer.size, layer.stride)
        elif m := _POOL_RE.fullmatch(token):
            layer = PoolLayer(int(m[2]), int(m[3] or m[2]), "avg" if m[1] else "max")
            values = (layer.window, layer.stride)
        elif m := _DENSE_RE.fullmatch(token):
            layer = DenseLayer(int(m[1]))
            values = (layer.width,)
        else:
            raise _bad_layers(spec, f"bad token {token!r}")
        if min(values) < 1:
            raise _bad_layers(spec, f"token {token!r} has a size of 0 (sizes must be positive)")
        if layers and isinstance(layers[-1], DenseLayer) and not isinstance(layer, DenseLayer):
            raise _bad_layers(spec, f"token {token!r} comes after a dense layer (the CNN flattens once)")
        layers.append(layer)
    return layout, tuple(layers)


def format_layers(layout: str, layers: Sequence[Layer]) -> str:
    """The canonical spec string of ``(layout, layers)``; ``parse_layers`` inverts it."""
    return ",".join(([] if layout == "NHWC" else ["nchw"]) + [str(layer) for layer in layers])


def flat_features(layers: str, image_shape: tuple[int, int] = (28, 28)) -> int:
    """How many features the CNN ``layers`` flattens before its first dense layer, for 1-channel images.

    Raises a ConfigError naming the layer where a ``image_shape`` input shrinks to nothing.
    """
    _, parsed = parse_layers(layers)
    h, w = image_shape
    channels = 1
    for layer in parsed:
        if isinstance(layer, DenseLayer):
            break
        before = (h, w)
        if isinstance(layer, ConvLayer) and layer.padding == "SAME":
            h, w = -(-h // layer.stride), -(-w // layer.stride)
        else:
            size = layer.size if isinstance(layer, ConvLayer) else layer.window
            h, w = (h - size) // layer.stride + 1, (w - size) // layer.stride + 1
        if h < 1 or w < 1:
            raise ConfigError(
                f"layers {layers!r} shrink a {image_shape[0]}x{image_shape[1]} image to nothing at "
                f"{str(layer)!r} (its input is {before[0]}x{before[1]}); use fewer or smaller layers, "
                "or 'same' padding"
            )
        if isinstance(layer, ConvLayer):
            channels = layer.features
    return h * w * channels


__all__ = [
    "LAYERS_CONSTRAINTS",
    "LAYERS_EXAMPLE",
    "LAYERS_GRAMMAR",
    "ConvLayer",
    "DenseLayer",
    "Layer",
    "PoolLayer",
    "flat_features",
    "format_layers",
    "parse_layers",
]
