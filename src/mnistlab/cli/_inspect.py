"""``mnistlab evaluate``, ``predict`` and ``report``: look at a finished run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._checks import Interval, check
from .._errors import ConfigError
from .._status import Status
from ._app import DataDir, Json, Quiet, app, opt, print_json, user_errors

# Upper bounds of the size options: far above what a page or a table can show, low enough that a
# typo (--bins 1000000000) is one line at once instead of a multi-GiB allocation.
MAX_EXAMPLES = 1_000
MAX_BINS = 1_000
MAX_INITS = 10_000
MAX_TOP = 1_000
PROGRESS_FROM = 100  # images: predict shows its phases on stderr from this many


def check_sizes(**values) -> None:
    """Each ``--name``: an integer in [1, its MAX_...] (``--inits`` may be 0: none)."""
    bounds = {"examples": MAX_EXAMPLES, "bins": MAX_BINS, "inits": MAX_INITS, "top": MAX_TOP}
    for name, value in values.items():
        if value is None:
            continue
        low = 0 if name == "inits" else 1
        if value < low:
            raise ConfigError(f"--{name} must be >= {low}; got {value}")
        check(name, value, [Interval(int, None, bounds[name])], flag=f"--{name}")


@app.command("evaluate")
@user_errors
def evaluate_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder written by mnistlab train.", show_default=False)
    ],
    dataset: Annotated[
        str | None, opt("Score on this dataset instead of the run's own.", "--dataset")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="train or test.")] = "test",
    data_dir: DataDir = None,
    examples: Annotated[
        int,
        typer.Option(
            "--examples", help=f"Example images to find per class (and per S8 row), 1 to {MAX_EXAMPLES}."
        ),
    ] = 8,
    bins: Annotated[
        int, typer.Option("--bins", help=f"Equal-width bins of the calibration error, 1 to {MAX_BINS}.")
    ] = 15,
    no_train: Annotated[
        bool, typer.Option("--no-train", help="Skip the losses of the run's training examples.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print every result as JSON.")] = False,
    quiet: Quiet = False,
):
    """Score a trained run over every example of a split: loss, accuracy, per-class precision and
    recall, top-k accuracy, calibration (binary models: ROC AUC), and the highest-loss training examples."""
    from ..evaluate import evaluate_run

    check_sizes(examples=examples, bins=bins)
    with Status(quiet=quiet) as status:
        res = evaluate_run(
            run_dir,
            dataset=dataset,
            split=split,
            data_dir=data_dir,
            examples=examples,
            bins=bins,
            train=not no_train,
            progress=lambda text: status(f"evaluate: {text}"),
        ).metrics.to_json()
    if as_json:
        print_json(res)
        return
    typer.echo("\n".join(_evaluation_lines(res, split)))


def _evaluation_lines(res: dict, split: str) -> list[str]:
    def pct(v) -> str:
        return "n/a" if v is None else f"{100 * v:.2f}%"

    lines = [
        f"{res['title']} {split} split, {res['examples']:,} examples, epoch {res['epoch']} of {res['run']}"
    ]
    lines.append(f"loss {res['loss']:.4f}")
    if "accuracy" not in res:
        return lines
    seeds = len(res["seeds"])
    spread = f" ± {100 * res['accuracy_std']:.2f} over {seeds} seeds" if seeds > 1 else ""
    lines.append(f"accuracy {100 * res['accuracy']:.2f}%{spread}")
    if "ensemble_accuracy" in res:
        lines.append(f"ensemble of the seeds: {100 * res['ensemble_accuracy']:.2f}%")
    width = max(14, *(len(name) for name in res["per_class"]))
    header = ("examples", 8), ("predicted", 9), ("accuracy", 8), ("precision", 9), ("recall", 8)
    lines.append(f"  {'class':<{width}} " + " ".join(f"{h:>{w}}" for h, w in header))
    for name, pc in res["per_class"].items():
        lines.append(
            f"  {name:<{width}} {pc['examples']:>8,} {pc['predicted']:>9,} {pct(pc['accuracy']):>8} "
            f"{pct(pc['precision']):>9} {pct(pc['recall']):>8}"
        )
    if res.get("top_k_accuracy"):
        lines.append(
            "top-k accuracy: " + ", ".join(f"top-{k} {pct(v)}" for k, v in res["top_k_accuracy"].items())
        )
    cal = res["calibration"]
    lines.append(f"expected calibration error {pct(cal['ece'])} ({len(cal['bins'])} bins)")
    b = res.get("binary")
    if b:
        auc = "n/a (one class only)" if b["roc_auc"] is None else f"{b['roc_auc']:.4f}"
        lines.append(
            f"positive class {b['positive_class']}: accuracy at threshold {b['threshold']} "
            f"{pct(b['accuracy'])}, ROC AUC {auc}"
        )
    if res.get("ensemble"):
        lines.append(f"per-class, top-k, calibration and the rest: the ensemble of the {seeds} seeds")
    hl = res.get("highest_loss_train")
    if hl and hl["k"]:
        head = f"the {hl['k']} training examples with the highest loss"
        if hl["mislabelled_fraction"] is not None:
            lines.append(
                f"{head}: {100 * hl['mislabelled_fraction']:.0f}% mislabelled "
                f"(base rate {100 * hl['base_rate']:.0f}%)"
            )
        else:
            lines.append(
                f"{head} (of {hl['examples']:,}): loss {hl['losses'][0]:.3f} down to {hl['losses'][-1]:.3f}"
            )
    return lines


@app.command("predict")
@user_errors
def predict_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder written by mnistlab train.", show_default=False)
    ],
    images: Annotated[
        list[Path], typer.Argument(help="PNG/JPEG/BMP/GIF or .npy images, any size.", show_default=False)
    ],
    invert: Annotated[
        str,
        typer.Option(
            "--invert",
            help="auto, yes or no: white-on-black is expected; auto inverts images with a light border.",
        ),
    ] = "auto",
    center: Annotated[
        bool,
        typer.Option(
            "--center/--no-center", help="Crop, scale and centre the ink like MNIST (default) or only resize."
        ),
    ] = True,
    top: Annotated[
        int, typer.Option("--top", help=f"How many classes to show per image (at most {MAX_TOP}).")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    quiet: Quiet = False,
):
    """Class probabilities for image files, with the run's preprocessing (28 x 28 grayscale)."""
    from ..evaluate import predict_files

    inv = {"auto": "auto", "yes": True, "no": False}.get(invert)
    if inv is None:
        raise ConfigError(f"--invert must be one of auto, yes, no; got {invert!r}")
    check_sizes(top=top)
    # Progress only for many images: one image is answered before a line would help.
    with Status(quiet=quiet or len(images) < PROGRESS_FROM) as status:
        results = predict_files(
            run_dir, images, invert=inv, center=center, progress=lambda text: status(f"predict: {text}")
        )
    if as_json:
        print_json(results)
        return
    for r in results:
        ranked = sorted(r["probabilities"].items(), key=lambda kv: -kv[1])[:top]
        shown = ", ".join(f"{name} {100 * p:.1f}%" for name, p in ranked)
        typer.echo(f"{r['path']}: {r['prediction']} ({shown}){'  [inverted]' if r['inverted'] else ''}")


