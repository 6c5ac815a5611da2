"""One typed, frozen configuration per run, saved as ``config.toml`` next to its results.

Every option of ``mnistlab train`` is a field here; the CLI only parses into it. ``resolve``
fills the defaults that depend on other fields (the learning rate per optimizer), so the saved
file states every number the run used and ``--config run/config.toml`` repeats it exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .._errors import ConfigError

PREPROCESS = ("scale", "per-image", "global")
DTYPES = ("float32", "float64", "bfloat16")
DATASETS = ("auto", "mnist", "fashion-mnist", "kmnist", "mnist-sample")
LOSSES = ("auto", "cross-entropy", "binary-cross-entropy", "squared-error")

# Learning rates that train the models here well with each optimizer; used when --lr is not given.
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run. ``None`` means "the default for this model"."""

    # data
    dataset: str = "auto"
    classes: tuple[int, ...] = ()
    val_fraction: float = 0.0
    preprocess: str = "scale"
    corrupt: int = 0
    data_seed: int = 0  # the validation split and S6 corruption: data, not training, randomness
    # model
    model: str = "cnn"
    widths: tuple[int, ...] | None = None
    activation: str | None = None
    layers: str | None = None
    init: str = "default"
    init_scale: float | None = None
    # objective
    loss: str = "auto"
    l1: float = 0.0
    l2: float = 0.0
    # optimizer
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    clip_norm: float | None = None
    schedule: str = "constant"
    lr_factor: float | None = None
    step_epochs: int | None = None
    warmup_epochs: int | None = None
    final_lr: float | None = None
    # loop
    epochs: int = 3
    batch_size: int = 128
    drop_last: bool = False
    seeds: tuple[int, ...] = (0,)
    dtype: str = "float32"
    eval_train: bool = False
    eval_batch_size: int = 1000  # bounds the memory of evaluation (im2col patches of a CNN)

    def __post_init__(self):
        _validate(self)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _choice(param: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{param} must be one of {', '.join(allowed)}; got {value!r}")


def _positive_int(param: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{param} must be a positive integer; got {value!r}")


def _number(param: str, value, *, low=None, high=None, low_open=False, optional=False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{param} must be a finite number; got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{param} must be {'>' if low_open else '>='} {low}; got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{param} must be <= {high}; got {value!r}")


def _validate(c: TrainConfig) -> None:
    _choice("dataset", c.dataset, DATASETS)
    _choice("preprocess", c.preprocess, PREPROCESS)
    _choice("dtype", c.dtype, DTYPES)
    _choice("loss", c.loss, LOSSES)
    _number("val_fraction", c.val_fraction, low=0.0, high=0.5)
    if isinstance(c.corrupt, bool) or not isinstance(c.corrupt, int) or c.corrupt < 0:
        raise ConfigError(f"corrupt must be a non-negative integer (images to mislabel); got {c.corrupt!r}")
    if isinstance(c.data_seed, bool) or not isinstance(c.data_seed, int) or not 0 <= c.data_seed < 2**32:
        raise ConfigError(f"data_seed must be an integer in [0, 2**32); got {c.data_seed!r}")
    if len(set(c.classes)) != len(c.classes) or any(
        isinstance(k, bool) or not isinstance(k, int) or k < 0 for k in c.classes
    ):
        raise ConfigError(f"classes must be distinct non-negative class indices, e.g. 1,7; got {c.classes!r}")
    if len(c.classes) == 1:
        raise ConfigError(f"classes must name at least two classes, e.g. 1,7; got {c.classes!r}")
    if c.widths is not None:
        for w in c.widths:
            _positive_int("widths", w)
    for name in ("l1", "l2"):
        _number(name, getattr(c, name), low=0.0)
    _number("weight_decay", c.weight_decay, low=0.0, optional=True)
    _number("lr", c.lr, low=0.0, low_open=True, optional=True)
    _number("momentum", c.momentum, low=0.0, high=1.0, optional=True)
    _number("clip_norm", c.clip_norm, low=0.0, low_open=True, optional=True)
    _number("init_scale", c.init_scale, low=0.0, low_open=True, optional=True)
    _positive_int("epochs", c.epochs)
    _positive_int("batch_size", c.batch_size)
    _positive_int("eval_batch_size", c.eval_batch_size)
    if not c.seeds:
        raise ConfigError("seeds must name at least one seed; got an empty list")
    if len(set(c.seeds)) != len(c.seeds):
        raise ConfigError(f"seeds must be distinct; got {list(c.seeds)}")
    for s in c.seeds:
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**32:
            raise ConfigError(f"seeds must be integers in [0, 2**32); got {s!r}")


def resolve(c: TrainConfig) -> TrainConfig:
    """Fill the defaults that depend on other fields, so the saved config names every value."""
    lr = c.lr if c.lr is not None else DEFAULT_LR.get(c.optimizer, 0.1)
    return c.replace(lr=lr)


# --- TOML -------------------------------------------------------------------------------------
# The config is flat scalars and lists, so a writer fits in a few lines; TOML has no null, so a
# None field is written as a comment, which reads back as "not given".


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        # JSON's string escapes (\n, \", \\, \uXXXX) are all valid in a TOML basic string.
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def to_toml(c: TrainConfig, *, header: str = "") -> str:
    lines = [f"# {line}" for line in header.splitlines()]
    for key, value in c.as_dict().items():
        lines.append(f"# {key} = (default)" if value is None else f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _coerce(name: str, value, annotation: str):
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
    kwargs = {k: _coerce(k, v, str(known[k].type)) for k, v in values.items()}
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
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return from_dict(values, source=str(path))
