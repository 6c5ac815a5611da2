"""A study's results folder, figure and table.

Results folder (every file written atomically, ``results.json`` last)::

    results.json   config, one record per implementation (timings, accuracies, curves),
                   versions, device, dataset, the reference numbers where the study has some
    results.csv    the table, one row per implementation
    curves.csv     the learning curves, one row per implementation and epoch
    curves.png     the learning curves (also curves.svg)

The figure is drawn on a ``matplotlib.figure.Figure`` of its own: no pyplot, no backend switch,
so a notebook's backend is left alone.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

from .._errors import ConfigError
from .._fs import atomic_write_bytes, check_writable
from ._runner import Comparison, StudyResult

RESULT_FILES = ("results.json", "results.csv", "curves.csv", "curves.png", "curves.svg")
FIGURE_DPI = 100


def _comparison(study: str, comparison: Comparison | None) -> Comparison:
    """The given comparison, else the registered study's: a results.json read back names its study."""
    if comparison is not None:
        return comparison
    from ._registry import get_study

    return get_study(study).comparison


# --- the folder ------------------------------------------------------------------------------


def check_out(out) -> None:
    """Refuse an ``out`` that is a file, cannot be written (``/proc/x``, a read-only mount) or
    already holds results, before any work is done."""
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; give a folder for the results")
    check_writable(path, what="--out", folder=True)
    if (path / "results.json").exists():
        raise ConfigError(f"--out {path} already holds results (results.json); choose another --out")


