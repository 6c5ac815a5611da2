"""What every study's configuration shares: options declared as data, checked by one validator.

A study's config is a frozen dataclass whose fields are made by :func:`option`: the default, the
constraints of :mod:`mnistlab._checks` (a range, a choice, a type), the flag, an example and the
help text, all in one place. :func:`validate` checks every field against its constraints, so a
bad value fails with one line naming the option, what is allowed and what it got::

    epochs (--epochs) must be an integer in [1, 1000]; got 0; e.g. --epochs 3

Rules that tie fields together (``--full`` against ``--epochs``) are each config's
``_check_together`` method, run after the fields: one place per study.

Every size has an upper bound, stated in its help text:

- ``epochs`` <= :data:`MAX_EPOCHS` (1,000): the batch order of every epoch is drawn up front and
  held in memory (about 300 kB per epoch of 60,000 images); S9's longest recipe is 20 epochs.
- ``batch_size`` <= :data:`MAX_BATCH_SIZE` (60,000): the largest training set; a larger batch
  would only be padding (one batch per epoch is already full-batch gradient descent).
- ``einsum_steps`` <= :data:`MAX_EINSUM_STEPS` (1,000): the per-example form is timed on a few
  steps and scaled, never trained to the end; 1,000 steps of batch 100 are minutes on a CPU.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .._checks import Interval, Items, NoneOK, Options, TypeOf, check
from .._errors import ConfigError
from ..data import REGISTRY, dataset_names

DATASETS = ("auto", *REGISTRY)  # auto: MNIST when cached or downloadable, else the offline sample
DTYPES = ("float32", "float64")

MAX_EPOCHS = 1_000
MAX_BATCH_SIZE = 60_000
MAX_EINSUM_STEPS = 1_000

DATASET = Options(lambda: ("auto", *dataset_names()))  # read when checked: built-in and imported names
DTYPE = Options(DTYPES)
SEED = Interval(int, 0, 2**32, closed="left")  # what jax.random.key takes without wrapping
EPOCHS = Interval(int, 1, MAX_EPOCHS)
BATCH_SIZE = Interval(int, 1, MAX_BATCH_SIZE)
EINSUM_STEPS = Interval(int, 1, MAX_EINSUM_STEPS)
RATE = Interval(float, 0, None, closed="neither")  # finite and > 0; no upper bound (S5 tries lr 2)
ANNEAL = Interval(float, 0, 1, closed="right")
FLAG = TypeOf(bool, "true or false")


def option(
    default,
    *constraints,
    example=None,
    hint: str = "",
    help: str = "",
    convert=None,
):
    """A config field with its constraints, example, help text and, for ``skip``, its parser."""
    meta = {"constraints": constraints, "example": example, "hint": hint, "help": help, "convert": convert}
    return field(default=default, metadata=meta)


def flag(name: str) -> str:
    """The CLI flag of a config field: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def _hint(f) -> str:
    meta = f.metadata
    if meta["hint"]:
        return meta["hint"]
    return "" if meta["example"] is None else f"; e.g. {flag(f.name)} {meta['example']}"


def constraints(config) -> dict[str, tuple]:
    """``{field: constraints}`` of a config class or instance (scikit-learn's
    ``_parameter_constraints``): what :func:`validate` checks, for help texts and listings."""
    return {f.name: f.metadata["constraints"] for f in fields(config) if "constraints" in f.metadata}


def validate(config) -> None:
    """Check each field of ``config`` (a frozen dataclass built with :func:`option`), in order.

    A field's ``convert`` runs first (``"a,b"`` -> ``("a", "b")``); an item of a list that fails
    is named on its own, with a "did you mean"; integers come out as plain ``int``.
    """
    for f in fields(config):
        if "constraints" not in f.metadata:
            continue
        allowed, hint, convert = f.metadata["constraints"], _hint(f), f.metadata["convert"]
        value = getattr(config, f.name)
        if convert is not None:
            value = convert(value)
            object.__setattr__(config, f.name, value)
        if isinstance(value, list | tuple):
            for c in allowed:
                if isinstance(c, Items):
                    for item in value:
                        check(f.name, item, [c.item], flag=flag(f.name), hint=hint)
        check(f.name, value, allowed, flag=flag(f.name), hint=hint)
        if any(isinstance(c, Interval) and c.kind is int and c.accepts(value) for c in allowed):
            object.__setattr__(config, f.name, operator.index(value))  # NumPy ints as plain ints
    together = getattr(config, "_check_together", None)
    if together is not None:
        together()


