"""``mnistlab study list`` and ``mnistlab study run NAME`` (the twelve studies of studies.md),
and ``mnistlab study NAME``: one command per implementation comparison (S9 and its follow-ups),
its options from its config.

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
from typer.core import TyperGroup

from .._checks import Options
from ._app import (
    DataDir,
    Json,
    app,
    command_line,
    opt,
    print_json,
    print_table,
    sub_app,
    user_errors,
)
from ._params import scalar_type, with_parameters


class _StudyGroup(TyperGroup):
    """``mnistlab study``, whose per-study commands are built on first use.

    Building them reads every study's config, which imports the studies (NumPy, the data layer):
    a tenth of a second that ``mnistlab --help``, ``data list`` or ``train`` should not pay. The
    group adds them when it is asked for its commands, i.e. only under ``mnistlab study``.
    """

    _loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            extra = sub_app("")  # the root's conventions (plain help, -h)
            _register_all(extra)
            for name, command in typer.main.get_group(extra).commands.items():
                self.commands.setdefault(name, command)

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands:
            self._load()
        return super().get_command(ctx, cmd_name)


study_app = sub_app(
    "Studies: one command per experiment of the course, timed, tabulated and saved.", cls=_StudyGroup
)
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


def _register(study, into: typer.Typer) -> None:
    hints = typing.get_type_hints(study.config)
    fields = [f for f in dataclasses.fields(study.config) if "constraints" in f.metadata]

    def command(**options):
        data_dir, out, quiet, as_json = (options.pop(k) for k in ("data_dir", "out", "quiet", "as_json"))
        config = study.config(**{k: v for k, v in options.items() if v is not None})
        result = study.run(config, data_dir=data_dir, out=out, quiet=quiet, command=command_line())
        _show(result, as_json)

    command.__name__ = f"study_{study.name.replace('-', '_')}"
    with_parameters([_option(f, hints[f.name]) for f in fields] + _EXTRA)(command)
    into.command(study.name, help=study.question)(user_errors(command))
    for alias in study.aliases:  # `mnistlab study s9` runs `backprop`; listed once, under its name
        into.command(alias, help=study.question, hidden=True)(user_errors(command))


def _register_all(into: typer.Typer) -> None:
    from ..studies import STUDIES

    for study in STUDIES:
        _register(study, into)


@study_app.command("list")
@user_errors
def study_list(as_json: Json = False) -> None:
    """The twelve studies: name, S-number, what each shows, its runs, the estimated time on a
    2-core CPU and the datasets with reference numbers."""
    from ..studies import listing

    rows = listing()
    if as_json:
        print_json(rows)
        return
    cells = [
        [
            r["name"],
            r["number"],
            r["shows"],
            "; ".join(r["runs"]),
            _duration(r["estimate_seconds"]),
            ", ".join(r["reference_datasets"]) or "none",
        ]
        for r in rows
    ]
    header = ["name", "S", "shows", "runs", "est. time (2-core CPU)", "reference numbers for"]
    print_table("studies (mnistlab study run NAME)", header, cells)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


@study_app.command("run")
@user_errors
def study_run(
    name: Annotated[str, typer.Argument(help="A study's name or S-number (mnistlab study list).")],
    dataset: Annotated[
        str | None, opt("Dataset for every run (default auto: MNIST, else the sample).", "--dataset")
    ] = None,
    seeds: Annotated[int | None, opt("Seeds 0..N-1 for every run (default: the study's).", "--seeds")] = None,
    epochs: Annotated[int | None, opt("Epochs for every run (default: the study's).", "--epochs")] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Tiny nets, one epoch on mnist-sample: a smoke test.")
    ] = False,
    out: Annotated[Path | None, opt("Study folder (default studies/<name>-<time>).", "--out")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the study in --out (default: the newest of its name).")
    ] = False,
    data_dir: DataDir = None,
    as_json: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Run one study into one folder: its runs, study.json and report.html (verdict per reference)."""
    from .. import studies

    result = studies.run(
        name,
        dataset=dataset,
        seeds=seeds,
        epochs=epochs,
        quick=quick,
        out=out,
        resume=resume,
        data_dir=data_dir,
        quiet=quiet,
        command=command_line(),
    )
    if as_json:
        print_json({"out": str(result.out_dir), "report": str(result.report), **result.info})
        return
    rows = [
        [v["run"], v["metric"], str(v["epoch"]), _pct(v["ours"]), v["reference_text"], v["verdict"]]
        for v in result.verdicts
    ]
    if rows:
        print_table(
            f"{result.study}: reference numbers",
            ["run", "metric", "epoch", "ours", "reference", "verdict"],
            rows,
        )
    typer.echo(f"{result.study}: {result.info.get('verdict_summary', '')}; report: {result.report}")


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"