def default_out(study: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("studies") / f"{study}-{stamp}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    return path


TABLE_COLUMNS = (
    "name",
    "label",
    "epochs",
    "batch_size",
    "lr",
    "anneal",
    "status",
    "scaled",
    "compile_seconds",
    "train_seconds",
    "seconds_per_epoch",
    "predict_seconds",
    "test_accuracy",
    "final_train_accuracy",
    "final_train_cross_entropy",
)
CURVE_COLUMNS = ("epoch", "lr", "seconds", "train_accuracy", "train_cross_entropy", "test_accuracy")


def results_csv(info: dict) -> bytes:
    from ..runs import csv_bytes

    lines = [list(TABLE_COLUMNS)]
    for r in info["rows"]:
        values = {**r, **r["recipe"], "epochs": r.get("epochs_done", r["recipe"]["epochs"])}
        lines.append(["" if values.get(c) is None else values[c] for c in TABLE_COLUMNS])
    return csv_bytes(lines)


def curves_csv(info: dict) -> bytes:
    from ..runs import csv_bytes

    lines = [["name", *CURVE_COLUMNS]]
    for r in info["rows"]:
        c = r["curves"]
        for i in range(len(c.get("epoch", []))):
            lines.append([r["name"], *(c[k][i] if k in c else "" for k in CURVE_COLUMNS)])
    return csv_bytes(lines)


def save_results(info: dict, out, study: str, *, comparison: Comparison | None = None) -> Path:
    """Write the results folder (``out``, default ``studies/<study>-<time>``), each file atomically
    and results.json last. If any file fails, those already written are removed again, so the
    folder never holds a partial set."""
    from ..runs import write_json

    out_dir = Path(out) if out is not None else default_out(study)
    check_out(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    figure: list = []  # drawn once, for the PNG, and saved again as SVG

    def save_figure(path: Path) -> None:
        if not figure:
            figure.append(plot_curves(info, comparison=_comparison(info["study"], comparison)))
        save_figure_bytes(figure[0], path)

    writers: list[tuple[str, Callable[[Path], object]]] = [
        ("curves.png", save_figure),
        ("curves.svg", save_figure),
        ("results.csv", lambda p: atomic_write_bytes(p, results_csv(info))),
        ("curves.csv", lambda p: atomic_write_bytes(p, curves_csv(info))),
        ("results.json", lambda p: write_json(p, {**info, "out_dir": str(out_dir)})),
    ]
    written: list[Path] = []
    try:
        for name, write in writers:
            write(out_dir / name)
            written.append(out_dir / name)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    return out_dir


# --- the figure ------------------------------------------------------------------------------


def save_figure_bytes(fig, path: str | os.PathLike) -> Path:
    """Save ``fig`` to ``path`` (its suffix names the format) atomically: rendered in memory,
    then written beside the target and renamed, so an interrupted save leaves nothing behind."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".").lower(), dpi=FIGURE_DPI)
    atomic_write_bytes(path, buf.getvalue())
    return path


def plot_curves(info: dict, path: str | os.PathLike | None = None, *, comparison: Comparison | None = None):
    """The learning curves of every implementation that has them, one panel per quantity.

    Returns the ``matplotlib.figure.Figure`` (shown inline in a notebook); saves it too when
    given a ``path`` (``.png``, ``.svg`` or ``.pdf``).
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = _comparison(info["study"], comparison).panels
    width = 5.2 * len(panels)
    fig = Figure(figsize=(width, 4.4), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)
    # Implementations that agree draw the same line: dashes and shrinking widths keep each visible.
    styles = [("-", "o", 3.0), ("--", "s", 2.2), (":", "D", 1.6), ("-.", "^", 1.4), ("-", "v", 1.2)]
    plotted = [r for r in info["rows"] if r["curves"]]
    # Name each line's recipe when they differ (--full, sklearn), so no curve is read against another's.
    same_recipe = len({r["recipe_text"] for r in plotted}) <= 1
    last_epoch = max(max(r["curves"]["epoch"]) for r in plotted) if plotted else 1
    for ax, (key, label, log) in zip(axes[0], panels, strict=True):
        values = []
        for i, r in enumerate(row for row in plotted if row["curves"].get(key)):
            c = r["curves"]
            ls, marker, lw = styles[i % len(styles)]
            name = r["label"] if same_recipe else f"{r['label']}: {r['recipe_text']}"
            ax.plot(c["epoch"], c[key], ls=ls, marker=marker, lw=lw, ms=4, label=name)
            values += [v for v in c[key] if v is not None and math.isfinite(v) and v > 0]
        if last_epoch <= 12:
            ax.set_xticks(range(1, last_epoch + 1))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, last_epoch + 0.5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if values:
            low, high = min(values), max(values)
            if log and high > 3 * low:  # a log axis only where the values span a range worth it
                ax.set_yscale("log")
            elif high - low < 0.01 * high:
                # Values that agree to 1% would fill the axis with their rounding differences.
                ax.set_ylim(0.98 * low, 1.02 * high)
        ax.grid(True, alpha=0.3)
        where = "all training images" if key.startswith("train") else "all test images"
        ax.set_title(f"{label} ({where}, after each epoch)", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    # Below the panels: inside, it would hide the curves it names.
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    # About 16 characters of 9-point text per inch: wrap rather than run off the figure.
    fig.suptitle(textwrap.fill(info["title"], int(width * 16)), fontsize=9)
    if path is not None:
        save_figure_bytes(fig, path)
    return fig


# --- the table -------------------------------------------------------------------------------


def _fmt_seconds(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _fmt_pct(v) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"


def _fmt_ce(v) -> str:
    return "—" if v is None else f"{v:.4f}"


# The table's middle columns a study may choose (Comparison.columns): header, cell of a row.
COLUMNS: dict[str, tuple[str, Callable[[dict], str]]] = {
    "predict": ("predict s (test)", lambda r: _fmt_seconds(r.get("predict_seconds"))),
    "train_ce": ("train CE", lambda r: _fmt_ce(r["final_train_cross_entropy"])),
    "train_acc": ("train acc", lambda r: _fmt_pct(r["final_train_accuracy"])),
}


def render_table(result: StudyResult):
    """The study's table as a Rich ``Table``: one row per implementation, the notes below it."""
    from rich.table import Table

    info = result.info
    comparison = _comparison(result.study, result.comparison)
    columns = [COLUMNS[c] for c in comparison.columns]
    table = Table(title=info["title"], caption="\n".join(info["notes"]), caption_justify="left")
    table.add_column("implementation")
    table.add_column("recipe")
    for header in ("compile s", "training s", "s/epoch", *(h for h, _ in columns)):
        table.add_column(header, justify="right")
    table.add_column("test acc", justify="right")
    for r in info["rows"]:
        recipe = comparison.recipe_cell(r) if comparison.recipe_cell else r["recipe_text"]
        if r["status"] == "diverged":
            recipe += " — diverged"
        approx = "≈ " if r["scaled"] else ""
        table.add_row(
            r["label"],
            recipe,
            _fmt_seconds(r["compile_seconds"]),
            approx + _fmt_seconds(r["train_seconds"]),
            approx + _fmt_seconds(r["seconds_per_epoch"]),
            *(cell(r) for _, cell in columns),
            _fmt_pct(r.get("test_accuracy")),
        )
    return table


def table_html(result: StudyResult) -> str:
    """The table as self-contained HTML (a notebook's ``_repr_html_``)."""
    from rich.console import Console

    console = Console(record=True, width=160, file=io.StringIO())
    console.print(render_table(result))
    return console.export_html(inline_styles=True, code_format="<pre style='font-size:12px'>{code}</pre>")


def print_summary(result: StudyResult, console=None) -> None:
    """The table on stdout, and where the results were saved."""
    import sys

    from rich.console import Console

    # Piped or captured output would get Rich's 80 columns, too narrow for seven columns of numbers.
    con = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    con.print(render_table(result))
    if result.out_dir is not None:
        con.print(f"results in {result.out_dir}: {', '.join(RESULT_FILES)}", markup=False)
