"""The app's HTML: the runs page, a study's page, the draw page and error pages.

Plain server-rendered HTML; the scripts (sorting, picking runs to compare, the drawing canvas)
and the stylesheet are files of this package served by the app itself, so the app works offline
and nothing is fetched from anywhere else.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from ._catalog import Entry


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def url(prefix: str, item_id: str) -> str:
    return f"{prefix}/{quote(item_id)}"


def nav(active: str = "") -> str:
    links = [("/", "Runs"), ("/draw", "Draw")]
    items = "".join(
        f'<a href="{href}"{" class=active" if text == active else ""}>{text}</a>' for href, text in links
    )
    return f'<nav class="bar"><strong>mnistlab</strong>{items}</nav>'


def layout(title: str, body: str, *, active: str = "", scripts: tuple[str, ...] = ()) -> str:
    tags = "".join(f'<script src="/static/{s}"></script>' for s in scripts)
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title>{esc(title)}</title>\n<link rel="stylesheet" href="/static/app.css">\n</head>\n'
        f"<body>\n{nav(active)}\n<main>\n{body}\n</main>\n{tags}\n</body>\n</html>\n"
    )


def error_page(status: int, message: str) -> str:
    body = f'<h1>{status}</h1><p class="warn">{esc(message)}</p><p><a href="/">Runs</a></p>'
    return layout(f"{status}", body)


def _pct(v) -> tuple[str, str]:
    return ("", "-1") if v is None else (f"{100 * v:.2f}%", f"{v:.6f}")


def _status(e: Entry) -> str:
    cls = {"completed": "good", "in progress": "busy"}.get(e.status, "bad")
    title = f' title="{esc(e.message)}"' if e.message else ""
    return f'<span class="status {cls}"{title}>{esc(e.status)}</span>'


COLUMNS = ("", "name", "kind", "dataset", "model", "status", "epochs", "final test acc.", "best test acc.",
           "created")  # fmt: skip


def runs_page(entries: list[Entry], roots: list[str]) -> str:
    rows = []
    for e in entries:
        final, final_key = _pct(e.final_test_accuracy)
        best, best_key = _pct(e.best_test_accuracy)
        if e.kind == "study":
            link, pick = url("/study", e.id), ""
        else:
            link = url("/run", e.id)
            pick = (
                f'<input type="checkbox" class="pick" value="{esc(e.id)}" aria-label="compare {esc(e.name)}">'
            )
        inside = f' <span class="muted">in {esc(e.study.split("/")[-1])}</span>' if e.study else ""
        draw = f' <a class="small" href="/draw?run={quote(e.id)}">draw</a>' if e.predictable else ""
        cells = [
            (pick, ""),
            (f'<a href="{link}">{esc(e.name)}</a>{inside}{draw}', e.name.lower()),
            (esc(e.kind), e.kind),
            (esc(e.dataset), e.dataset),
            (esc(e.model), e.model),
            (_status(e), e.status),
            (esc(e.epochs), e.epochs.split(" ")[0].zfill(6) if e.epochs else ""),
            (final, final_key),
            (best, best_key),
            (esc(e.created[:19].replace("T", " ")), e.created),
        ]
        tds = "".join(f'<td data-sort="{esc(key)}">{cell}</td>' for cell, key in cells)
        rows.append(f'<tr data-id="{esc(e.id)}" data-kind="{e.kind}">{tds}</tr>')
    head = "".join(
        f'<th data-col="{i}"{" class=sortable" if i else ""}>{h}</th>' for i, h in enumerate(COLUMNS)
    )
    served = ", ".join(f"<code>{esc(r)}</code>" for r in roots)
    empty = "" if entries else '<p class="note">No run or study folders found here yet.</p>'
    body = (
        f"<h1>Runs and studies</h1><p class=muted>Served from {served}. Click a column to sort; "
        "tick runs and press Compare to overlay their curves.</p>"
        '<p><button id="compare" disabled>Compare</button> <span id="picked" class="muted"></span></p>'
        f'{empty}<table id="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
    return layout("mnistlab runs", body, active="Runs", scripts=("runs.js",))


def study_page(entry: Entry, info: dict, files: list[str], runs: list[Entry]) -> str:
    parts = [f"<h1>Study {esc(entry.name)}</h1>"]
    if entry.message:
        parts.append(f"<p>{esc(entry.message)}</p>")
    parts.append(f"<p class=muted>{_status(entry)} {esc(entry.created)}</p>")
    rows = info.get("rows") if isinstance(info.get("rows"), list) else []
    if rows:
        cols = [c for c in ("name", "label", "status", "test_accuracy", "train_seconds") if c in rows[0]]
        head = "".join(f"<th>{esc(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
            for r in rows
            if isinstance(r, dict)
        )
        parts.append(f"<h2>Results</h2><table><tr>{head}</tr>{body}</table>")
    images = [f for f in files if f.lower().endswith(".png")]
    for f in images:
        parts.append(
            f'<figure><img src="{url("/files", entry.id + "/" + f)}" alt="{esc(f)}">'
            f"<figcaption>{esc(f)}</figcaption></figure>"
        )
    if runs:
        links = "".join(
            f'<li><a href="{url("/run", r.id)}">{esc(r.name)}</a> {_status(r)}</li>' for r in runs
        )
        parts.append(f"<h2>Runs</h2><ul>{links}</ul>")
    others = "".join(f'<li><a href="{url("/files", entry.id + "/" + f)}">{esc(f)}</a></li>' for f in files)
    parts.append(f"<h2>Files</h2><ul>{others}</ul>")
    return layout(f"study {entry.name}", "\n".join(parts), active="Runs")


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def draw_page(entries: list[Entry], selected: str | None) -> str:
    runs = [e for e in entries if e.predictable]
    if not runs:
        body = (
            "<h1>Draw a digit</h1><p class=note>No trained classifier run found in the served folders: "
            "train one first (mnistlab train --dataset mnist-sample --epochs 1 --out runs/first).</p>"
        )
        return layout("mnistlab draw", body, active="Draw")
    chosen = selected if any(e.id == selected for e in runs) else runs[0].id
    options = "".join(
        f'<option value="{esc(e.id)}"{" selected" if e.id == chosen else ""}>'
        f"{esc(e.name)} ({esc(e.model)}, {esc(e.dataset)})</option>"
        for e in runs
    )
    body = f"""<h1>Draw a digit</h1>
<p class=muted>Draw with the mouse, a pen or a finger; the bars show the run's class probabilities for
the 28&times;28 image on the right, made from your drawing as <code>mnistlab predict</code> makes it
(cropped to the ink, scaled to 20 px, centred by mass).</p>
<p><label>Run <select id="run">{options}</select></label>
<button id="clear">Clear</button>
<label class="upload">Upload an image <input type="file" id="upload"
  accept="image/png,image/jpeg,image/bmp,image/gif"></label></p>
<div class="draw">
  <canvas id="pad" width="280" height="280" aria-label="drawing area"></canvas>
  <div><canvas id="seen" width="28" height="28" aria-label="what the model sees"></canvas>
  <div class="muted small">what the model sees</div></div>
  <div class="result"><div id="top" class="top">&nbsp;</div><div id="bars"></div>
  <div id="message" class="muted small"></div></div>
</div>"""
    return layout("mnistlab draw", body, active="Draw", scripts=("draw.js",))
