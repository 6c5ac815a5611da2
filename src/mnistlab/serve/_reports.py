"""The run page and the comparison: built by :func:`mnistlab.report.write_report` (the very page
``mnistlab report`` writes) and by :func:`mnistlab.plots.compare_curves`, kept while the run's
files are unchanged.

A report is written to a private temporary folder and read back: the served folders are only
read, never written (they may be read-only, or another user's).
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from .._errors import MnistlabError

CACHED_PAGES = 16
STAMPED = ("run.json", "metrics.jsonl", "params.npz", "checkpoint.npz", "config.toml")
CURVES = (
    ("test_accuracy", "Test accuracy"),
    ("validation_accuracy", "Validation accuracy"),
    ("train_loss", "Training loss"),
    ("test_loss", "Test loss"),
)


def _stamp(path: Path) -> tuple:
    out = []
    for name in STAMPED:
        try:
            out.append((path / name).stat().st_mtime_ns)
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


class Reports:
    """Report pages by run folders, rebuilt when a run's files change (a run still training)."""

    def __init__(self, *, data_dir=None, size: int = CACHED_PAGES):
        self.data_dir = data_dir
        self.size = size
        self._pages: OrderedDict[tuple, str] = OrderedDict()
        # One build at a time: each evaluates a model and draws a dozen figures on a 2-core CPU.
        self._lock = threading.Lock()

    def report(self, paths: list[Path]) -> str:
        """``mnistlab report``'s HTML for ``paths`` (one run, or several compared)."""
        from ..report import write_report

        key = tuple((str(p), _stamp(p)) for p in paths)
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
            with tempfile.TemporaryDirectory(prefix="mnistlab-serve-") as tmp:
                out = write_report(paths, Path(tmp) / "report.html", data_dir=self.data_dir)
                page = out.read_text(encoding="utf-8")
            self._pages[key] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
            return page


# The report page has its own stylesheet; the app's bar on top of it needs these few rules.
NAV_CSS = (
    "nav.bar { display: flex; gap: 18px; align-items: center; padding: 8px 0 10px; margin-bottom: 8px;"
    " border-bottom: 1px solid #d1d9e0; } nav.bar a { color: #0969da; text-decoration: none; }"
)


def with_nav(page: str, nav: str) -> str:
    """The report page with the app's navigation bar at the top of its body."""
    page = page.replace("</head>", f"<style>{NAV_CSS}</style>\n</head>", 1)
    return page.replace("<body>\n", f"<body>\n{nav}\n", 1)


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v) or "(none)"
    return str(v)


def comparison(named: dict[str, Path]) -> tuple[list[tuple[str, list[str]]], list[tuple[str, str]], list]:
    """What the comparison shows for runs ``{label: folder}``: the config fields whose values differ
    (``[(field, [value per run])]``), the overlaid curves (``[(title, PNG base64)]``) and, for each
    run it could not read, ``(label, reason)``."""
    from .. import plots
    from ..runs import RunDir

    configs, records, problems = {}, {}, []
    for label, path in named.items():
        try:
            run = RunDir.open(path)
            configs[label] = run.config.as_dict()
            records[label] = run.metrics()
        except MnistlabError as exc:
            problems.append((label, str(exc)))
    keys = []
    for c in configs.values():
        keys.extend(k for k in c if k not in keys)
    differ = [
        (k, [_value(c.get(k, "")) for c in configs.values()])
        for k in keys
        if len({repr(c.get(k)) for c in configs.values()}) > 1
    ]
    figures = []
    have = {k for epochs in records.values() for r in epochs for k in r}
    runs = {label: epochs for label, epochs in records.items() if epochs}
    for metric, title in CURVES:
        if metric in have and runs:
            try:
                fig = plots.compare_curves(runs, metric=metric, title=f"{title} per epoch, {len(runs)} runs")
            except MnistlabError:
                continue
            figures.append((title, _png(fig)))
    return differ, figures, problems


def comparison_html(labels: list[str], differ, figures, problems) -> str:
    esc = html.escape
    parts = []
    for label, reason in problems:
        parts.append(f'<p class="warn">{esc(label)}: {esc(reason)}</p>')
    parts.append("<h2>Config differences</h2>")
    if differ:
        head = "".join(f"<th>{esc(label)}</th>" for label in labels if label not in dict(problems))
        rows = "".join(
            f"<tr><th>{esc(k)}</th>{''.join(f'<td>{esc(v)}</td>' for v in values)}</tr>"
            for k, values in differ
        )
        parts.append(f'<table id="differences"><tr><th>field</th>{head}</tr>{rows}</table>')
    else:
        parts.append("<p>The configs are the same in every field.</p>")
    parts.append("<h2>Learning curves</h2>")
    for title, png in figures:
        parts.append(
            f'<figure><img src="data:image/png;base64,{png}" alt="{esc(title)}">'
            f"<figcaption>{esc(title)}</figcaption></figure>"
        )
    if not figures:
        parts.append("<p>No epoch has finished in these runs yet.</p>")
    return "\n".join(parts)
