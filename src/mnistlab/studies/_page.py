"""The study's ONE self-contained HTML page: question, settings, comparison table, verdicts,
figures (PNG embedded as data URIs, nothing fetched), built with the report package's blocks."""

from __future__ import annotations

import io
import math

from ._verdict import NOISE_RULE, mean_std, tally

FIGURE_DPI = 90
QUICK_DPI = 50  # --quick is a smoke test: rendering is a good part of its seconds


def png(fig, dpi: int = FIGURE_DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def pct(v, std=None) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    text = f"{100 * v:.2f}%"
    return text + (f" ± {100 * std:.2f}" if std else "")


def _final(run, metric: str) -> tuple[float | None, float | None]:
    curve = run.curve(metric)
    if not curve or all(v is None for v in curve[-1]):
        return None, None
    return mean_std(curve[-1])


def run_rows(runs: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", "status", "epochs", "seeds", "test acc (last)", "train acc (last)", "what was done"]
    rows = []
    for run in runs.values():
        test, test_s = _final(run, "test_accuracy")
        tr, tr_s = _final(run, "train_eval_accuracy")
        if tr is None:
            tr, tr_s = _final(run, "train_accuracy")
        rows.append(
            [
                run.label,
                str(run.info.get("status", "")),
                str(len(run.records)),
                str(len(run.config.seeds)),
                pct(test, test_s),
                pct(tr, tr_s),
                run.action,
            ]
        )
    return header, rows


def verdict_rows(verdicts: list[dict], labels: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", "metric", "epoch", "ours (mean ± std)", "reference", "difference", "2 sigma", "verdict"]
    rows = []
    for v in verdicts:
        ref = v["reference_text"]
        diff = "—" if v["difference"] is None else f"{100 * v['difference']:+.2f} pts"
        two_sigma = "—" if v["sigma"] is None else f"{200 * v['sigma']:.2f} pts"
        seeds = f" ({v['seeds']} seeds)" if v["seeds"] > 1 else ""
        rows.append(
            [
                labels.get(v["run"], v["run"]),
                v["metric"],
                str(v["epoch"]) if v.get("step") is None else f"{v['epoch']} (step {v['step']:,})",
                pct(v["ours"], v["std"]) + seeds,
                ref,
                diff,
                two_sigma,
                v["verdict"],
            ]
        )
    return header, rows


def render(
    info: dict, study, runs: dict, figures: list, analysis_table=None, *, dpi: int = FIGURE_DPI
) -> str:
    from ..report import html_escape, html_image, html_key_values, html_page, html_table

    esc = html_escape
    parts = [
        f"<h1>{esc(study.number)} {esc(study.name)}</h1>",
        f"<p><strong>Question.</strong> {esc(study.question)}</p>",
        f"<p class='muted'>{esc(study.shows)}</p>",
    ]
    s = info["settings_text"]
    kv = [("settings", s), ("dataset", info.get("dataset_title", "")), ("initialisation", study.init or "—")]
    kv += [("command", info.get("command") or "—"), ("created", info.get("created", ""))]
    parts.append(html_key_values(kv))
    if info.get("notice"):
        parts.append(f"<p class='note'>{esc(info['notice'])}</p>")
    for gap in study.gaps:
        parts.append(f"<p class='warn'>Gap: {esc(gap)}</p>")
    parts.append("<h2>Comparison</h2>")
    if runs:
        header, rows = run_rows(runs)
        parts.append(html_table(header, rows, numeric=[False, False, True, True, True, True, False]))
    if analysis_table:
        header, rows = analysis_table
        parts.append(html_table(header, rows, numeric=[False] + [True] * (len(header) - 1)))
    parts.append(f"<h2 id='verdicts'>Reference numbers: {esc(tally(info['verdicts']))}</h2>")
    if info["verdicts"]:
        labels = {name: r.label for name, r in runs.items()}
        header, rows = verdict_rows(info["verdicts"], labels)
        parts.append(html_table(header, rows, numeric=[False, False, True, True, False, True, True, False]))
        parts.append(f"<p class='muted'>{esc(NOISE_RULE)}</p>")
    else:
        parts.append("<p class='muted'>studies.md lists no reference numbers for this study.</p>")
    parts.append("<h2>Figures</h2>")
    for title, fig, caption in figures:
        parts.append(html_image(png(fig, dpi), title, caption))
    return html_page(f"{study.number} {study.name}", "\n".join(parts))
