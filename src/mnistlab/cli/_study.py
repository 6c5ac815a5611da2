"""``mnistlab study NAME``: one command per study of the registry, its options from its config.

Each study declares its options once, as fields of its config dataclass (default, constraints,
help: ``studies/_config.py``); the commands here are generated from :data:`mnistlab.studies.STUDIES`,
so a new study is runnable from the command line with no edit here, and its options are checked
by its config (one line, a "did you mean") before any data is loaded.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path
from typing import Annotated

import typer

from .._checks import Options
from ._app import DataDir, Json, app, command_line, opt, print_json, sub_app, user_errors
from ._params import scalar_type, with_parameters

study_app = sub_app("Studies: one command per experiment of the course, timed, tabulated and saved.")
app.add_typer(study_app, name="study")

_EXTRA = [
    inspect.Parameter("data_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DataDir),
    inspect.Parameter(
        "out",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[Path | None, opt("Results folder (default studies/<study>-<time>).", "--out")],
    ),
    inspect.Parameter(
        "quiet",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines, only the table.")],
    ),
    inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Json),
]


def _option(f: dataclasses.Field, hint) -> inspect.Parameter:
    """A command-line option for one config field: its flag, help, choices and default."""
    from ..studies import flag

    kind = scalar_type(hint)
    choices = next((c.values() for c in f.metadata["constraints"] if isinstance(c, Options)), ())
    if kind is bool:  # an on-flag (--full), off by default
        option = typer.Option(flag(f.name), help=f.metadata["help"])
        return inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=Annotated[bool, option]
        )
    if kind is tuple:  # a list of names, given as "a,b" (the config parses it)
        kind = str
    shown = f.default not in (None, ())
    metavar = "[" + "|".join(map(str, choices)) + "]" if choices and kind is str else None
    option = typer.Option(flag(f.name), help=f.metadata["help"], show_default=shown, metavar=metavar)
    default = f.default if shown else None
    return inspect.Parameter(
        f.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind | None, option]
    )


def _show(result, as_json: bool) -> None:
    """The table (``--json``: results.json's content) on stdout."""
    from .. import studies

    if as_json:
        print_json({"out": str(result.out_dir), **result.info})
    else:
        studies.print_summary(result)


def _register(study) -> None:
    hints = typing.get_type_hints(study.config)
    fields = [f for f in dataclasses.fields(study.config) if "constraints" in f.metadata]

    def command(**options):
        data_dir, out, quiet, as_json = (options.pop(k) for k in ("data_dir", "out", "quiet", "as_json"))
        config = study.config(**{k: v for k, v in options.items() if v is not None})
        result = study.run(config, data_dir=data_dir, out=out, quiet=quiet, command=command_line())
        _show(result, as_json)

    command.__name__ = f"study_{study.name.replace('-', '_')}"
    with_parameters([_option(f, hints[f.name]) for f in fields] + _EXTRA)(command)
    study_app.command(study.name, help=study.question)(user_errors(command))
    for alias in study.aliases:  # `mnistlab study s9` runs `backprop`; listed once, under its name
        study_app.command(alias, help=study.question, hidden=True)(user_errors(command))


def _register_all() -> None:
    from ..studies import STUDIES

    for study in STUDIES:
        _register(study)


_register_all()
