"""The report page: plain HTML with inline CSS and images embedded as data URIs.

Nothing is fetched from anywhere (no fonts, scripts or styles from the network), so the file
opens the same offline, attached to an e-mail or years later. The one inline script only counts
the images that loaded and warns on the page if any did not.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa; --accent: #0969da;
        --good: #1a7f37; --bad: #cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
       max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px;
         margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--bg-soft); }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 12px; color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; }
table.kv th { width: 190px; background: none; color: var(--muted); font-weight: 500; }
code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg-soft); padding: 10px 12px; border-radius: 6px; overflow-x: auto; }
figure { margin: 10px 0 22px; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.pair figure { flex: 1 1 420px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.note { border-left: 4px solid var(--accent); background: #ddf4ff; padding: 8px 12px; margin: 10px 0; }
.warn { border-left: 4px solid var(--bad); background: #ffebe9; padding: 8px 12px; margin: 10px 0; }
.good { color: var(--good); } .bad { color: var(--bad); }
nav ul { margin: 6px 0; padding-left: 20px; }
details { margin: 10px 0; }
"""

# Marks the page with how many images loaded (a test reads it) and says so visibly if any failed.
SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-images-total", imgs.length);
  document.body.setAttribute("data-images-loaded", ok);
  if (ok < imgs.length) {
    var p = document.createElement("p");
    p.className = "warn";
    p.textContent = (imgs.length - ok) + " of " + imgs.length + " images failed to load.";
    document.body.insertBefore(p, document.body.firstChild);
  }
});
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


def image(png: bytes, title: str, caption: str | None = None) -> str:
    """A figure with its PNG embedded, captioned with its title and an optional explanation."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<strong>{esc(title)}.</strong> {esc(caption)}" if caption else f"<strong>{esc(title)}</strong>"
    img = f'<img src="data:image/png;base64,{data}" alt="{esc(title)}">'
    return f"<figure>{img}<figcaption>{cap}</figcaption></figure>"


def cards(items: Iterable[tuple[str, str, str]]) -> str:
    """Key numbers as cards: (label, value, small print)."""
    out = []
    for label, value, sub in items:
        small = f'<div class="sub">{esc(sub)}</div>' if sub else ""
        out.append(
            f'<div class="card"><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}</div>{small}</div>'
        )
    return f'<div class="cards">{"".join(out)}</div>'


def table(header: Sequence[str], rows: Iterable[Sequence], *, numeric: Sequence[bool] | None = None) -> str:
    numeric = list(numeric) if numeric is not None else [False] * len(header)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>"
        for h, n in zip(header, numeric, strict=True)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{esc(c)}</td>' if n else f"<td>{esc(c)}</td>"
            for c, n in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key_values(pairs: Iterable[tuple[str, str]], *, raw: bool = False) -> str:
    """A two-column table; with ``raw`` the values are trusted HTML (already escaped)."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{v if raw else esc(v)}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>'
