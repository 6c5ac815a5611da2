"""Command-line options generated from :class:`~mnistlab.runs.TrainConfig`'s declared fields.

The idea of Hugging Face's ``HfArgumentParser``: the config is the one place an option is
declared (flag, help, constraints, group), and ``mnistlab train`` gets its options from it. A new
config field is a new option with no edit here. Values are checked by the config itself (one
validator, one-line messages), not by the parser, so ``--optimizer adma`` gets the same message
as ``TrainConfig(optimizer="adma")``, with its "did you mean".
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from .._errors import ConfigError
from ..runs import MAX_SEEDS, Param, TrainConfig, params

_GROUP_TITLES = {
    "data": "Data",
    "model": "Model",
    "objective": "Objective",
    "optimizer": "Optimizer",
    "loop": "Training loop",
}


def scalar_type(annotation: Any) -> type:
    """``float | None`` -> float; ``tuple[str, ...]`` -> tuple: the type of one command-line value
    (``annotation`` resolved, as ``typing.get_type_hints`` gives it)."""
    if typing.get_origin(annotation) is tuple:
        return tuple
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return typing.get_origin(args[0]) or args[0]


def _help(p: Param, default) -> str:
    text = p.help  # the choices, if any, show as the metavar: --optimizer [sgd|momentum|...]
    if default not in (None, ()) and p.cli != "seeds":
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        text += f" Default: {shown}."
    return text


def ints(flag: str, text: str | None) -> tuple[int, ...] | None:
    """``"1024,128"`` -> ``(1024, 128)``; None stays None; anything else is a one-line error."""
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        values = tuple(int(t) for t in parts)
    except ValueError:
        raise ConfigError(f"{flag} must be comma-separated integers, e.g. 1024,128; got {text!r}") from None
    return values


def seeds(seed: int | None, seeds_text: str | None) -> tuple[int, ...] | None:
    """``--seed S`` and ``--seeds N`` (N seeds from S) or ``--seeds 0,4,7`` (a list)."""
    if seeds_text is None:
        return None if seed is None else (seed,)
    values = ints("--seeds", seeds_text)
    if len(values) == 1 and "," not in seeds_text:  # --seeds N: N seeds counting up from --seed
        if not 1 <= values[0] <= MAX_SEEDS:
            raise ConfigError(
                f"--seeds must be a count in [1, {MAX_SEEDS}] or a list like 0,4,7; got {seeds_text!r}"
            )
        start = 0 if seed is None else seed
        return tuple(range(start, start + values[0]))
    if seed is not None:
        raise ConfigError("give either --seed with --seeds N, or --seeds as a list, not --seed with a list")
    return values


def config_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per command-line field of the config, annotated for Typer."""
    out = []
    defaults = {f.name: f.default for f in TrainConfig.__dataclass_fields__.values()}
    hints = typing.get_type_hints(TrainConfig)
    for name, p in params().items():
        if not p.cli:
            continue
        panel = _GROUP_TITLES[p.group]
        help_text = _help(p, defaults[name])
        if p.cli == "seeds":
            out.append(
                _param("seed", int, "Seed of initialisation and shuffling (default 0).", panel, "--seed")
            )
            out.append(
                _param(
                    "seeds",
                    str,
                    "N seeds counting up from --seed, or a list 0,4,7: trained in one program.",
                    panel,
                    "--seeds",
                    metavar="N|S1,S2,..",
                )
            )
            continue
        flag = p.flag or "--" + name.replace("_", "-")
        kind = {"ints": str, "bool": bool}.get(p.cli) or scalar_type(hints[name])
        out.append(_param(name, kind, help_text, panel, flag, metavar=p.metavar))
    return out


class ConfigCommand(TyperCommand):
    """A command whose choice options show their choices (``--model [softmax|mlp|...]``).

    The choices come from the registries (models, optimizers), which import Flax and Optax, so
    they are read when this command's help or parsing needs them, not when ``mnistlab`` starts:
    ``mnistlab --help`` and ``mnistlab data list`` stay fast.
    """

    def get_params(self, ctx):
        if not getattr(self, "_choices_shown", False):
            declared = params()
            for param in self.params:
                p = declared.get(param.name)
                if p is not None and p.metavar is None and p.choices():
                    param.metavar = "[" + "|".join(map(str, p.choices())) + "]"
            self._choices_shown = True
        return super().get_params(ctx)


def _param(name: str, kind: type, help_text: str, panel: str, flag: str, metavar=None) -> inspect.Parameter:
    option = typer.Option(flag, help=help_text, show_default=False, rich_help_panel=panel, metavar=metavar)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind | None, option]
    )


def given_config(values: dict[str, Any]) -> dict[str, Any]:
    """The config fields the user gave on the command line, parsed (lists, seeds), None left out."""
    fields = params()
    given = {}
    for name, value in values.items():
        if name in fields and fields[name].cli == "ints":
            value = ints(fields[name].flag or "--" + name.replace("_", "-"), value)
        if name in fields and value is not None:
            given[name] = value
    picked = seeds(values.get("seed"), values.get("seeds"))
    if picked is not None:
        given["seeds"] = picked
    return given


def with_parameters(parameters: list[inspect.Parameter]) -> Callable[[Callable], Callable]:
    """Give a command function ``parameters`` as its signature (Typer reads it); the function
    receives them all as keyword arguments."""

    def decorate(fn: Callable) -> Callable:
        fn.__signature__ = inspect.Signature(parameters)
        fn.__annotations__ = {p.name: p.annotation for p in parameters}
        return fn

    return decorate


def with_config_options(extra: list[inspect.Parameter]) -> Callable[[Callable], Callable]:
    """The config's options (then ``extra``) as a command's signature."""
    return with_parameters([*config_parameters(), *extra])