def split_names(value) -> Any:
    """``"sklearn, einsum"`` or a sequence of names -> a tuple of distinct names, in order; a
    value that is neither comes back as it is, for the validator to refuse."""
    if value is None:
        return ()
    if isinstance(value, str):
        names = [s.strip() for s in value.split(",")]
    elif isinstance(value, Sequence):
        names = [str(s).strip() for s in value]
    else:
        return value
    return tuple(dict.fromkeys(s for s in names if s))


def skip_option(implementations: Sequence[str]):
    """The ``skip`` field of a study with these implementations (comma-separated on the CLI)."""
    return option(
        (),
        Items(Options(tuple(implementations)), name="comma-separated list"),
        hint=f"; --skip takes comma-separated names, e.g. --skip {implementations[-1]}",
        help=f"Leave out some of {', '.join(implementations)}, e.g. {implementations[-1]}.",
        convert=split_names,
    )


def parse_skip(skip, allowed: Sequence[str]) -> tuple[str, ...]:
    """``"sklearn,einsum"`` or a sequence of names -> a tuple of known implementation names."""
    names = split_names(skip)
    hint = f"; --skip takes comma-separated names, e.g. --skip {allowed[-1]}"
    check("skip", names, [TypeOf(tuple, "a comma-separated list")], flag="--skip", hint=hint)
    for name in names:
        check("skip", name, [Options(tuple(allowed))], flag="--skip", hint=hint)
    return names


def check_something_left(skip: tuple[str, ...], implementations: Sequence[str]) -> None:
    if not set(implementations) - set(skip):
        raise ConfigError(f"--skip {','.join(skip)} leaves nothing to run; skip fewer of them")


# The options every study has, declared once.
def dataset_option():
    return option(
        "auto",
        DATASET,
        hint="; `mnistlab data list` shows them, auto is MNIST or the offline sample",
        help="auto (MNIST when cached or downloadable, else the offline sample), mnist, fashion-mnist, "
        "kmnist or mnist-sample.",
    )


def dtype_option():
    return option("float32", DTYPE, example="float64", help="float32 or float64.")


def seed_option():
    return option(
        0, SEED, example=0, help="Seed of the initial parameters and the batch order, in [0, 2**32)."
    )


def _maybe(constraint, optional: bool) -> tuple:
    return (constraint, NoneOK()) if optional else (constraint,)


def epochs_option(default, *, example=None, optional: bool = False, help: str = ""):
    return option(
        default,
        *_maybe(EPOCHS, optional),
        example=default if example is None else example,
        help=help or f"Epochs, 1 to {MAX_EPOCHS:,} (every epoch's batch order is drawn up front).",
    )


def batch_size_option(default, *, optional: bool = False, help: str = ""):
    return option(
        default,
        *_maybe(BATCH_SIZE, optional),
        example=100,
        help=help or f"Batch size, 1 to {MAX_BATCH_SIZE:,} (the largest training set).",
    )


def rate_option(default, *, example, optional: bool = False, help: str):
    return option(default, *_maybe(RATE, optional), example=example, help=help)


def anneal_option(default, *, optional: bool = False, help: str = ""):
    return option(
        default,
        *_maybe(ANNEAL, optional),
        hint="; the factor lr is multiplied by after each epoch, 1 keeping it constant; e.g. --anneal 0.99",
        help=help or "Factor in (0, 1] applied to the learning rate after each epoch.",
    )


@dataclass(frozen=True)
class Recipe:
    """How one implementation is trained: epochs, batch size, learning rate, per-epoch factor."""

    epochs: int
    batch_size: int
    lr: float
    anneal: float

    def text(self) -> str:
        lr = f"lr {self.lr:g}" + (f" ×{self.anneal:g}/epoch" if self.anneal != 1 else " constant")
        return f"{n_epochs(self.epochs)}, batch {self.batch_size}, {lr}"


def n_epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"
