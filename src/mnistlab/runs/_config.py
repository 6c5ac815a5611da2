"""One typed, frozen, declarative configuration per run, saved as ``config.toml`` next to its results.

Every field carries its own declaration (:class:`Param`): the CLI flag, the help text, the
group it is listed under and the constraints on its value (``mnistlab._checks``). From that one
declaration come the validation (:meth:`TrainConfig.__post_init__`), the options of
``mnistlab train`` (``cli/_params.py`` generates them) and the error messages, so a new option is
one field here and nothing else. Choices that belong to a registry (datasets, models,
optimizers, schedules) are read from that registry when checked, never copied.

Rules that involve several fields (a schedule's parameters, momentum for an optimizer that has
none, two classes at least) live in ONE place, :func:`check_consistent`, which :func:`resolve`
runs; both run before any data is loaded or downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._checks import Deferred, Interval, Items, NoneOK, Options, TypeOf, check
from .._errors import ConfigError
from ._steps import resolve_steps

PREPROCESS = ("scale", "per-image", "global")
DTYPES = ("float32", "float64", "bfloat16")
LOSSES = ("auto", "cross-entropy", "binary-cross-entropy", "squared-error")

# Upper bounds of the size options: far above any sensible run, low enough that a typo (an extra
# zero or two) is refused at once instead of running for days or exhausting memory.
MAX_EPOCHS = 100_000
MAX_STEPS = 100_000_000
MAX_BATCH = 1_000_000
MAX_WIDTH = 65_536
MAX_SEEDS = 1_024
MAX_CORRUPT = 100_000_000
SEED_RANGE = Interval(int, 0, 2**32 - 1)


def _read(package: str, name: str):
    """``mnistlab.<package>.<name>`` (called if it is a function), imported when first needed:
    the registries of models and optimizers import Flax and Optax, which a config need not."""
    value = getattr(importlib.import_module(f"mnistlab.{package}"), name)
    return value() if callable(value) else value


def _registry(package: str, name: str, *first: str) -> Options:
    """The choices a registry lists (after ``first``), read when a value is checked."""
    return Options(lambda: (*first, *_read(package, name)))


def _optim(param: str) -> Deferred:
    """The optimizer package's own constraints on ``param`` (declared there once)."""
    return Deferred(lambda: _read("optim", "PARAM_CONSTRAINTS")[param])


@dataclass(frozen=True)
class Param:
    """How one config field is offered and checked.

    ``cli``: ``"value"`` (one value), ``"ints"`` (comma-separated integers on the command line),
    ``"bool"`` (an on/off flag pair, ``flag`` holding both), ``"seeds"`` (``--seed``/``--seeds``,
    handled by the CLI) or ``""`` (not a command-line option).
    """

    help: str
    constraints: tuple
    group: str
    flag: str = ""
    cli: str = "value"
    metavar: str | None = None

    def choices(self) -> tuple:
        """The allowed values when the field is a choice (for ``--help``), else ``()``."""
        return next((c.values() for c in self.constraints if isinstance(c, Options)), ())


