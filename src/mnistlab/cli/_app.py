"""The root ``mnistlab`` app and what every command shares: errors, exit codes, output, options.

Exit codes (also in ``mnistlab --help``): 0 success; 1 a runtime failure (a dataset or file
missing or damaged, a diverged run: :class:`~mnistlab.DataError` and the like); 2 a usage error
(a bad option value or name, an unwritable output path, a damaged run folder:
:class:`~mnistlab.ConfigError`); 130 interrupted (Ctrl-C). Every
:class:`~mnistlab.MnistlabError` becomes ONE line on stderr, ``error: ...``, never a traceback;
anything else is a bug and keeps its traceback.

Output that a person reads in a terminal uses Rich; piped into another program it is plain rows
that are never cut to the terminal's width (``mnistlab data list | grep fashion`` works).
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from .._compile_cache import use_compile_cache
from .._errors import ConfigError, MnistlabError, NoSpaceError
from .._fs import DISK_FULL

EXIT_CODES = (
    "Exit codes: 0 success; 1 runtime failure (a dataset or file missing or damaged, a full disk, "
    "a diverged run); 2 usage error (a bad option value or name, an unwritable output path, a "
    "damaged run folder); 130 interrupted."
)
ENVIRONMENT = (
    "Environment: MNISTLAB_DATA_DIR (the dataset cache), MNISTLAB_OFFLINE=1 (never touch the network), "
    "MNISTLAB_COMPILE_CACHE=0 (compile every program afresh) or a folder for the compiled programs."
)

app = typer.Typer(
    name="mnistlab",
    help="Train, evaluate and inspect neural-network classifiers on MNIST-family data with JAX.",
    epilog=f"{EXIT_CODES} {ENVIRONMENT}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def sub_app(help_text: str, cls: type | None = None) -> typer.Typer:
    """A command group (``mnistlab data``, ``mnistlab study``) with the root's conventions;
    ``cls``: the group's own click class (``mnistlab study`` builds its commands lazily)."""
    return typer.Typer(
        cls=cls,
        help=help_text,
        epilog=EXIT_CODES,
        no_args_is_help=True,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="MNISTLAB_DATA_DIR",
        help="Cache root holding <dataset>/<file>.gz (default: $MNISTLAB_DATA_DIR, else the user cache).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


def opt(help_text: str, *names: str, **kw):
    """A ``typer.Option`` that shows no default (the help text says it where it matters)."""
    return typer.Option(*names, help=help_text, show_default=False, **kw)


def exit_code(exc: MnistlabError) -> int:
    """2 for a usage error (a bad value the user can fix on the command line), else 1."""
    return 2 if isinstance(exc, ConfigError) else 1


def _refuse_repeats() -> None:
    """Refuse an option that takes one value given twice (``--skip numpy --skip einsum``): Click
    would keep the last one and silently drop the first."""
    try:  # Typer's own copy of Click (its options are TyperOption), as in main()
        from typer._click.globals import get_current_context
        from typer.core import TyperOption as Option
    except ImportError:
        from click import Option, get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return
    for param in ctx.command.params:
        if not isinstance(param, Option) or param.multiple or param.is_flag or getattr(param, "count", False):
            continue
        names = [n for n in param.opts + param.secondary_opts if n.startswith("--")]
        values = [
            a.split("=", 1)[1] if "=" in a else (_ARGV[i + 1] if i + 1 < len(_ARGV) else "")
            for i, a in enumerate(_ARGV)
            if a in names or any(a.startswith(f"{n}=") for n in names)
        ]
        if len(values) > 1:
            name = names[0]
            raise ConfigError(
                f"{name} was given {len(values)} times ({', '.join(values)}); give it once (an option "
                f"that takes a list takes it comma-separated: {name} {','.join(values)})"
            )


def user_errors(fn):
    """Turn a :class:`MnistlabError` raised by the library into one line on stderr and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            _refuse_repeats()
            if kwargs.get("data_dir") is None:
                return fn(*args, **kwargs)
            from ..data import cache_in_use  # datasets imported into --data-dir count as known names

            with cache_in_use(kwargs["data_dir"]):
                return fn(*args, **kwargs)
        except MnistlabError as exc:
            sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
            raise typer.Exit(exit_code(exc)) from None
        except KeyboardInterrupt:  # training handles its own (it saves and says how to resume)
            sys.stderr.write("interrupted\n")
            raise typer.Exit(130) from None
        except OSError as exc:  # a full disk under a writer that is not ours (a copy, a figure)
            if exc.errno not in DISK_FULL:
                raise
            full = NoSpaceError(exc.filename or "a file", errno_=exc.errno, reason=exc.strerror or "")
            sys.stderr.write(f"error: {full}\n")
            raise typer.Exit(1) from None

    return wrapper


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def print_json(obj) -> None:
    """Strict JSON (no NaN: null instead) on stdout."""
    from ..runs import finite

    typer.echo(json.dumps(finite(obj), indent=2, allow_nan=False, default=str))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Rich table on a terminal; tab-separated rows (header first, cells whole) when piped."""
    if not sys.stdout.isatty():
        for row in (columns, *rows):
            typer.echo("\t".join(str(c).replace("\n", ", ") for c in row))
        return
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*map(str, row))
    console().print(table)


_ARGV: list[str] = []


def command_line() -> str:
    """The command as the user typed it (recorded in run.json and study.json)."""
    return shlex.join(["mnistlab", *_ARGV])


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"mnistlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True),
    ] = False,
):
    """Train, evaluate and inspect neural-network classifiers on MNIST-family data with JAX."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mnistlab`` script; returns the exit code.

    Click's own usage errors (an option that does not exist, ``--epochs 1e23`` for an integer)
    become one line too, like every other bad value, instead of a usage block.
    """
    try:  # Typer vendors its own copy of Click (typer._click); older Typers use Click itself
        from typer._click import exceptions as cx
    except ImportError:
        from click import exceptions as cx

    _ARGV[:] = sys.argv[1:] if argv is None else list(argv)
    if _ARGV[:1] != ["speedrun"]:  # a speedrun is timed from a cold start: it compiles everything
        use_compile_cache()  # before any command imports JAX
    try:
        code = app(args=argv, prog_name="mnistlab", standalone_mode=False)
    except cx.NoArgsIsHelpError as exc:  # `mnistlab data`: the help is the answer
        exc.show()
        return exc.exit_code
    except cx.ClickException as exc:
        sys.stderr.write(f"error: {_usage_line(exc)}\n")
        return exc.exit_code
    except typer.Abort:  # Ctrl-C or end of input at a prompt
        sys.stderr.write("interrupted\n")
        return 130
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return code if isinstance(code, int) else 0


def _usage_line(exc) -> str:
    """A Click error as one line, with where to read the usage: ``...; see mnistlab train --help``."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    return f"{message}; see {ctx.command_path} --help" if ctx is not None else message
