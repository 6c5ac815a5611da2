"""Which models there are, what options each takes, and how each is built.

Shaped like ``data/_registry.py``: one frozen :class:`ModelSpec` per name in the table
:data:`MODELS`. Adding a model is a builder (``_zoo.py``) and one entry here; the CLI's choices and
help, the error messages and the README's model table all read the table.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._checks import Options, TypeOf, check
from .._errors import ConfigError
from ._layers import CNN_LAYERS, CNN_PRESETS, LAYERS_CONSTRAINTS, SPEEDRUN_LAYERS, format_layers, parse_layers
from ._model import INPUT_LAYOUTS, KINDS, Model
from ._options import BASE_OPTIONS, INIT_OPTIONS, ModelOption, as_json


def _builder(module: str, name: str, **fixed) -> Callable[..., Model]:
    """``mnistlab.models.<module>.<name>`` (with ``fixed`` options), imported at the first build.

    Why not imported here: this table is read by every ``--help``, every config check and every
    report's page, none of which builds a model, and the builders import Flax and JAX (1.5 s)."""

    def build(**options) -> Model:
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)(**fixed, **options)

    build.__name__ = build.__qualname__ = name
    return build


build_softmax = _builder("_zoo", "build_softmax")
build_mlp = _builder("_zoo", "build_mlp")
build_binary_mlp = _builder("_zoo", "build_binary_mlp")
build_cnn = _builder("_zoo", "build_cnn")
build_autoencoder = _builder("_zoo", "build_autoencoder")
build_lenet5 = _builder("_zoo", "build_lenet5")
build_speedrun = _builder("_speedrun", "build_speedrun")


def cnn_preset(layers: str) -> Callable[..., Model]:
    """The builder of a CNN fixed as ``layers`` (it takes no ``layers`` option)."""
    return _builder("_zoo", "build_cnn", layers=layers)


def _canonical_layers(spec) -> str:
    return format_layers(*parse_layers(spec))


# Every build option, in the order they are resolved and recorded in ``Model.spec``.
OPTIONS: Mapping[str, ModelOption] = MappingProxyType(
    {
        "num_classes": BASE_OPTIONS["num_classes"],
        "widths": BASE_OPTIONS["widths"],
        "layers": ModelOption(
            "layers", "the CNN's layer spec (see LAYERS_GRAMMAR)", LAYERS_CONSTRAINTS, _canonical_layers
        ),
        "activation": BASE_OPTIONS["activation"],
        **INIT_OPTIONS,
        "image_shape": BASE_OPTIONS["image_shape"],
    }
)
# Accepted by every model: num_classes (ignored by the non-classifiers, so callers may always pass
# it), the initialiser and the image size.
COMMON_DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {"num_classes": 10, "init": "default", "init_scale": None, "image_shape": (28, 28)}
)


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it is, what it takes, and its builder.

    ``options`` are the build options the builder takes (its keyword arguments), model-specific
    ones first; ``defaults`` maps each to the value used when it is not given (the common ones,
    :data:`COMMON_DEFAULTS`, are filled in). ``input_layout`` is the layout of the default build
    (a ``"cnn"`` spec starting with ``nchw`` switches it). ``summary`` is one line for help texts.
    """

    name: str
    summary: str
    kind: str
    input_layout: str
    options: tuple[str, ...]
    defaults: Mapping[str, Any]
    build: Callable[..., Model]

    def __post_init__(self):
        check("name", self.name, (TypeOf(str, "a string"),))
        check("kind", self.kind, (Options(KINDS),))
        check("input_layout", self.input_layout, (Options(INPUT_LAYOUTS),))
        unknown = [o for o in (*self.options, *self.defaults) if o not in OPTIONS]
        if unknown:
            raise ConfigError(
                f"model {self.name!r}: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"options are {', '.join(OPTIONS)}"
            )
        defaults = {o: self.defaults.get(o, COMMON_DEFAULTS.get(o)) for o in self.options}
        if missing := [o for o, v in defaults.items() if v is None and o != "init_scale"]:
            raise ConfigError(f"model {self.name!r} needs a default for option(s) {', '.join(missing)}")
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "defaults", MappingProxyType(defaults))


_CLASSIFIER = ("num_classes", "init", "init_scale", "image_shape")
_OTHER = ("init", "init_scale", "image_shape")

_MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec(
            "softmax", "softmax regression: one dense layer (S1)", "classifier", "flat", _CLASSIFIER, {},
            build_softmax,
        ),
        ModelSpec(
            "mlp", "fully connected classifier (S2, S4-S7, S12)", "classifier", "flat",
            ("widths", "activation", *_CLASSIFIER), {"widths": (512, 256), "activation": "relu"}, build_mlp,
        ),
        ModelSpec(
            "binary-mlp", "fully connected, one logit for two classes (S8)", "binary", "flat",
            ("widths", "activation", *_OTHER), {"widths": (256, 64), "activation": "relu"}, build_binary_mlp,
        ),
        ModelSpec(
            "cnn", "CNN from a layer spec", "classifier", "NHWC",
            ("layers", "activation", *_CLASSIFIER), {"layers": CNN_LAYERS, "activation": "relu"}, build_cnn,
        ),
        *(
            ModelSpec(
                name, f"CNN fixed as {layers}", "classifier", "NCHW" if layers.startswith("nchw") else "NHWC",
                ("activation", *_CLASSIFIER), {"activation": "relu"}, cnn_preset(layers),
            )
            for name, layers in CNN_PRESETS.items()
            if name != "cnn"
        ),
        ModelSpec(
            "autoencoder", "fully connected autoencoder, linear bottleneck (S10)", "autoencoder", "flat",
            ("widths", "activation", *_OTHER), {"widths": (256, 64), "activation": "relu"}, build_autoencoder,
        ),
        ModelSpec(
            "lenet5", "LeNet-5 (LeCun et al. 1998): tanh, average pooling", "classifier", "NHWC",
            ("activation", *_CLASSIFIER), {"activation": "tanh"}, build_lenet5,
        ),
        ModelSpec(
            "speedrun", "CNN from a layer spec, fast to initialise (mnistlab speedrun)", "classifier", "NHWC",
            ("layers", "activation", "num_classes", "image_shape"),
            {"layers": SPEEDRUN_LAYERS, "activation": "relu"}, build_speedrun,
        ),
    )
}  # fmt: skip
MODELS: Mapping[str, ModelSpec] = MappingProxyType(_MODELS)  # a live view: registrations show
MODEL_NAMES = tuple(_MODELS)  # the built-in ones; model_names() includes later registrations


def model_names() -> tuple[str, ...]:
    """Every registered model's name, built-in ones first."""
    return tuple(_MODELS)


