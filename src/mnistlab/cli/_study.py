"""``mnistlab study``: one command per study, timed, tabulated and saved."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import DataDir, Json, app, command_line, opt, print_json, sub_app, user_errors

study_app = sub_app("Studies: one command per experiment of the course, timed, tabulated and saved.")
app.add_typer(study_app, name="study")

_STUDY_DATASET = (
    "auto (MNIST when cached or downloadable, else the offline sample), mnist, fashion-mnist, kmnist "
    "or mnist-sample."
)
StudyDataset = Annotated[str, typer.Option("--dataset", help=_STUDY_DATASET)]
StudyDtype = Annotated[str, typer.Option("--dtype", help="float32 or float64.")]
StudySeed = Annotated[int, typer.Option("--seed", help="Seed of the initial parameters and the batch order.")]
StudyQuiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines, only the table.")]
StudyOut = Annotated[Path | None, opt("Results folder (default studies/<study>-<time>).", "--out")]


def _show(result, as_json: bool) -> None:
    """The table (a terminal) or results.json's content (``--json``) on stdout."""
    from .. import studies

    if as_json:
        print_json({"out": str(result.out_dir), **result.info})
    else:
        studies.print_summary(result)


@study_app.command("backprop")
@user_errors
def study_backprop(
    dataset: StudyDataset = "auto",
    data_dir: DataDir = None,
    epochs: Annotated[int | None, opt("Epochs (default 3); also sklearn's max_iter.", "--epochs")] = None,
    batch_size: Annotated[
        int | None, opt("Batch size (default 100); sklearn keeps S9's 200.", "--batch-size")
    ] = None,
    lr: Annotated[float | None, opt("Learning rate (default 0.1).", "--lr")] = None,
    anneal: Annotated[
        float | None, opt("Factor in (0, 1] applied to lr after each epoch (default 0.99).", "--anneal")
    ] = None,
    dtype: StudyDtype = "float32",
    seed: StudySeed = 0,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="S9's longer runs: batch 10, annealing 0.9, 12 epochs (numpy, jax); batch 50, annealing "
            "0.98, 20 epochs (jax.grad); 20 sklearn iterations. Long on a CPU.",
        ),
    ] = False,
    einsum_steps: Annotated[
        int,
        typer.Option(
            "--einsum-steps", help="Steps of the per-example einsum form to time, scaled to epochs."
        ),
    ] = 20,
    skip: Annotated[
        str | None,
        opt("Leave out some of numpy, einsum, jax, jax-grad, sklearn, e.g. sklearn,einsum.", "--skip"),
    ] = None,
    out: StudyOut = None,
    quiet: StudyQuiet = False,
    as_json: Json = False,
):
    """Study S9: the [500, 250] ReLU network by hand in NumPy, by hand in JAX, by jax.grad, and
    sklearn's MLPClassifier: training, compile and prediction times, accuracy, learning curves."""
    from .. import studies

    config = studies.BackpropConfig(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        anneal=anneal,
        dtype=dtype,
        seed=seed,
        full=full,
        einsum_steps=einsum_steps,
        skip=studies.parse_skip(skip, studies.IMPLEMENTATIONS),
    )
    result = studies.run_backprop(config, data_dir=data_dir, out=out, quiet=quiet, command=command_line())
    _show(result, as_json)


@study_app.command("logistic")
@user_errors
def study_logistic(
    dataset: StudyDataset = "auto",
    data_dir: DataDir = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs.")] = 5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size.")] = 100,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 0.1,
    anneal: Annotated[
        float, typer.Option("--anneal", help="Factor in (0, 1] applied to lr after each epoch.")
    ] = 0.99,
    dtype: StudyDtype = "float32",
    seed: StudySeed = 0,
    skip: Annotated[str | None, opt("Leave out numpy or jax-grad.", "--skip")] = None,
    out: StudyOut = None,
    quiet: StudyQuiet = False,
    as_json: Json = False,
):
    """S9 follow-up: logistic regression by a hand-written NumPy gradient vs jax.grad (accuracy, speed)."""
    from .. import studies

    config = studies.LogisticConfig(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        anneal=anneal,
        dtype=dtype,
        seed=seed,
        skip=studies.parse_skip(skip, studies.LOGISTIC_IMPLEMENTATIONS),
    )
    result = studies.run_logistic(config, data_dir=data_dir, out=out, quiet=quiet, command=command_line())
    _show(result, as_json)


@study_app.command("optimizers")
@user_errors
def study_optimizers(
    dataset: StudyDataset = "auto",
    data_dir: DataDir = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs.")] = 5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size.")] = 100,
    lr: Annotated[float, typer.Option("--lr", help="SGD's learning rate.")] = 0.1,
    adam_lr: Annotated[float, typer.Option("--adam-lr", help="Adam's learning rate.")] = 0.001,
    anneal: Annotated[
        float, typer.Option("--anneal", help="Factor in (0, 1] applied to both rates after each epoch.")
    ] = 0.99,
    dtype: StudyDtype = "float32",
    seed: StudySeed = 0,
    out: StudyOut = None,
    quiet: StudyQuiet = False,
    as_json: Json = False,
):
    """S9 follow-up: Adam vs SGD on the [500, 250] network from the same start (curves, accuracy)."""
    from .. import studies

    config = studies.OptimizersConfig(
        dataset=dataset,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        adam_lr=adam_lr,
        anneal=anneal,
        dtype=dtype,
        seed=seed,
    )
    result = studies.run_optimizers(config, data_dir=data_dir, out=out, quiet=quiet, command=command_line())
    _show(result, as_json)
