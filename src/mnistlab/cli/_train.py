"""``mnistlab train``: parse into a config, then call :func:`mnistlab.train.train` (or ``resume``).

Like Flax's MNIST example, the entry point only parses and calls the library. Its options come
from the config's declared fields (``_params.py``); the ones here are about the run folder and
the output, not about training.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Annotated

import typer

from .._errors import ConfigError
from ._app import DataDir, Json, app, command_line, opt, print_json, user_errors
from ._devices import Coordinator, NumProcesses, ProcessId, start_processes
from ._params import ConfigCommand, given_config, with_config_options

_TRAIN_HELP = """Train a model and save the run (config, metrics, checkpoints, parameters) in a folder.

With no options: the default CNN on MNIST when it is cached or can be downloaded, otherwise on the
bundled 5,000-image MNIST sample (and it says so). Every option is checked before any data is
loaded. Exit code 0 when training finished (or a callback of the Python API stopped it), 1 when
it diverged (the run is saved and says where), 2 for a bad option, 130 when interrupted (resume
with --resume RUN_DIR)."""

_RUN = "Run folder"


def _extra(name: str, annotation, default=None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


_EXTRA = [
    _extra("data_dir", DataDir),
    _extra(
        "out",
        Annotated[
            Path | None,
            opt("Run folder (default runs/<time>-<model>-<dataset>).", "--out", rich_help_panel=_RUN),
        ],
    ),
    _extra(
        "resume",
        Annotated[Path | None, opt("Continue the run in this folder.", "--resume", rich_help_panel=_RUN)],
    ),
    _extra(
        "config",
        Annotated[
            Path | None,
            opt(
                "Start from this config.toml (options given here override it).",
                "--config",
                rich_help_panel=_RUN,
            ),
        ],
    ),
    _extra(
        "quiet", Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final summary.")], False
    ),
    _extra(
        "report",
        Annotated[
            bool,
            typer.Option("--report", help="Write <run>/report.html (mnistlab report) when training ends."),
        ],
        False,
    ),
    _extra(
        "tensorboard",
        Annotated[
            bool,
            typer.Option(
                "--tensorboard",
                help="Also write TensorBoard event files into <run>/tensorboard/ (step losses, epoch "
                "metrics, learning rate, weight images, confusion matrix, hyperparameters); "
                "needs the tensorboard extra.",
            ),
        ],
        False,
    ),
    _extra("as_json", Json, False),
    _extra("coordinator", Coordinator),
    _extra("num_processes", NumProcesses),
    _extra("process_id", ProcessId),
]


@app.command("train", help=_TRAIN_HELP, cls=ConfigCommand)
@user_errors
@with_config_options(_EXTRA)
def train_cmd(**options):
    from .. import train as T

    data_dir, out, resume, config, quiet, report, tensorboard, as_json = (
        options.pop(k)
        for k in ("data_dir", "out", "resume", "config", "quiet", "report", "tensorboard", "as_json")
    )
    start_processes(*(options.pop(k) for k in ("coordinator", "num_processes", "process_id")))
    given = given_config(options)
    if resume is not None:
        where = {"epochs", "devices", "mesh"}
        extra = sorted(set(given) - where) + (["config"] if config else []) + (["out"] if out else [])
        if extra:
            raise ConfigError(
                f"--resume continues a run with its own config; only --epochs may be given with it "
                f"(and --devices, --mesh: where it runs), "
                f"got {', '.join('--' + e.replace('_', '-') for e in extra)}"
            )
        result = T.resume(
            resume,
            epochs=given.get("epochs"),
            devices=given.get("devices"),
            mesh=given.get("mesh"),
            data_dir=data_dir,
            quiet=quiet,
            command=command_line(),
            tensorboard=tensorboard,
        )
    else:
        base = T.load_toml(config).as_dict() if config else {}
        cfg = T.from_dict({**base, **given}, source=str(config) if config else "options")
        result = T.train(
            cfg, data_dir=data_dir, out=out, quiet=quiet, command=command_line(), tensorboard=tensorboard
        )
    from ..parallel import is_primary

    if not is_primary():  # several processes: process 0 reports (and writes) for all
        return
    if tensorboard and result.status in ("completed", "stopped"):
        from ..tensorboard import log_confusion_matrix

        log_confusion_matrix(result.run_dir, data_dir=data_dir)
    report_path = None
    if report and result.status != "interrupted":
        from ..report import write_report

        report_path = write_report([result.run_dir], data_dir=data_dir)
    if as_json:
        print_json(
            {
                "run": str(result.run_dir),
                "status": result.status,
                "message": result.message,
                "summary": result.summary,
                **({"report": str(report_path)} if report_path else {}),
            }
        )
    else:
        typer.echo(summary_line(result))
        if result.summary.get("health_message"):  # stuck at chance or blown up: why, and what to try
            sys.stderr.write(f"warning: {result.summary['health_message']}\n")
        if report_path:
            typer.echo(f"report {report_path}")
    if result.status == "diverged":
        sys.stderr.write(f"error: {result.message}; the run is saved in {result.run_dir}\n")
        raise typer.Exit(1)
    if result.status == "interrupted":
        sys.stderr.write(f"{result.message}\n")
        raise typer.Exit(130)
    if result.status == "stopped":  # asked for (a callback), so a success: exit 0
        sys.stderr.write(f"{result.message}\n")


def summary_line(result) -> str:
    """``run DIR; test accuracy 97.46% after 10 epochs (best ...); 5.1 s training ...``"""
    s = result.summary
    parts = [f"run {result.run_dir}"]
    outcome = result.outcome()
    if outcome and "best_test_accuracy" in s:
        outcome += f" (best {100 * s['best_test_accuracy']:.2f}% at epoch {s['best_epoch']})"
    if outcome:
        parts.append(outcome)
    if "train_seconds" in s:
        parts.append(
            f"{s['train_seconds']:.1f} s training ({s['mean_epoch_seconds']:.2f} s/epoch) "
            f"+ {s['compile_seconds']:.1f} s compiling"
        )
    return "; ".join(parts)