MODEL_CONSTRAINTS = (Options(model_names),)


def get_model_spec(name: str) -> ModelSpec:
    """The registry entry of ``name``; a one-line ConfigError with a "did you mean" otherwise."""
    return _MODELS[check("model", name, MODEL_CONSTRAINTS)]


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to :data:`MODELS`, so ``build_model(spec.name)`` (and the CLI) can build it."""
    if not isinstance(spec, ModelSpec):
        raise ConfigError(f"register_model needs a ModelSpec; got {type(spec).__name__}")
    if spec.name in _MODELS:
        raise ConfigError(f"model {spec.name!r} is already registered; choose another name")
    _MODELS[spec.name] = spec
    return spec


def model_table() -> list[tuple[str, str, str, str, str]]:
    """``(name, kind, input layout, options with their defaults, summary)`` per model, for help
    texts and the README. Options shown are the model's own (every model takes init,
    init_scale and image_shape; classifiers num_classes)."""
    rows = []
    for s in _MODELS.values():
        own = [o for o in s.options if o not in COMMON_DEFAULTS]
        shown = " ".join(f"{o}={_show(s.defaults[o])}" for o in own)
        rows.append((s.name, s.kind, s.input_layout, shown, s.summary))
    return rows


def _show(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple | list) else str(value)


def build_model(
    name: str,
    *,
    num_classes: int = 10,
    widths=None,
    activation: str | None = None,
    layers: str | None = None,
    init: str = "default",
    init_scale: float | None = None,
    image_shape=(28, 28),
) -> Model:
    """The model ``name`` (one of :func:`model_names`) as a :class:`Model`.

    Parameters
    ----------
    name : ``"softmax"`` (S1), ``"mlp"`` (S2, S4-S7, S12), ``"binary-mlp"`` (S8), ``"cnn"``
        (configurable), ``"cnn-s3"``, ``"cnn-s7"``, ``"autoencoder"`` (S10), or a registered one.
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

    ``None`` means the model's default (``get_model_spec(name).defaults``); giving an option the
    model does not take is refused. The Model's ``init(key, input_shape)`` returns Flax variables
    ``{"params": ...}`` that its ``apply(params, x)`` takes. ``spec`` holds every resolved option,
    JSON-able, so that ``build_model(**model.spec)`` rebuilds the same model.
    """
    spec = get_model_spec(name)
    given = {"num_classes": num_classes, "widths": widths, "layers": layers, "activation": activation}
    given |= {"init": init, "init_scale": init_scale, "image_shape": image_shape}
    for option in ("widths", "layers", "activation"):  # the others every model accepts
        if given[option] is not None and option not in spec.options:
            if option == "layers" and name in CNN_PRESETS:  # a fixed CNN
                raise ConfigError(
                    f"layers does not apply to the preset {name!r}, which is fixed as "
                    f"{CNN_PRESETS[name]!r}; use model 'cnn' with layers=... for another CNN"
                )
            raise ConfigError(
                f"{option} does not apply to model {name!r} (it takes {', '.join(spec.options)}); "
                f"got {given[option]!r}"
            )
    resolved: dict[str, Any] = {}
    for option in OPTIONS.values():
        value = given[option.name]
        if option.name in spec.options and value is None:
            value = spec.defaults[option.name]
        if option.name in spec.options or option.name in COMMON_DEFAULTS:  # checked even if ignored
            resolved[option.name] = option.resolve(value, *(resolved[d] for d in option.depends_on))
    kwargs = {o: resolved[o] for o in OPTIONS if o in spec.options}
    model = spec.build(**kwargs)
    record = {"name": spec.name, **{o: as_json(v) for o, v in kwargs.items()}}
    return dataclasses.replace(model, name=spec.name, spec=record)


__all__ = [
    "COMMON_DEFAULTS",
    "MODELS",
    "MODEL_CONSTRAINTS",
    "MODEL_NAMES",
    "OPTIONS",
    "ModelSpec",
    "build_model",
    "get_model_spec",
    "model_names",
    "model_table",
    "register_model",
]
