"""The named models of the studies (S1-S12) as Flax linen modules, and the builders that make them Models.

Every module returns raw outputs: logits for classifiers (the loss applies log-softmax), one logit
per example for binary models, and sigmoid reconstructions for the autoencoder. Convolutions and
max-pooling go through :func:`~mnistlab.models._conv.conv2d` and
:func:`~mnistlab.models._conv.max_pool`, so each backend gets its fastest formulation.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
from flax.linen.dtypes import promote_dtype
from jaxtyping import Array, Float, PRNGKeyArray

from .._errors import ConfigError, check_int
from ._conv import conv2d, max_pool
from ._init import INITIALIZERS, check_initializer, initializers, resolve_scale
from ._model import INPUT_LAYOUTS, KINDS, Model

MODEL_NAMES = ("softmax", "mlp", "binary-mlp", "cnn", "cnn-s3", "cnn-s7", "autoencoder")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu")
_ACTIVATION_FNS: dict[str, Callable[[Array], Array]] = {
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": nn.sigmoid,
    "gelu": nn.gelu,
}

# The default CNN ("cnn"). Retune it here: everything else reads this one constant.
CNN_LAYERS = "conv32k3,pool2,conv64k3,pool2,dense128"
CNN_PRESETS = {
    "cnn": CNN_LAYERS,
    # S3: channels-first; 28 -> 7 (4x4 stride 4) -> 5 (3x3), so 5*5*32 = 800 features to flatten.
    "cnn-s3": "nchw,conv16k4s4,conv32k3,dense256",
    # S7: LeNet-style with stride-1 pooling; 28 -> 24 -> 23 -> 19 -> 18, so 18*18*16 = 5184.
    "cnn-s7": "conv12k5,pool2s1,conv16k5,pool2s1,dense120,dense84",
}
DEFAULT_WIDTHS = {"mlp": (512, 256), "binary-mlp": (256, 64), "autoencoder": (256, 64)}

LAYERS_GRAMMAR = (
    "layers is a comma-separated list: an optional layout first ('nhwc', the default, or 'nchw'), then "
    "conv<out>k<size>[s<stride>][same] (stride 1, VALID padding unless 'same'), "
    "pool<window>[s<stride>] (max-pooling, stride = window unless given), dense<width>; "
    "convs and pools come before the first dense"
)
LAYERS_EXAMPLE = "conv12k5,pool2s1,conv16k5,pool2s1,dense120,dense84"


def _one_of(param: str, value, allowed: Sequence[str]) -> str:
    """``value`` if it is one of ``allowed``, else a ConfigError listing them (and a close match)."""
    if isinstance(value, str) and value in allowed:
        return value
    hint = ""
    if isinstance(value, str):
        lowered = {a.lower(): a for a in allowed}
        if close := difflib.get_close_matches(value.lower(), lowered, n=1):
            hint = f" (did you mean {lowered[close[0]]!r}?)"
    raise ConfigError(f"{param} must be one of {', '.join(allowed)}; got {value!r}{hint}")


def _activation_fn(name: str) -> Callable[[Array], Array]:
    return _ACTIVATION_FNS[_one_of("activation", name, ACTIVATIONS)]


# ----------------------------------------------------------------------------------------------
# Layer specs for the CNN builder


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
    """``pool<window>[s<stride>]``: VALID max-pooling over ``window x window`` patches."""

    window: int
    stride: int

    def __str__(self) -> str:
        return f"pool{self.window}" + (f"s{self.stride}" if self.stride != self.window else "")


@dataclass(frozen=True)
class DenseLayer:
    """``dense<width>``: a hidden fully connected layer, then the activation."""

    width: int

    def __str__(self) -> str:
        return f"dense{self.width}"


Layer = ConvLayer | PoolLayer | DenseLayer

_CONV_RE = re.compile(r"conv(\d+)k(\d+)(?:s(\d+))?(same|valid)?")
_POOL_RE = re.compile(r"pool(\d+)(?:s(\d+))?")
_DENSE_RE = re.compile(r"dense(\d+)")


def _bad_layers(spec, problem: str) -> ConfigError:
    return ConfigError(f"{problem} in layers {spec!r}. {LAYERS_GRAMMAR}; e.g. {LAYERS_EXAMPLE!r}")


def parse_layers(spec: str) -> tuple[str, tuple[Layer, ...]]:
    """``(layout, layers)`` from a layer spec such as ``"nchw,conv16k4s4,conv32k3,dense256"``.

    Case and whitespace are ignored. See :data:`LAYERS_GRAMMAR`; the final ``Dense(num_classes)``
    is not part of the spec (the CNN appends it).
    """
    if not isinstance(spec, str):
        raise ConfigError(f"layers must be a string such as {LAYERS_EXAMPLE!r}; got {spec!r}")
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
            layer = PoolLayer(int(m[1]), int(m[2] or m[1]))
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


# ----------------------------------------------------------------------------------------------
# Modules


class Conv2D(nn.Module):
    """A convolution with bias through :func:`conv2d` (HWIO kernel, NHWC or NCHW input)."""

    features: int
    size: int
    stride: int = 1
    padding: str = "VALID"
    layout: str = "NHWC"
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: Float[Array, "b ..."]) -> Float[Array, "b ..."]:
        in_features = x.shape[-1] if self.layout == "NHWC" else x.shape[-3]
        kernel = self.param(
            "kernel", self.kernel_init, (self.size, self.size, in_features, self.features), self.param_dtype
        )
        bias = self.param("bias", self.bias_init, (self.features,), self.param_dtype)
        # Like nn.Dense with dtype=None: compute in the promoted dtype of input and params.
        x, kernel, bias = promote_dtype(x, kernel, bias)
        y = conv2d(x, kernel, stride=self.stride, padding=self.padding, layout=self.layout)
        return y + (bias if self.layout == "NHWC" else bias[:, None, None])


class SoftmaxRegression(nn.Module):
    """One ``Dense(num_classes)`` on flat images; returns logits (S1)."""

    num_classes: int = 10
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    @nn.compact
    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b c"]:
        return nn.Dense(self.num_classes, kernel_init=self.kernel_init, bias_init=self.bias_init, name="out")(
            x
        )


class MLP(nn.Module):
    """Fully connected net on flat inputs: ``widths`` hidden layers with ``activation``, then a linear
    ``Dense(num_outputs)`` (without bias if not ``output_bias``, as S11's ``W2 sigmoid(W1 x + b)``);
    returns logits. ``encode`` returns the last hidden layer's activations."""

    widths: Sequence[int] = (512, 256)
    activation: str = "relu"
    num_outputs: int = 10
    output_bias: bool = True
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def setup(self):
        dense = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        self.hidden = [nn.Dense(w, **dense) for w in self.widths]
        self.out = nn.Dense(self.num_outputs, use_bias=self.output_bias, **dense)

    def encode(self, x: Float[Array, "b d"]) -> Float[Array, "b k"]:
        act = _activation_fn(self.activation)
        for layer in self.hidden:
            x = act(layer(x))
        return x

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b c"]:
        return self.out(self.encode(x))


class BinaryMLP(MLP):
    """An :class:`MLP` with one output, squeezed: returns the positive class's logit, shape ``(b,)``."""

    widths: Sequence[int] = (256, 64)
    num_outputs: int = 1

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, " b"]:
        if self.num_outputs != 1:
            raise ConfigError(f"num_outputs of a BinaryMLP must be 1; got {self.num_outputs!r}")
        return super().__call__(x)[..., 0]


