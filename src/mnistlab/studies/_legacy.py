"""S9 (``backprop``) and its follow-ups (``logistic``, ``optimizers``) in the shape of every study.

They compare implementations rather than train runs (:mod:`._runner`), and keep their own
commands and options (``mnistlab study backprop --full ...``). ``studies.run("backprop", ...)``
and ``mnistlab study run backprop`` map the common options onto their configs (``--quick``: one
epoch on the sample, a few einsum steps), write their results folder as before, and add the same
``study.json`` and ``report.html`` as every study, with a verdict per S9 reference number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigError
from .._fs import atomic_write_bytes
from ._execute import REPORT_HTML, STUDY_JSON, check_settings, default_out, write_study_json
from ._verdict import NOISE_RULE, OFF, WITHIN, tally


@dataclass(frozen=True)
class ComparisonStudy:
    """A registered implementation comparison (:class:`~._registry.Study`) with a catalog entry."""

    name: str
    number: str
    shows: str
    legacy: Any  # the _registry.Study
    estimate: float
    quick: dict
    reference_dataset: str = "mnist"
    init: str = "s9: W = 4.9 (U[0,1) - 0.5) init_range / sqrt(fan_in + fan_out), b = 0"
    gaps: tuple[str, ...] = ()
    figures: tuple[str, ...] = ("curves",)

    @property
    def question(self) -> str:
        return self.legacy.question

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.legacy.aliases

    @property
    def members(self) -> tuple:
        return ()

    references: tuple = ()


def _references(info: dict) -> dict[str, float]:
    """S9's published test accuracy per implementation, for the recipe this run used."""
    ref = info.get("reference")
    if not ref:
        return {}
    table = ref["full"] if info["config"].get("full") else ref["speed_table"]
    return {k: v["test_accuracy"] for k, v in table.items() if isinstance(v, dict) and "test_accuracy" in v}


def verdict_rows(info: dict, reference_dataset: str) -> list[dict]:
    refs = _references(info)
    comparable = info.get("dataset", {}).get("name") == reference_dataset
    default_recipe = not info["config"].get("full") and info["config"].get("epochs") in (None, 3)
    rows = []
    for r in info["rows"]:
        if r["name"] not in refs or r.get("test_accuracy") is None:
            continue
        ref, ours = refs[r["name"]], r["test_accuracy"]
        sigma = math.sqrt(ref * (1 - ref) / 10_000)
        diff = ours - ref
        if not comparable:
            verdict = f"not comparable (reference is for {reference_dataset})"
        elif not (default_recipe or info["config"].get("full")):
            verdict = "not comparable (another recipe than the reference's)"
        else:
            verdict = WITHIN if abs(diff) <= 2 * sigma else OFF
        rows.append(
            {
                "run": r["name"],
                "metric": "test_accuracy",
                "epoch": r.get("epochs_done"),
                "reference": ref,
                "reference_text": f"{100 * ref:.2f}%",
                "ours": ours,
                "std": 0.0,
                "seeds": 1,
                "difference": diff,
                "sigma": sigma,
                "verdict": verdict,
            }
        )
    return rows


def run_comparison_study(
    entry: ComparisonStudy,
    *,
    dataset=None,
    seeds=None,
    epochs=None,
    quick=False,
    out=None,
    resume=False,
    data_dir=None,
    quiet=False,
    console=None,
    command=None,
):
    from ..runs import now
    from ._output import check_out, plot_curves
    from ._page import FIGURE_DPI, QUICK_DPI, png
    from ._page import verdict_rows as table_rows
    from ._run import StudyRun

    settings = check_settings(dataset, seeds, epochs, quick)
    if settings.seeds not in (None, 1):
        raise ConfigError(f"--seeds: {entry.name} compares implementations from one seed; drop --seeds")
    if resume:
        raise ConfigError(f"--resume: {entry.name} has no runs to resume; run it again into a new --out")
    out = default_out(entry.name) if out is None else out
    check_out(out)
    options: dict = {}
    if settings.quick:
        options.update(entry.quick)
    if settings.dataset is not None:
        options["dataset"] = settings.dataset
    if settings.epochs is not None:
        options["epochs"] = settings.epochs
    config = entry.legacy.config(**options)
    result = entry.legacy.run(config, data_dir=data_dir, out=out, quiet=quiet, command=command)
    info = result.info
    rows = verdict_rows(info, entry.reference_dataset)
    study_info = {
        "study": entry.name,
        "number": entry.number,
        "question": entry.question,
        "settings": settings.as_dict(),
        "status": "completed",
        "created": now(),
        "command": command,
        "results": "results.json",
        "verdicts": rows,
        "verdict_summary": tally(rows),
        "noise_rule": NOISE_RULE,
    }
    write_study_json(result.out_dir, study_info)
    fig = plot_curves(info, comparison=result.comparison)
    from ..report import html_escape, html_image, html_page, html_table
    from ._output import table_html

    body = [
        f"<h1>{html_escape(entry.number)} {html_escape(entry.name)}</h1>",
        f"<p><strong>Question.</strong> {html_escape(entry.question)}</p>",
        f"<p class='muted'>{html_escape(info['title'])}</p>",
        "<h2>Comparison</h2>",
        table_html(result),
        f"<h2 id='verdicts'>Reference numbers: {html_escape(tally(rows))}</h2>",
    ]
    if rows:
        header, cells = table_rows(rows, {})
        body.append(html_table(header, cells, numeric=[False, False, True, True, False, True, True, False]))
        body.append(f"<p class='muted'>{html_escape(NOISE_RULE)}</p>")
    body += [
        "<h2>Figures</h2>",
        html_image(
            png(fig, QUICK_DPI if settings.quick else FIGURE_DPI),
            "Learning curves",
            "training accuracy and cross-entropy",
        ),
    ]
    atomic_write_bytes(result.out_dir / REPORT_HTML, html_page(entry.name, "\n".join(body)).encode())
    return StudyRun(entry.name, result.out_dir, {}, rows, {"results": info}, ["Learning curves"], study_info)


__all__ = ["STUDY_JSON", "ComparisonStudy", "run_comparison_study"]