def _p(default, help: str, *constraints, group: str, cli: str = "value", flag: str = "", metavar=None):
    return field(
        default=default,
        metadata={"param": Param(help, tuple(constraints), group, flag, cli, metavar)},
    )


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. ``None`` means "the default for this model"."""

    # data
    dataset: str = _p(
        "auto",
        "Dataset; auto: MNIST, else (offline) the bundled MNIST sample, saying so.",
        _registry("data", "dataset_names", "auto"),
        group="data",
    )
    classes: tuple[int, ...] = _p(
        (),
        "Keep these classes, relabelled 0.. in this order, e.g. 7,1.",
        Items(Interval(int, 0, None), distinct=True, name="list"),
        group="data",
        cli="ints",
        metavar="A,B,..",
    )
    val_fraction: float = _p(
        0.0,
        "Hold out this fraction of the training set for validation.",
        Interval(float, 0.0, 0.5),
        group="data",
    )
    preprocess: str = _p("scale", "Pixel preprocessing.", Options(PREPROCESS), group="data")
    corrupt: int = _p(
        0,
        "Permute the labels of the first N training images (study S6).",
        Interval(int, 0, MAX_CORRUPT),
        group="data",
    )
    # The validation split and S6 corruption: data, not training, randomness.
    data_seed: int = _p(0, "Seed of the validation split and --corrupt.", SEED_RANGE, group="data")
    # model
    model: str = _p("cnn", "Model.", _registry("models", "model_names"), group="model")
    widths: tuple[int, ...] | None = _p(
        None,
        "Hidden widths, e.g. 1024,128 (mlp, binary-mlp, autoencoder).",
        NoneOK(),
        Items(Interval(int, 1, MAX_WIDTH), max_len=64, name="list"),
        group="model",
        cli="ints",
        metavar="W1,W2,..",
    )
    activation: str | None = _p(
        None, "Hidden activation.", NoneOK(), _registry("models", "ACTIVATIONS"), group="model"
    )
    layers: str | None = _p(
        None,
        "CNN layers, e.g. conv12k5,pool2s1,conv16k5,pool2s1,dense120.",
        NoneOK(),
        TypeOf(str, "a layer spec"),
        group="model",
        metavar="SPEC",
    )
    init: str = _p(
        "default", "Initialiser of weights and biases.", _registry("models", "INITIALIZERS"), group="model"
    )
    init_scale: float | None = _p(
        None, "sigma / a / range of --init.", NoneOK(), Interval(float, 0.0, None, "neither"), group="model"
    )
    # objective
    loss: str = _p("auto", "Loss (auto: the model kind's natural loss).", Options(LOSSES), group="objective")
    l1: float = _p(
        0.0, "L1 penalty strength (lambda * sum |theta|).", Interval(float, 0.0), group="objective"
    )
    l2: float = _p(
        0.0, "L2 penalty strength (lambda * sum theta^2).", Interval(float, 0.0), group="objective"
    )
    # optimizer: the values are checked by mnistlab.optim's own declarations
    optimizer: str = _p("adam", "Optimizer.", _registry("optim", "OPTIMIZERS"), group="optimizer")
    lr: float | None = _p(
        None,
        "Learning rate (default: the optimizer's own, in README's optimizer table).",
        NoneOK(),
        _optim("lr"),
        group="optimizer",
    )
    momentum: float | None = _p(
        None,
        "Momentum of momentum, nesterov and rmsprop (default 0.9 for momentum/nesterov).",
        NoneOK(),
        _optim("momentum"),
        group="optimizer",
    )
    weight_decay: float | None = _p(
        None,
        "Decoupled weight decay (default 1e-4 for adamw, else 0).",
        NoneOK(),
        _optim("weight_decay"),
        group="optimizer",
    )
    clip_norm: float | None = _p(
        None,
        "Clip gradients to this global norm.",
        NoneOK(),
        _optim("clip_norm"),
        group="optimizer",
    )
    schedule: str = _p(
        "constant", "Learning-rate schedule.", _registry("optim", "SCHEDULES"), group="optimizer"
    )
    lr_factor: float | None = _p(
        None,
        "Factor of the exponential and step schedules.",
        NoneOK(),
        _optim("factor"),
        group="optimizer",
    )
    step_epochs: int | None = _p(
        None,
        "Epochs between the steps of the step schedule.",
        NoneOK(),
        _optim("step_epochs"),
        group="optimizer",
    )
    warmup_epochs: float | None = _p(
        None,
        "Warm-up epochs of warmup-cosine (may be fractional).",
        NoneOK(),
        _optim("warmup_epochs"),
        group="optimizer",
    )
    final_lr: float | None = _p(
        None,
        "Final rate of the cosine and one-cycle schedules.",
        NoneOK(),
        _optim("final_lr"),
        group="optimizer",
    )
    # loop
    epochs: int = _p(3, "Epochs.", Interval(int, 1, MAX_EPOCHS), group="loop")
    steps: int | None = _p(
        None, "Train exactly N optimizer steps instead of --epochs.", NoneOK(), Interval(int, 1, MAX_STEPS),
        group="loop", metavar="N",
    )  # fmt: skip
    eval_every: int | None = _p(
        None, "With --steps: score and checkpoint every K steps (K divides N; default N).", NoneOK(),
        Interval(int, 1, MAX_STEPS), group="loop", metavar="K",
    )  # fmt: skip
    batch_size: int = _p(128, "Batch size.", Interval(int, 1, MAX_BATCH), group="loop")
    drop_last: bool = _p(
        False,
        "Drop the last partial batch (default: keep it, padded and masked).",
        TypeOf(bool, "true or false"),
        group="loop",
        cli="bool",
        flag="--drop-last/--keep-last",
    )
    seeds: tuple[int, ...] = _p(
        (0,),
        "Seeds of initialisation and shuffling, trained in one program.",
        Items(SEED_RANGE, min_len=1, max_len=MAX_SEEDS, distinct=True, name="list"),
        group="loop",
        cli="seeds",
    )
    dtype: str = _p(
        "float32",
        "Precision (bfloat16: bfloat16 compute, float32 parameters).",
        Options(DTYPES),
        group="loop",
    )
    eval_train: bool = _p(
        False,
        "Also score the whole training set after each epoch.",
        TypeOf(bool, "true or false"),
        group="loop",
        cli="bool",
        flag="--eval-train/--no-eval-train",
    )
    # devices: where the run is computed, not what; may change when a run is resumed
    devices: str = _p(
        "1",
        "Devices to train on: N, or all (one process: this machine's; several: every process's).",
        Deferred(lambda: _read("parallel", "DEVICES")),
        group="loop",
        metavar="all|N",
    )
    mesh: str | None = _p(
        None,
        "Split the devices as MEMBERSxDATA: seeds over MEMBERS, each batch over DATA "
        "(default: as many to members as divide the seed count, the rest to data).",
        NoneOK(),
        Deferred(lambda: _read("parallel", "MESH")),
        group="loop",
        metavar="MxD",
    )
    # Bounds the memory of evaluation (im2col patches of a CNN); not a command-line option.
    eval_batch_size: int = _p(
        1000, "Examples per evaluation chunk.", Interval(int, 1, 100_000), group="loop", cli=""
    )

    def __post_init__(self):
        for f in fields(self):
            p: Param = f.metadata["param"]
            check(f.name, getattr(self, f.name), p.constraints)
        if len(self.classes) == 1:
            raise ConfigError(f"classes must name at least two classes, e.g. 1,7; got {self.classes!r}")

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def params() -> dict[str, Param]:
    """Each field's declaration, in field order (the CLI and the docs read this)."""
    return {f.name: f.metadata["param"] for f in fields(TrainConfig)}