class CNN(nn.Module):
    """A CNN from a layer spec (see :data:`LAYERS_GRAMMAR`): the activation after every conv and
    hidden dense layer, a flatten (in the layout's natural order: NCHW flattens C, H, W) before the
    first dense, and a final linear ``Dense(num_classes)``; returns logits.

    Input is ``(b, h, w, 1)`` for NHWC specs and ``(b, 1, h, w)`` for ``"nchw,..."`` ones.
    """

    layers: str = CNN_LAYERS
    num_classes: int = 10
    activation: str = "relu"
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    @property
    def layout(self) -> str:
        return parse_layers(self.layers)[0]

    @nn.compact
    def __call__(self, x: Float[Array, "b ..."]) -> Float[Array, "b c"]:
        layout, layers = parse_layers(self.layers)
        act = _activation_fn(self.activation)
        init = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        flat = False
        n_conv = n_dense = 0
        for layer in layers:
            if isinstance(layer, ConvLayer):
                conv = Conv2D(
                    layer.features,
                    layer.size,
                    layer.stride,
                    layer.padding,
                    layout,
                    **init,
                    name=f"conv_{n_conv}",
                )
                x = act(conv(x))
                n_conv += 1
            elif isinstance(layer, PoolLayer):
                x = max_pool(x, window=layer.window, stride=layer.stride, layout=layout)
            else:
                if not flat:
                    x, flat = x.reshape(*x.shape[:-3], -1), True
                x = act(nn.Dense(layer.width, **init, name=f"dense_{n_dense}")(x))
                n_dense += 1
        if not flat:
            x = x.reshape(*x.shape[:-3], -1)
        return nn.Dense(self.num_classes, **init, name="out")(x)


