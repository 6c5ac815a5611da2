"""Models as pure ``init`` / ``apply`` functions: the studies' named models, or your own.

    model = build_model("cnn-s7")                      # or as_model(MyLinenModule()), as_model((init, apply))
    params = model.init(jax.random.key(0), (1, 28, 28, 1))
    logits = model.apply(params, images)               # images laid out as model.input_layout says

Named models: the registry :data:`MODELS` (:func:`model_names`, :func:`get_model_spec`,
:func:`model_table`; add one with :func:`register_model`). CNNs take a layer spec such as
``"conv16k4s4,conv32k3,dense256"`` (:data:`LAYERS_GRAMMAR`). Build options and what each may be:
:data:`OPTIONS`. Initialisers: :data:`INITIALIZERS`, via :func:`initializers`.
"""

from .._lazy import lazy_names
from ._layers import (
    CNN_LAYERS,
    CNN_PRESETS,
    LAYERS_EXAMPLE,
    LAYERS_GRAMMAR,
    ConvLayer,
    DenseLayer,
    PoolLayer,
    flat_features,
    format_layers,
    parse_layers,
)
from ._model import INPUT_LAYOUTS, KINDS, FeatureModel, Model
from ._options import ACTIVATIONS, INITIALIZERS, ModelOption
from ._registry import (
    COMMON_DEFAULTS,
    MODEL_CONSTRAINTS,
    MODEL_NAMES,
    MODELS,
    OPTIONS,
    ModelSpec,
    build_model,
    get_model_spec,
    model_names,
    model_table,
    register_model,
)

# Imported on first use (PEP 562): these need Flax and JAX, and the names above are read by every
# ``--help`` and config check, which must not wait 1.5 s for them.
_LAZY = {
    "avg_pool": "_pool",
    "conv2d": "_conv",
    "max_pool": "_pool",
    "initializers": "_init",
    "CNN": "_modules",
    "MLP": "_modules",
    "Autoencoder": "_modules",
    "BinaryMLP": "_modules",
    "Conv2D": "_modules",
    "SoftmaxRegression": "_modules",
    "as_model": "_zoo",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)


__all__ = [
    "ACTIVATIONS",
    "CNN",
    "CNN_LAYERS",
    "CNN_PRESETS",
    "COMMON_DEFAULTS",
    "INITIALIZERS",
    "INPUT_LAYOUTS",
    "KINDS",
    "LAYERS_EXAMPLE",
    "LAYERS_GRAMMAR",
    "MLP",
    "MODELS",
    "MODEL_CONSTRAINTS",
    "MODEL_NAMES",
    "OPTIONS",
    "Autoencoder",
    "BinaryMLP",
    "Conv2D",
    "ConvLayer",
    "DenseLayer",
    "FeatureModel",
    "Model",
    "ModelOption",
    "ModelSpec",
    "PoolLayer",
    "SoftmaxRegression",
    "as_model",
    "avg_pool",
    "build_model",
    "conv2d",
    "flat_features",
    "format_layers",
    "get_model_spec",
    "initializers",
    "max_pool",
    "model_names",
    "model_table",
    "parse_layers",
    "register_model",
]
