"""The builders of the named models (S1-S12): validated options in, a :class:`Model` out.

Each builder takes exactly the options its registry entry (``_registry.MODELS``) lists, already
resolved and checked, and returns the Model; ``build_model`` names it and records its options.
Cross-option rules that only one model has (the autoencoder's bottleneck, a CNN's layers against
the image size) live in that model's builder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import flax.linen as nn
import jax.numpy as jnp

from .._checks import NoneOK, Options, TypeOf, check
from .._errors import ConfigError
from ._init import initializers
from ._layers import CNN_PRESETS, flat_features, parse_layers
from ._model import INPUT_LAYOUTS, KINDS, FeatureModel, Model
from ._modules import CNN, MLP, Autoencoder, BinaryMLP, SoftmaxRegression

if TYPE_CHECKING:  # shape annotations only; jaxtyping is not needed at run time
    from jaxtyping import Array, Float, PRNGKeyArray


def module_model(
    module: nn.Module,
    *,
    name: str | None = None,
    input_layout: str = "flat",
    kind: str = "classifier",
    cls: type[Model] = Model,
) -> Model:
    """A linen module as a :class:`Model` of pure ``init`` / ``apply`` functions."""

    def init(key: PRNGKeyArray, input_shape: tuple[int, ...]) -> dict:
        """``{"params": ...}`` for inputs of ``input_shape`` (with its batch dimension)."""
        return module.init(key, jnp.zeros(tuple(input_shape), jnp.float32))

    def apply(params: dict, x: Float[Array, "b ..."]) -> Float[Array, "b ..."]:
        return module.apply(params, x)

    name = name or type(module).__name__
    return cls(name=name, init=init, apply=apply, input_layout=input_layout, kind=kind, module=module)


def _inits(init: str, init_scale: float | None) -> dict:
    kernel_init, bias_init = initializers(init, init_scale)
    return {"kernel_init": kernel_init, "bias_init": bias_init}


def build_softmax(*, num_classes: int, init: str, init_scale: float | None, image_shape) -> Model:
    """S1's multinomial logistic regression: one dense layer on flat images."""
    return module_model(SoftmaxRegression(num_classes, **_inits(init, init_scale)))


def build_mlp(
    *, widths: Sequence[int], activation: str, num_classes: int, init: str, init_scale, image_shape
) -> Model:
    """A fully connected classifier (S2, S4-S7, S12); ``encode`` gives its last hidden layer."""
    module = MLP(tuple(widths), activation, num_classes, **_inits(init, init_scale))
    return module_model(module, cls=FeatureModel)


def build_binary_mlp(*, widths: Sequence[int], activation: str, init: str, init_scale, image_shape) -> Model:
    """S8's one-logit classifier of two classes."""
    module = BinaryMLP(tuple(widths), activation, **_inits(init, init_scale))
    return module_model(module, kind="binary", cls=FeatureModel)


def build_cnn(*, layers: str, activation: str, num_classes: int, init: str, init_scale, image_shape) -> Model:
    """A CNN from a layer spec; its layout (NHWC or NCHW) is the spec's."""
    flat_features(layers, image_shape)  # fail here, naming the layer, rather than inside XLA
    module = CNN(layers, num_classes, activation, **_inits(init, init_scale))
    return module_model(module, input_layout=parse_layers(layers)[0])


def build_autoencoder(*, widths: Sequence[int], activation: str, init: str, init_scale, image_shape) -> Model:
    """S10's autoencoder: ``widths`` are the encoder's, the last one the (linear) bottleneck."""
    if not widths:
        raise ConfigError(
            f"widths for model 'autoencoder' needs at least one width (the last is the bottleneck); "
            f"got {tuple(widths)!r}"
        )
    pixels = image_shape[0] * image_shape[1]
    module = Autoencoder(tuple(widths[:-1]), widths[-1], activation, pixels, **_inits(init, init_scale))
    return module_model(module, kind="autoencoder", cls=FeatureModel)


# LeCun et al. 1998 on 32x32 digits; 28x28 MNIST padded by 'same' in C1 keeps its sizes:
# 28 -> 28 (C1) -> 14 (S2) -> 10 (C3) -> 5 (S4), so 5*5*16 = 400 features for C5.
LENET5_LAYERS = "conv6k5same,avgpool2,conv16k5,avgpool2,dense120,dense84"


def build_lenet5(*, activation: str, num_classes: int, init: str, init_scale, image_shape) -> Model:
    """LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998) for 28x28 images, as commonly adapted:
    average pooling without the paper's trainable subsampling coefficients, C3 connected to every
    S2 map (not the paper's partial table), C5 as a dense layer (a 5x5 conv on 5x5 maps is one), and
    a dense output of logits instead of the RBF units."""
    return build_cnn(
        layers=LENET5_LAYERS,
        activation=activation,
        num_classes=num_classes,
        init=init,
        init_scale=init_scale,
        image_shape=image_shape,
    )


def as_model(obj, *, input_layout: str = "flat", kind: str = "classifier", name: str | None = None) -> Model:
    """``obj`` as a :class:`Model`: a Model is returned as is; a ``flax.linen.Module`` instance, or a
    pair ``(init_fn, apply_fn)`` of pure functions ``init_fn(key, input_shape) -> params`` and
    ``apply_fn(params, x) -> outputs``, is wrapped with the given layout, kind and name.

    A wrapped linen module's ``init(key, input_shape)`` initialises it on float32 zeros of that shape.
    """
    if isinstance(obj, Model):
        return obj
    check("input_layout", input_layout, (Options(INPUT_LAYOUTS),))
    check("kind", kind, (Options(KINDS),))
    check("name", name, (TypeOf(str, "a string"), NoneOK()))
    if isinstance(obj, nn.Module):
        return module_model(obj, name=name, input_layout=input_layout, kind=kind)
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
    "CNN_PRESETS",
    "LENET5_LAYERS",
    "as_model",
    "build_autoencoder",
    "build_binary_mlp",
    "build_cnn",
    "build_lenet5",
    "build_mlp",
    "build_softmax",
    "module_model",
]
