"""Parameter constraints declared as data, checked by one validator.

The idea is scikit-learn's ``_parameter_constraints``: a parameter's allowed values are written
down once, next to the parameter (a config field, a model option, an optimizer argument), as a
list of constraints; :func:`check` accepts a value when ANY of them holds and otherwise raises a
:class:`~mnistlab.ConfigError` whose one line names the parameter (and its CLI flag), what is
allowed, what it got and, for a near-miss of a name, what was probably meant::

    lr (--lr) must be a number > 0; got -1
    optimizer (--optimizer) must be one of sgd, momentum, ...; got 'adma' (did you mean 'adam'?)

Constraints are small frozen objects with ``accepts(value)`` and ``describe()``, so the same
declaration also feeds the CLI's help text and choices and the README's tables.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

from ._errors import ConfigError


def _is_int(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _is_real(value) -> bool:
    """A finite-or-not real number: Python and NumPy scalars and 0-d real arrays; never a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Real):
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is None or getattr(value, "shape", None) != ():
        return False
    return getattr(dtype, "kind", "") in ("i", "u", "f")


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class Interval:
    """A number between ``low`` and ``high`` (``None`` = unbounded); ``kind`` int or float.

    ``closed`` says which ends belong to the interval, as in scikit-learn. Floats must be finite;
    ints accept anything with ``__index__`` (NumPy integers) but never a bool.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def accepts(self, value) -> bool:
        if self.kind is int or self.kind is Integral:
            if not _is_int(value):
                return False
            x = operator.index(value)
        else:
            if not _is_real(value) or not math.isfinite(float(value)):
                return False
            x = float(value)
        low_in, high_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and (x < self.low or (x == self.low and not low_in)):
            return False
        return self.high is None or x < self.high or (x == self.high and high_in)

    def describe(self) -> str:
        what = "an integer" if self.kind in (int, Integral) else "a number"
        lo_in = self.closed in ("both", "left")
        if what == "an integer" and self.low in (0, 1) and lo_in:
            what = "a positive integer" if self.low == 1 else "a non-negative integer"
            hi_in = self.closed in ("both", "right")
            return what if self.high is None else f"{what} {'<=' if hi_in else '<'} {_fmt(self.high)}"
        hi_in = self.closed in ("both", "right")
        if self.low is None and self.high is None:
            return what if what == "an integer" else "a finite number"
        if self.high is None:
            return f"{what} {'>=' if lo_in else '>'} {_fmt(self.low)}"
        if self.low is None:
            return f"{what} {'<=' if hi_in else '<'} {_fmt(self.high)}"
        return f"{what} in {'[' if lo_in else '('}{_fmt(self.low)}, {_fmt(self.high)}{']' if hi_in else ')'}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values; ``choices`` may be a callable, read when checked (a registry)."""

    choices: Sequence[Any] | Callable[[], Sequence[Any]]

    def values(self) -> tuple:
        return tuple(self.choices() if callable(self.choices) else self.choices)

    def accepts(self, value) -> bool:
        try:
            return value in self.values()
        except TypeError:  # an unhashable value compared with strings
            return False

    def describe(self) -> str:
        return f"one of {', '.join(map(str, self.values()))}"


@dataclass(frozen=True)
class NoneOK:
    """``None``: "not given", i.e. the default that depends on the other parameters."""

    def accepts(self, value) -> bool:
        return value is None

    def describe(self) -> str:
        return "unset"


