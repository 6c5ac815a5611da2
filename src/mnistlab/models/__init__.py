"""Models as pure ``init`` / ``apply`` functions: the studies' named models, or your own.

    model = build_model("cnn-s7")                      # or as_model(MyLinenModule()), as_model((init, apply))
    params = model.init(jax.random.key(0), (1, 28, 28, 1))
    logits = model.apply(params, images)               # images laid out as model.input_layout says

Named models: :data:`MODEL_NAMES`; CNNs take a layer spec such as ``"conv16k4s4,conv32k3,dense256"``
(:data:`LAYERS_GRAMMAR`). Initialisers: :data:`INITIALIZERS`, via :func:`initializers`.
"""

from ._conv import conv2d, max_pool
from ._init import INITIALIZERS, initializers
from ._model import INPUT_LAYOUTS, KINDS, Model
from ._zoo import (
    ACTIVATIONS,
    CNN,
    CNN_LAYERS,
    CNN_PRESETS,
    LAYERS_GRAMMAR,
    MLP,
    MODEL_NAMES,
    Autoencoder,
    BinaryMLP,
    Conv2D,
    FeatureModel,
    SoftmaxRegression,
    as_model,
    build_model,
    flat_features,
    parse_layers,
)


def model_names() -> tuple[str, ...]:
    """Placeholder until the model registry lands."""
    return MODEL_NAMES


__all__ = [
    "ACTIVATIONS",
    "CNN",
    "CNN_LAYERS",
    "CNN_PRESETS",
    "INITIALIZERS",
    "INPUT_LAYOUTS",
    "KINDS",
    "LAYERS_GRAMMAR",
    "MLP",
    "MODEL_NAMES",
    "Autoencoder",
    "BinaryMLP",
    "Conv2D",
    "FeatureModel",
    "Model",
    "SoftmaxRegression",
    "as_model",
    "build_model",
    "conv2d",
    "flat_features",
    "initializers",
    "max_pool",
    "parse_layers",
]
