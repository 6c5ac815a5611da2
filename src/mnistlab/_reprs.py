"""How results show themselves in a notebook: one short line for ``repr``, a small table for
Jupyter's ``_repr_html_``. Shared, so every object's table looks and escapes the same."""

from __future__ import annotations

import html
from collections.abc import Iterable


def html_rows(rows: Iterable[tuple[str, str]], *, css_class: str = "mnistlab") -> str:
    """``[(label, value), ...]`` as a two-column HTML table, every cell escaped."""
    cells = "".join(
        f'<tr><th style="text-align:left">{html.escape(str(k))}</th>'
        f'<td style="text-align:left">{html.escape(str(v))}</td></tr>'
        for k, v in rows
    )
    return f'<table class="{html.escape(css_class)}">{cells}</table>'
