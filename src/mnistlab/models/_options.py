"""The build options of the named models: what each may be, declared as data next to the option.

Each option is a :class:`ModelOption` whose ``constraints`` (``mnistlab._checks``) say what a
value may be, for the CLI's help and choices, and whose ``resolve`` turns a given value into the
one the builder gets (``"512,256"`` -> ``(512, 256)``), refusing a bad one with a one-line
:class:`~mnistlab.ConfigError`. The initialisers' names and scales are here too (``_init``
builds them, with JAX), the layer spec lives with its grammar (``_layers``); the registry gathers
them in ``OPTIONS``. Nothing here imports JAX: every ``--help`` and config check reads these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._checks import Interval, Items, Options, TypeOf, check
from .._errors import ConfigError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu")


@dataclass(frozen=True)
class Described:
    """A constraint told in the option's own words: ``num_classes must be a positive integer``
    reads better than the generic ``an integer >= 1`` (and is what users and tests already know)."""

    constraint: Any
    words: str

    def accepts(self, value) -> bool:
        return self.constraint.accepts(value)

    def describe(self) -> str:
        return self.words


@dataclass(frozen=True)
class ModelOption:
    """One build option: its help line, its constraints, and how a given value is resolved.

    ``resolve(value, *others)`` also gets the resolved values of the options named in
    ``depends_on`` (which come before it in ``OPTIONS``): ``init_scale`` depends on ``init``.
    """

    name: str
    help: str
    constraints: tuple
    resolve: Callable[..., Any]
    depends_on: tuple[str, ...] = ()


NUM_CLASSES_CONSTRAINTS = (Described(Interval(int, 1), "a positive integer"),)
ACTIVATION_CONSTRAINTS = (Options(ACTIVATIONS),)
WIDTHS_CONSTRAINTS = (Described(Items(Interval(int, 1)), "positive integers"),)
IMAGE_SHAPE_CONSTRAINTS = (
    Described(Items(Interval(int, 1), min_len=2, max_len=2), "(height, width), two positive integers"),
)
_INTEGER = (Interval(int),)


def check_activation(name) -> str:
    return check("activation", name, ACTIVATION_CONSTRAINTS)


def check_num_classes(value) -> int:
    return int(check("num_classes", value, NUM_CLASSES_CONSTRAINTS))


def check_image_shape(value) -> tuple[int, int]:
    check("image_shape", value, IMAGE_SHAPE_CONSTRAINTS)
    return int(value[0]), int(value[1])


def check_widths(widths) -> tuple[int, ...]:
    """``widths`` (an int, a sequence of ints, or a string like ``"512,256"``) as a tuple of ints.

    Empty is allowed here (logistic regression); a model that needs a width says so itself.
    """
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
    for w in widths:
        if not isinstance(w, bool):  # a bool is no width, but "must be an integer" would not say so
            check("widths", w, _INTEGER)
    return tuple(int(w) for w in check("widths", tuple(widths), WIDTHS_CONSTRAINTS))


BASE_OPTIONS: Mapping[str, ModelOption] = {
    o.name: o
    for o in (
        ModelOption("num_classes", "outputs of a classifier", NUM_CLASSES_CONSTRAINTS, check_num_classes),
        ModelOption("widths", "hidden widths, e.g. 512,256", WIDTHS_CONSTRAINTS, check_widths),
        ModelOption("activation", "the hidden layers' activation", ACTIVATION_CONSTRAINTS, check_activation),
        ModelOption(
            "image_shape", "(height, width) of the images", IMAGE_SHAPE_CONSTRAINTS, check_image_shape
        ),
    )
}


def as_json(value):
    """An option's value as JSON keeps it (tuples as lists), so ``build_model(**model.spec)`` works."""
    return list(value) if isinstance(value, tuple | list) else value


# The initialisers (built by ``_init.initializers``; its docstring has the table of definitions).
INITIALIZERS = ("default", "normal", "uniform", "s9", "glorot")
# None: the initialiser has no scale to set.
DEFAULT_SCALES: dict[str, float | None] = {
    "default": None,
    "normal": 0.1,
    "uniform": 0.1,
    "s9": 1.0,
    "glorot": 1e-6,
}


INIT_CONSTRAINTS = (Options(INITIALIZERS),)
# Two steps, so the message says what is wrong: not a number at all, or not a positive finite one.
INIT_SCALE_CONSTRAINTS = (
    (Described(TypeOf((int, float), "a number"), "a positive number"),),
    (Described(Interval(float, 0.0, None, "neither"), "a positive finite number"),),
)


def check_initializer(name) -> str:
    """``name`` if it names an initialiser, else a :class:`ConfigError` listing the valid names."""
    return check("init", name, INIT_CONSTRAINTS)


def resolve_scale(name: str, scale) -> float | None:
    """The scale ``initializers(name, scale)`` uses: ``scale`` checked, or the initialiser's default."""
    name = check_initializer(name)
    if DEFAULT_SCALES[name] is None:
        if scale is not None:
            raise ConfigError(
                f"init_scale does not apply to init='default' (Flax's lecun_normal); got {scale!r}. "
                f"Choose one of {', '.join(n for n in INITIALIZERS if DEFAULT_SCALES[n] is not None)} "
                "to set a scale"
            )
        return None
    if scale is None:
        return DEFAULT_SCALES[name]
    for constraints in INIT_SCALE_CONSTRAINTS:
        check("init_scale", scale, constraints)
    return float(scale)


INIT_OPTIONS = {
    "init": ModelOption("init", "the initialiser", INIT_CONSTRAINTS, check_initializer),
    "init_scale": ModelOption(
        "init_scale",
        "the initialiser's scale (std, half-width or range; its default if unset)",
        INIT_SCALE_CONSTRAINTS[1],
        lambda scale, init: resolve_scale(init, scale),
        depends_on=("init",),
    ),
}


__all__ = [
    "ACTIVATIONS",
    "BASE_OPTIONS",
    "DEFAULT_SCALES",
    "INITIALIZERS",
    "INIT_CONSTRAINTS",
    "INIT_OPTIONS",
    "INIT_SCALE_CONSTRAINTS",
    "Described",
    "ModelOption",
    "as_json",
    "check_activation",
    "check_image_shape",
    "check_initializer",
    "check_num_classes",
    "check_widths",
    "resolve_scale",
]