# --- report -----------------------------------------------------------------------------------


@app.command("report")
@user_errors
def report_cmd(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(help="One or more run folders written by mnistlab train.", show_default=False),
    ],
    out: Annotated[
        Path | None,
        opt(
            "HTML file to write (default: <run>/report.html for one run, ./report.html for several).", "--out"
        ),
    ] = None,
    data_dir: DataDir = None,
    examples: Annotated[
        int, typer.Option("--examples", help=f"Images per class in the galleries, 1 to {MAX_EXAMPLES}.")
    ] = 8,
    inits: Annotated[
        int | None,
        opt(
            f"Random initialisations to histogram, 0 to {MAX_INITS} (default: 100 for binary models, "
            "else none).",
            "--inits",
        ),
    ] = None,
    figures: Annotated[
        Path | None, opt("Also keep every figure as PNG and SVG in this folder.", "--figures")
    ] = None,
    as_json: Json = False,
    quiet: Quiet = False,
):
    """Write one self-contained HTML report (images embedded, readable offline) on one or more runs."""
    from ..report import write_report

    check_sizes(examples=examples, inits=inits)
    with Status(quiet=quiet) as status:
        path = write_report(
            run_dirs,
            out,
            data_dir=data_dir,
            examples=examples,
            inits=inits,
            figures_dir=figures,
            progress=lambda text: status(f"report: {text}"),
        )
    if as_json:
        print_json({"report": str(path), "runs": [str(r) for r in run_dirs]})
    else:
        typer.echo(f"wrote {path}")