class Autoencoder(nn.Module):
    """Fully connected autoencoder on flat images in [0, 1].

    Encoder: ``encoder_widths`` hidden layers with ``activation``, then a linear ``bottleneck``
    layer; the decoder mirrors the hidden layers and ends in ``Dense(out_features)`` and a sigmoid.
    ``__call__`` returns reconstructions ``(b, out_features)``; ``encode`` returns the codes.
    """

    encoder_widths: Sequence[int] = (256,)
    bottleneck: int = 64
    activation: str = "relu"
    out_features: int = 784
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def setup(self):
        dense = dict(kernel_init=self.kernel_init, bias_init=self.bias_init)
        self.encoder = [nn.Dense(w, **dense) for w in self.encoder_widths]
        # A linear code: a ReLU at the narrowest layer can kill code units for good, and the features
        # feed a linear classifier (S10) that does not need them squashed.
        self.code = nn.Dense(self.bottleneck, **dense)
        self.decoder = [nn.Dense(w, **dense) for w in reversed(self.encoder_widths)]
        self.out = nn.Dense(self.out_features, **dense)

    def encode(self, x: Float[Array, "b d"]) -> Float[Array, "b k"]:
        if x.shape[-1] != self.out_features:
            raise ConfigError(
                f"this autoencoder reconstructs {self.out_features} pixels, so its input must have "
                f"{self.out_features} features; got shape {x.shape}"
            )
        act = _activation_fn(self.activation)
        for layer in self.encoder:
            x = act(layer(x))
        return self.code(x)

    def decode(self, z: Float[Array, "b k"]) -> Float[Array, "b d"]:
        act = _activation_fn(self.activation)
        for layer in self.decoder:
            z = act(layer(z))
        return nn.sigmoid(self.out(z))

    def __call__(self, x: Float[Array, "b d"]) -> Float[Array, "b d"]:
        return self.decode(self.encode(x))


# ----------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class FeatureModel(Model):
    """A :class:`Model` whose module also has an ``encode`` method: the autoencoder's codes, or an
    MLP's last hidden layer (S10's "bottleneck features")."""

    def encode(self, params, x: Float[Array, "b d"]) -> Float[Array, "b k"]:
        """Features of the flat inputs ``x`` under ``params`` (as returned by ``init``)."""
        return self.module.apply(params, x, method="encode")


def _module_model(
    module: nn.Module, *, name: str, input_layout: str, kind: str, spec: dict, cls: type[Model] = Model
) -> Model:
    def init(key: PRNGKeyArray, input_shape: tuple[int, ...]) -> dict:
        """``{"params": ...}`` for inputs of ``input_shape`` (with its batch dimension)."""
        return module.init(key, jnp.zeros(tuple(input_shape), jnp.float32))

    def apply(params: dict, x: Float[Array, "b ..."]) -> Float[Array, "b ..."]:
        return module.apply(params, x)

    return cls(
        name=name, init=init, apply=apply, input_layout=input_layout, kind=kind, module=module, spec=spec
    )


def _check_widths(widths, model: str, *, allow_empty: bool) -> tuple[int, ...]:
    """``widths`` (an int, a sequence of ints, or a string like ``"512,256"``) as a tuple of ints."""
    original = widths
    if isinstance(widths, str):
        parts = [p.strip() for p in widths.split(",")] if widths.strip() else []
        if not all(p.isdigit() for p in parts):
            raise ConfigError(f"widths must be positive integers such as '512,256'; got {original!r}")
        widths = [int(p) for p in parts]
    elif isinstance(widths, int) and not isinstance(widths, bool):
        widths = [widths]
    else:
        try:
            widths = list(widths)  # tuples, lists, NumPy arrays
        except TypeError:
            raise ConfigError(f"widths must be a sequence of positive integers; got {original!r}") from None
    checked = []
    for w in widths:
        if isinstance(w, bool):
            raise ConfigError(f"widths must be positive integers; got {original!r}")
        w = check_int("widths", w)
        if w < 1:
            raise ConfigError(f"widths must be positive integers; got {original!r}")
        checked.append(w)
    if not checked and not allow_empty:
        raise ConfigError(
            f"widths for model {model!r} needs at least one width (the last is the bottleneck); "
            f"got {original!r}"
        )
    return tuple(checked)


