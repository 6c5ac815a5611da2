"""``mnistlab export``: a trained classifier as StableHLO or ONNX, checked against mnistlab before writing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._status import Status
from ._app import DataDir, Json, Quiet, app, opt, print_json, user_errors


@app.command("export")
@user_errors
def export_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder written by mnistlab train.", show_default=False)
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="stablehlo (jax.export: reloads with JAX alone) or onnx (pip install 'mnistlab[onnx]').",
        ),
    ] = "stablehlo",
    out: Annotated[
        Path | None,
        opt("File to write (default: <run>/export/model.stablehlo or model.onnx).", "--out"),
    ] = None,
    data_dir: DataDir = None,
    no_check: Annotated[
        bool,
        typer.Option(
            "--no-check",
            help="Write without first running the file on the run's test set (e.g. that data is absent).",
        ),
    ] = False,
    as_json: Json = False,
    quiet: Quiet = False,
):
    """Export a trained classifier: uint8 images (batch, 28, 28) in, class probabilities out, the
    run's preprocessing and seed ensemble built in; <file>.json beside it records input, output,
    class names, preprocessing and versions."""
    from ..export import export

    with Status(quiet=quiet) as status:  # one phase: tracing, converting and checking take seconds
        status(f"export: {format}" + ("" if no_check else ", checked on the run's test set"))
        res = export(run_dir, format, out, data_dir=data_dir, check_test=not no_check)
    if as_json:
        print_json({"path": str(res.path), "sidecar": str(res.sidecar), **res.info})
        return
    typer.echo(f"wrote {res.path} and {res.sidecar.name}")
    check = res.info["check"]
    if check:
        typer.echo(
            f"checked against mnistlab on the {check['examples']:,} test images of {check['dataset']}: "
            f"argmax agreement {100 * check['argmax_agreement']:.2f}%, "
            f"max abs difference of the probabilities {check['max_abs_diff']:.2g}"
        )
