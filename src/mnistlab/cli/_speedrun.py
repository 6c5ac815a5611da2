"""``mnistlab speedrun``: the speedrun recipe, timed from process start to the scored run.

Why its own command rather than ``mnistlab train --config``: the point is the clock. The recipe
itself is an ordinary model and config (``mnistlab train --config`` runs it the same way, see
:mod:`mnistlab.speedrun`); this command adds the stopwatch, the target and the verdict.
Every part of the wait is measured: Python and the CLI starting, importing JAX and mnistlab,
loading the data and building the run (with the parameters' initialisation), compiling, training,
scoring, and writing the run folder. Nothing is cached between processes, so each run is cold.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from ._app import DataDir, Json, app, command_line, console, opt, print_json, user_errors

_HELP = """Train the speedrun recipe and say how long it took from process start to a scored run.

The recipe (a small CNN, see `mnistlab train --config` with the shipped configs) is chosen on a
validation split; the test set only scores the finished run. The seconds printed are from the
start of this process: start-up, imports, data, compilation, training and evaluation, each part
and the total. Exit code 0 whether or not the target was reached (the output says which)."""

_T0 = time.perf_counter()  # when the CLI module was imported: the fallback for the process start


def process_seconds() -> float:
    """Seconds since this process started (Linux: from /proc, so Python's own start-up counts;
    elsewhere since the CLI was imported)."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T0


@app.command("speedrun", help=_HELP)
@user_errors
def speedrun_cmd(
    dataset: Annotated[
        str,
        opt("mnist, fashion-mnist or mnist-sample (the MNIST recipe on the bundled sample).", "--dataset"),
    ] = "mnist",
    seed: Annotated[int, opt("Seed of initialisation and shuffling.", "--seed")] = 0,
    target: Annotated[
        float | None,
        opt(
            "Test accuracy to reach, as a fraction (default 0.99 for mnist, 0.91 for fashion-mnist).",
            "--target",
        ),
    ] = None,
    epochs: Annotated[
        int | None, opt("Train this many epochs instead of the recipe's (for quick checks).", "--epochs")
    ] = None,
    data_dir: DataDir = None,
    out: Annotated[Path | None, opt("Run folder (default runs/<time>-speedrun-<dataset>).", "--out")] = None,
    as_json: Json = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
):
    started = process_seconds()
    from .._checks import Interval, check
    from .._fs import check_writable

    # Checked before anything heavy is imported or any file is written.
    if target is not None:
        check("target", target, (Interval(float, 0.0, 1.0),), flag="--target")
    if epochs is not None:
        check("epochs", epochs, (Interval(int, 1, 1000),), flag="--epochs")
    if out is not None:
        check_writable(out, what="--out", folder=True)
    t = time.perf_counter()
    import jax  # noqa: F401  (timed on its own: it is most of the import)

    from .. import speedrun

    imported = time.perf_counter() - t
    recipe = speedrun.speedrun_config(dataset, seed=seed, epochs=epochs)
    config = speedrun.score_once(recipe, data_dir=data_dir)  # the test set scored at the end only
    goal = speedrun.default_target(dataset) if target is None else target
    show = console(stderr=True)
    if not quiet:
        show.print(
            f"speedrun: {config.model} on {dataset}, {recipe.epochs} epoch{'s' * (recipe.epochs != 1)} "
            f"({config.steps:,} steps), seed {seed}"
            + (f", target {100 * goal:.1f}%" if goal is not None else ""),
            highlight=False,
        )
    result, run_seconds = speedrun.timed_run(
        config, data_dir=data_dir, out=out, quiet=quiet or as_json, console=show, command=command_line()
    )
    record = speedrun.speedrun_record(
        result,
        run_seconds=run_seconds,
        startup=started,
        imported=imported,
        target=goal,
        total=process_seconds(),
        epochs=recipe.epochs,
    )
    speedrun.write_record(result.run_dir, record)
    if as_json:
        print_json(record)
    else:
        typer.echo(speedrun.describe(record))
    if result.status == "diverged":
        sys.stderr.write(f"error: {result.message}; the run is saved in {result.run_dir}\n")
        raise typer.Exit(1)
    if result.status == "interrupted":
        sys.stderr.write(f"{result.message}\n")
        raise typer.Exit(130)