def _check_positive(param: str, value) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{param} must be a positive integer; got {value!r}")
    value = check_int(param, value)
    if value < 1:
        raise ConfigError(f"{param} must be a positive integer; got {value!r}")
    return value


def _check_image_shape(image_shape) -> tuple[int, int]:
    if (
        isinstance(image_shape, str)
        or not isinstance(image_shape, Sequence)
        or len(image_shape) != 2
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in image_shape)
    ):
        raise ConfigError(f"image_shape must be (height, width), two positive integers; got {image_shape!r}")
    return int(image_shape[0]), int(image_shape[1])


# Which of widths / activation / layers each model takes (init, init_scale and image_shape apply to all;
# num_classes to the classifiers, and the others ignore it so that callers may always pass it).
_OPTIONS = {
    "softmax": (),
    "mlp": ("widths", "activation"),
    "binary-mlp": ("widths", "activation"),
    "cnn": ("layers", "activation"),
    "cnn-s3": ("activation",),
    "cnn-s7": ("activation",),
    "autoencoder": ("widths", "activation"),
}


def build_model(
    name: str,
    *,
    num_classes: int = 10,
    widths: Sequence[int] | str | None = None,
    activation: str | None = None,
    layers: str | None = None,
    init: str = "default",
    init_scale: float | None = None,
    image_shape: Sequence[int] = (28, 28),
) -> Model:
    """The model ``name`` (one of :data:`MODEL_NAMES`) as a :class:`Model`.

    Parameters
    ----------
    name : ``"softmax"`` (S1), ``"mlp"`` (S2, S4-S7, S12), ``"binary-mlp"`` (S8), ``"cnn"``
        (configurable), ``"cnn-s3"``, ``"cnn-s7"`` or ``"autoencoder"`` (S10).
    num_classes : outputs of the classifiers; binary-mlp and autoencoder ignore it.
    widths : hidden widths of mlp (default ``(512, 256)``) and binary-mlp (``(256, 64)``); for the
        autoencoder the encoder widths, the last being the bottleneck (``(256, 64)``). An empty
        sequence gives (multinomial or binary) logistic regression.
    activation : one of :data:`ACTIVATIONS` (default ``"relu"``), for every model but softmax.
    layers : the ``"cnn"`` layer spec (see :data:`LAYERS_GRAMMAR`); default :data:`CNN_LAYERS`.
        The presets ``"cnn-s3"`` and ``"cnn-s7"`` are fixed specs (see :data:`CNN_PRESETS`).
    init, init_scale : the initialiser (one of :data:`INITIALIZERS`) and its scale.
    image_shape : ``(height, width)`` of the images: the autoencoder's output size, and the CNN
        layer check.

    The Model's ``init(key, input_shape)`` returns Flax variables ``{"params": ...}`` that its
    ``apply(params, x)`` takes. ``spec`` holds every resolved option, JSON-able, so that
    ``build_model(**model.spec)`` rebuilds the same model.
    """
    name = _one_of("model", name, MODEL_NAMES)
    options = _OPTIONS[name]
    for option, value in (("widths", widths), ("activation", activation), ("layers", layers)):
        if value is not None and option not in options:
            if option == "layers" and name in CNN_PRESETS:
                raise ConfigError(
                    f"layers does not apply to the preset {name!r}, which is fixed as "
                    f"{CNN_PRESETS[name]!r}; use model 'cnn' with layers=... for another CNN"
                )
            takes = ", ".join((*options, "init", "init_scale", "image_shape"))
            raise ConfigError(f"{option} does not apply to model {name!r} (it takes {takes}); got {value!r}")
    num_classes = _check_positive("num_classes", num_classes)
    init = check_initializer(init)
    init_scale = resolve_scale(init, init_scale)
    image_shape = _check_image_shape(image_shape)
    kernel_init, bias_init = initializers(init, init_scale)
    inits = dict(kernel_init=kernel_init, bias_init=bias_init)
    spec: dict[str, Any] = {"name": name}
    if "activation" in options:
        activation = _one_of("activation", "relu" if activation is None else activation, ACTIVATIONS)
    model_cls: type[Model] = Model
    layout, kind = "flat", "classifier"

    if name == "softmax":
        spec["num_classes"] = num_classes
        module = SoftmaxRegression(num_classes, **inits)
    elif name in ("mlp", "binary-mlp"):
        widths = _check_widths(DEFAULT_WIDTHS[name] if widths is None else widths, name, allow_empty=True)
        model_cls = FeatureModel
        if name == "mlp":
            spec["num_classes"] = num_classes
            module = MLP(widths, activation, num_classes, **inits)
        else:
            kind = "binary"
            module = BinaryMLP(widths, activation, **inits)
        spec.update(widths=list(widths), activation=activation)
    elif name.startswith("cnn"):
        layers = CNN_PRESETS[name] if layers is None else layers
        layout, parsed = parse_layers(layers)
        layers = format_layers(layout, parsed)
        flat_features(layers, image_shape)  # fail here, naming the layer, rather than inside XLA
        spec["num_classes"] = num_classes
        if name == "cnn":
            spec["layers"] = layers
        spec["activation"] = activation
        module = CNN(layers, num_classes, activation, **inits)
    else:
        widths = _check_widths(DEFAULT_WIDTHS[name] if widths is None else widths, name, allow_empty=False)
        kind, model_cls = "autoencoder", FeatureModel
        module = Autoencoder(widths[:-1], widths[-1], activation, math.prod(image_shape), **inits)
        spec.update(widths=list(widths), activation=activation)

    spec.update(init=init, init_scale=init_scale, image_shape=list(image_shape))
    return _module_model(module, name=name, input_layout=layout, kind=kind, spec=spec, cls=model_cls)