def flag(name: str) -> str:
    """The command-line flag of field ``name`` (``--lr``; the on-flag of a pair)."""
    p = params()[name]
    return (p.flag or "--" + name.replace("_", "-")).split("/")[0]


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def check_consistent(c: TrainConfig) -> None:
    """The rules that involve several fields, all here: each raises a one-line ConfigError.

    The optimizer and schedule rules (momentum only where an optimizer has one, each schedule's
    parameters, ``final_lr <= lr``, ``warmup_epochs < epochs``) belong to ``mnistlab.optim``, which
    builds them; building both here with one step per epoch checks them without any data.
    """
    from ..optim import make_optimizer, make_schedule

    schedule = make_schedule(
        c.schedule,
        c.lr,
        steps_per_epoch=1,
        epochs=c.epochs,
        factor=c.lr_factor,
        step_epochs=c.step_epochs,
        warmup_epochs=c.warmup_epochs,
        final_lr=c.final_lr,
    )
    make_optimizer(
        c.optimizer, schedule, momentum=c.momentum, weight_decay=c.weight_decay, clip_norm=c.clip_norm
    )


def resolve(c: TrainConfig) -> TrainConfig:
    """Fill the defaults that depend on other fields and check the cross-field rules, so the saved
    config names every value and a bad combination is refused before any data is touched."""
    from ..optim import default_lr

    c = c.replace(lr=c.lr if c.lr is not None else default_lr(c.optimizer))
    c = resolve_steps(c, default_epochs=TrainConfig.epochs, max_epochs=MAX_EPOCHS)
    check_consistent(c)
    return c


# --- TOML -------------------------------------------------------------------------------------
# TOML has no null, so a None field is written as a comment, which reads back as "not given".


def _toml_value(v) -> str:
    import tomli_w

    if isinstance(v, list | tuple):  # inline, one line: a config is read by people
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return tomli_w.dumps({"v": v}).split("=", 1)[1].strip()


def to_toml(c: TrainConfig, *, header: str = "") -> str:
    lines = [f"# {line}" for line in header.splitlines()]
    for key, value in c.as_dict().items():
        lines.append(f"# {key} = (default)" if value is None else f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _coerce(value, annotation: str):
    if "tuple" in annotation and isinstance(value, list):
        return tuple(value)
    if "float" in annotation and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(values: dict[str, Any], *, source: str = "config") -> TrainConfig:
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"{source}: unknown option(s) {', '.join(unknown)}; valid options are {', '.join(known)}"
        )
    kwargs = {k: _coerce(v, str(known[k].type)) for k, v in values.items()}
    try:
        return TrainConfig(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_toml(path: str | Path) -> TrainConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; give the config.toml of a run") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not a text file; give the config.toml of a run") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return from_dict(values, source=str(path))