@dataclass(frozen=True)
class TypeOf:
    """An instance of ``kind`` (e.g. ``bool``, ``str``), described as ``name``."""

    kind: type | tuple[type, ...]
    name: str

    def accepts(self, value) -> bool:
        return isinstance(value, self.kind)

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class Items:
    """A sequence (list or tuple) whose items each satisfy ``item``, with optional length bounds."""

    item: Any
    min_len: int = 0
    max_len: int | None = None
    distinct: bool = False
    name: str = "list"

    def accepts(self, value) -> bool:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return False
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            return False
        if self.distinct and len(set(value)) != len(value):
            return False
        return all(self.item.accepts(v) for v in value)

    def problem(self, value) -> str | None:
        """What is wrong with a sequence of valid items ("distinct", "at most 8 items"), else None."""
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            return None
        if not all(self.item.accepts(v) for v in value):
            return None
        if self.distinct and len(set(value)) != len(value):
            return "be distinct"
        if len(value) < self.min_len:
            return f"have at least {self.min_len} item{'s' if self.min_len > 1 else ''}"
        if self.max_len is not None and len(value) > self.max_len:
            return f"have at most {self.max_len} items"
        return None

    def describe(self) -> str:
        parts = [f"a {self.name} of {_plural(self.item.describe())}"]
        if self.distinct:
            parts.append("distinct")
        if self.min_len and self.max_len is not None:
            parts.append(f"{self.min_len} to {self.max_len} items")
        elif self.min_len:
            parts.append(f"at least {self.min_len} item{'s' if self.min_len > 1 else ''}")
        elif self.max_len is not None:
            parts.append(f"at most {self.max_len} items")
        return ", ".join(parts)


@dataclass(frozen=True)
class Deferred:
    """The constraints another module declares, read when first needed (not at import).

    A config declares ``lr`` by pointing at the optimizer package's own constraints, so the value
    is checked by ONE declaration, while importing the config stays as light as the CLI needs
    (reading them imports Optax).
    """

    load: Callable[[], Sequence]

    def _constraints(self) -> Sequence:
        return self.load()

    def accepts(self, value) -> bool:
        return any(c.accepts(value) for c in self._constraints())

    def describe(self) -> str:
        return describe(self._constraints())


def _plural(description: str) -> str:
    """ "a positive integer <= 8" -> "positive integers <= 8" (the items of a list)."""
    for article in ("an ", "a "):
        if description.startswith(article):
            description = description[len(article) :]
            break
    for noun in ("integer", "number", "string"):
        if f"{noun} " in f"{description} ":
            return f"{description} ".replace(f"{noun} ", f"{noun}s ", 1).strip()
    return description


def did_you_mean(value, choices: Iterable) -> str:
    """`` (did you mean 'x'?)`` for a string close to one of ``choices``, else ``""``."""
    if not isinstance(value, str):
        return ""
    names = [c for c in choices if isinstance(c, str)]
    close = difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def label(param: str, flag: str | None = None) -> str:
    """How messages name a parameter: ``lr (--lr)`` when it has a flag, else ``lr``."""
    return f"{param} ({flag})" if flag else param


def describe(constraints: Sequence) -> str:
    """What the constraints allow, in words: ``a number > 0 or unset``."""
    return " or ".join(c.describe() for c in constraints)


def check(param: str, value, constraints: Sequence, *, flag: str | None = None, hint: str = ""):
    """Return ``value`` if any constraint accepts it, else raise a one-line :class:`ConfigError`.

    ``hint`` is appended to the message (e.g. "; e.g. --widths 512,256"). A string that nearly
    matches an :class:`Options` choice gets a "did you mean".
    """
    if any(c.accepts(value) for c in constraints):
        return value
    problems = [p for c in constraints if (p := getattr(c, "problem", lambda v: None)(value))]
    if problems:  # the value has the right form but breaks one rule: say just that rule
        raise ConfigError(f"{label(param, flag)} must {problems[0]}; got {value!r}{hint}")
    choices = [v for c in constraints if isinstance(c, Options) for v in c.values()]
    raise ConfigError(
        f"{label(param, flag)} must be {describe(constraints)}; got {value!r}"
        f"{did_you_mean(value, choices)}{hint}"
    )


def check_params(
    params: Mapping[str, Any], constraints: Mapping[str, Sequence], flags: Mapping[str, str] | None = None
) -> None:
    """Check every parameter of ``params`` that has constraints; the first failure raises."""
    flags = flags or {}
    for name, allowed in constraints.items():
        if name in params:
            check(name, params[name], allowed, flag=flags.get(name))


__all__ = [
    "Deferred",
    "Interval",
    "Items",
    "NoneOK",
    "Options",
    "TypeOf",
    "check",
    "check_params",
    "describe",
    "did_you_mean",
    "label",
]