def as_model(obj, *, input_layout: str = "flat", kind: str = "classifier", name: str | None = None) -> Model:
    """``obj`` as a :class:`Model`: a Model is returned as is; a ``flax.linen.Module`` instance, or a
    pair ``(init_fn, apply_fn)`` of pure functions ``init_fn(key, input_shape) -> params`` and
    ``apply_fn(params, x) -> outputs``, is wrapped with the given layout, kind and name.

    A wrapped linen module's ``init(key, input_shape)`` initialises it on float32 zeros of that shape.
    """
    if isinstance(obj, Model):
        return obj
    input_layout = _one_of("input_layout", input_layout, INPUT_LAYOUTS)
    kind = _one_of("kind", kind, KINDS)
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"name must be a string; got {name!r}")
    if isinstance(obj, nn.Module):
        return _module_model(
            obj, name=name or type(obj).__name__, input_layout=input_layout, kind=kind, spec={}
        )
    if isinstance(obj, tuple | list) and len(obj) == 2 and all(callable(f) for f in obj):
        init_fn, apply_fn = obj
        return Model(
            name=name or getattr(apply_fn, "__name__", "model"),
            init=init_fn,
            apply=apply_fn,
            input_layout=input_layout,
            kind=kind,
        )
    hint = ""
    if isinstance(obj, type) and issubclass(obj, nn.Module):
        hint = f" (a Module class: pass an instance, e.g. {obj.__name__}(...))"
    elif isinstance(obj, str):
        hint = f" (for a named model use build_model({obj!r}))"
    raise ConfigError(
        "model must be a Model, a flax.linen.Module instance or a pair (init_fn, apply_fn) of "
        f"functions; got {type(obj).__name__} {obj!r}"[:400]
        + hint
    )


__all__ = [
    "ACTIVATIONS",
    "CNN",
    "CNN_LAYERS",
    "CNN_PRESETS",
    "DEFAULT_WIDTHS",
    "INITIALIZERS",
    "LAYERS_GRAMMAR",
    "MLP",
    "MODEL_NAMES",
    "Autoencoder",
    "BinaryMLP",
    "Conv2D",
    "ConvLayer",
    "DenseLayer",
    "FeatureModel",
    "PoolLayer",
    "SoftmaxRegression",
    "as_model",
    "build_model",
    "flat_features",
    "format_layers",
    "parse_layers",
]
