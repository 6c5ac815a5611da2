"""``mnistlab data``: list, fetch, inspect, show and import datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .._checks import Interval, check
from .._errors import ConfigError, MnistlabError
from .._fs import check_writable
from ._app import DataDir, Json, app, console, print_json, print_table, sub_app, user_errors

data_app = sub_app("Datasets: list, fetch, inspect, show and import them.")
app.add_typer(data_app, name="data")

Name = Annotated[
    str, typer.Argument(help="A dataset name, as `mnistlab data list` shows them.", show_default=False)
]


@data_app.command("list")
@user_errors
def data_list(data_dir: DataDir = None, as_json: Json = False):
    """The datasets, built in and imported: classes, sizes, whether they are here, and their sources."""
    from .. import data

    rows = []
    for info in data.datasets(data_dir):
        rows.append(
            {
                "name": info.name,
                "title": info.title,
                "classes": info.num_classes,
                "train": info.split_sizes["train"],
                "test": info.split_sizes["test"],
                "image": "x".join(map(str, info.image_shape)),
                "available": data.status(info, data_dir),
                "sources": list(info.sources),
            }
        )
    if as_json:
        print_json({"cache": str(data.resolve_data_dir(data_dir)), "datasets": rows})
        return
    columns = ("name", "title", "classes", "train", "test", "image", "available", "sources")
    cells = [
        [r["name"], r["title"], r["classes"], f"{r['train']:,}", f"{r['test']:,}", r["image"],
         r["available"], "\n".join(r["sources"])]
        for r in rows
    ]  # fmt: skip
    print_table(f"Datasets (cache: {data.resolve_data_dir(data_dir)})", columns, cells)


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
    from .. import data

    records = data.fetch(name, data_dir=data_dir, mirrors=mirror, timeout=timeout, progress=not quiet)
    info = data.get_info(name, data_dir=data_dir)
    con = console()
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
    from .. import data

    info = data.get_info(name, data_dir=data_dir)
    if split:
        summaries = [data.summarize(data.load(name, info.check_split(split), data_dir=data_dir))]
        unavailable = {}
    else:  # every split that is here; a missing one is reported, not fatal, unless all are
        summaries, unavailable = [], {}
        for s in info.split_sizes:
            try:
                summaries.append(data.summarize(data.load(name, s, data_dir=data_dir)))
            except MnistlabError as exc:
                # A split whose files are all here but fail their checks is damaged, not missing:
                # an error, never a "not available" line (nor a split silently left out of --json).
                if data.split_present(info, s, data_dir):
                    raise
                unavailable[s] = str(exc)
        if not summaries:
            raise MnistlabError(next(iter(unavailable.values())))
    if as_json:
        typer.echo(json.dumps(summaries if len(summaries) > 1 else summaries[0], indent=2))
        return
    from rich.table import Table

    con = console()
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

    from .. import data, plots

    info = data.get_info(name, data_dir=data_dir)
    info.check_split(split)
    if not 1 <= n <= 400:
        raise ConfigError(f"--n must be between 1 and 400; got {n}")
    check("seed", seed, [Interval(int, 0, 2**32 - 1)], flag="--seed")  # what NumPy's generator takes
    out = plots.check_figure_path(out or Path(f"{name}-{split}.png"))
    check_writable(out, what="--out", folder=False)  # before the data is read, not after
    ds = data.load(name, split, data_dir=data_dir)
    n = min(n, len(ds))
    pick = np.random.default_rng(seed).choice(len(ds), size=n, replace=False)
    plots.sample_grid(
        ds.images[pick],
        ds.labels[pick],
        ds.class_names,
        out,
        title=f"{ds.title}, {split} split: {n} random images (seed {seed})",
    )
    console().print(f"{ds.title}: wrote {n} {split} images to {out}")


@data_app.command("import")
@user_errors
def data_import(
    directory: Annotated[Path, typer.Argument(help="Folder holding IDX files (gzip or raw).")],
    name: Annotated[
        str,
        typer.Option(
            "--name",
            help="mnist, fashion-mnist or kmnist (checked against their published checksums), or a "
            "new name for a dataset of your own (any image size and class count), e.g. my-digits.",
        ),
    ],
    classes: Annotated[
        str | None,
        typer.Option(
            "--classes",
            help='Your dataset\'s class names, one per label 0, 1, ..., e.g. "cat,dog,bird" '
            "(default: 0, 1, ... up to the largest label).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDir = None,
):
    """Validate a folder of IDX files and copy them into the cache.

    A name of your own registers your dataset: the folder must hold train-images-idx3-ubyte,
    train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz);
    then every command takes --dataset NAME.
    """
    from .. import data

    records, missing = data.import_dir(directory, name, data_dir=data_dir, classes=classes)
    con = console()
    for r in records:
        con.print(f"imported {Path(r.path).name} (verified by {r.verified_by})")
    info = data.get_info(name, data_dir=data_dir)
    if info.imported_from:
        h, w = info.image_shape
        con.print(
            f"{info.title}: {info.num_classes} classes ({', '.join(info.class_names[:10])}"
            f"{', ...' if info.num_classes > 10 else ''}), {h}x{w} images, "
            f"{info.split_sizes['train']:,} train / {info.split_sizes['test']:,} test; "
            f"use it with --dataset {info.name}"
        )
    if missing:
        con.print(
            f"{info.title}: {len(records)} of {len(info.files)} files imported; "
            f"not in {directory}: {', '.join(missing)}"
        )
    else:
        con.print(f"{info.title}: all {len(records)} files imported into {Path(records[0].path).parent}")
