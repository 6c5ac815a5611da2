"""``studies.run(name, ...)``: one study, start to finish, into one folder (see :mod:`._execute`).

>>> from mnistlab import studies
>>> result = studies.run("tanh-mlp", quick=True, out="studies/tanh")
>>> result                      # StudyRun('tanh-mlp', 1 run, 0 of 3 reference points ..., out=...)
>>> result.verdicts[0]["verdict"], result.runs["tanh"].path, result.report
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .._fs import atomic_write_bytes
from ._execute import (
    REPORT_HTML,
    RUNS,
    STUDY_JSON,
    check_settings,
    member_config,
    open_out,
    relative,
    run_group,
    run_member,
    view,
    write_study_json,
)
from ._figures import Context, draw
from ._page import FIGURE_DPI, QUICK_DPI, render
from ._verdict import NOISE_RULE, tally, verdicts


@dataclass
class StudyRun:
    """A finished study: its folder, its runs (:class:`~._execute.RunView` by member name), the
    verdict per reference number, the analysis numbers, the figure titles and ``study.json``."""

    study: str
    out_dir: Path
    runs: dict = field(repr=False)
    verdicts: list = field(repr=False)
    analysis: dict = field(repr=False)
    figures: list = field(repr=False)
    info: dict = field(repr=False)

    @property
    def report(self) -> Path:
        return self.out_dir / REPORT_HTML

    def __repr__(self) -> str:
        n = len(self.runs)
        return (
            f"StudyRun({self.study!r}, {n} run{'s' if n != 1 else ''}, {tally(self.verdicts)}, "
            f"out={str(self.out_dir)!r})"
        )

    def _repr_html_(self) -> str:
        from ..report import html_escape

        return (
            f"<p><strong>{html_escape(self.study)}</strong>: {html_escape(tally(self.verdicts))}; "
            f"report: <code>{html_escape(self.report)}</code></p>"
        )


def _settings_text(study, settings, configs) -> str:
    c = next(iter(configs.values()), None)
    parts = [f"{len(configs)} run(s)"] if configs else []
    if c is not None:
        parts += [f"dataset {c.dataset}", f"{c.epochs} epochs", f"seeds {','.join(map(str, c.seeds))}"]
    if settings.quick:
        parts.append("--quick (tiny nets and epochs on the sample: a smoke test, not the study)")
    return "; ".join(parts)


def run_study(
    study,
    *,
    dataset: str | None = None,
    seeds: int | None = None,
    epochs: int | None = None,
    quick: bool = False,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    data_dir=None,
    quiet: bool = False,
    console=None,
    command: str | None = None,
) -> StudyRun:
    """Run ``study`` (a :class:`~._spec.TrainStudy`) into ``out``: every option checked and the
    folder probed before any work; finished runs skipped, interrupted ones resumed."""
    from ..runs import device_info, now, versions

    settings = check_settings(dataset, seeds, epochs, quick)
    path, settings, saved = open_out(study, out, settings, resume)
    members = [m for m in study.members if m.in_quick or not settings.quick]
    configs = {m.name: member_config(study, m, settings) for m in members}
    info = {
        "study": study.name,
        "number": study.number,
        "question": study.question,
        "settings": settings.as_dict(),
        "settings_text": _settings_text(study, settings, configs),
        "status": "running",
        "created": saved.get("created") or now(),
        "command": command,
        "configs": {name: c.as_dict() for name, c in configs.items()},
        "versions": versions(),
        "device": device_info(),
    }
    path.mkdir(parents=True, exist_ok=True)
    write_study_json(path, info)
    done = _train_members(
        study, members, configs, path, data_dir=data_dir, quiet=quiet, console=console, command=command
    )
    runs = {m.name: view(path / RUNS / m.name, m.name, m.label, *done[m.name]) for m in members}
    ctx = Context(study, runs, data_dir=data_dir, settings=settings)
    if study.analysis is not None:
        ctx.analysis = study.analysis(ctx)
    ctx.verdicts = verdicts(study, runs)
    figures = draw(ctx)
    first = next(iter(runs.values()), None)
    info.update(
        status="completed",
        updated=now(),
        dataset_title=(
            first.info.get("dataset", {}).get("title", "") if first else ctx.analysis.get("dataset", "")
        ),
        runs={
            name: {
                "label": r.label,
                "folder": relative(r.path, path),
                "status": r.info.get("status"),
                "action": r.action,
                "summary": r.info.get("summary", {}),
            }
            for name, r in runs.items()
        },
        verdicts=ctx.verdicts,
        verdict_summary=tally(ctx.verdicts),
        noise_rule=NOISE_RULE,
        analysis={k: v for k, v in ctx.analysis.items() if k != "table"},
        figures=[title for title, _, _ in figures],
        gaps=list(study.gaps),
        init=study.init,
    )
    dpi = QUICK_DPI if settings.quick else FIGURE_DPI
    html = render(info, study, runs, figures, ctx.analysis.get("table"), dpi=dpi)
    atomic_write_bytes(path / REPORT_HTML, html.encode("utf-8"))
    write_study_json(path, info)
    _close(figures)
    return StudyRun(study.name, path, runs, ctx.verdicts, ctx.analysis, [t for t, _, _ in figures], info)


def _train_members(study, members, configs, path, **options) -> dict:
    """Train, resume or skip every member; by name, ``(action, params)``. Members whose configs
    differ only in sweepable fields (S5's learning rates, S1's penalties) run as ONE compiled
    program; a study that keeps a best epoch (a per-run callback) runs its members one by one."""
    from ..train import sweep_groups

    groups = [[members[i] for i in g] for g in sweep_groups([configs[m.name] for m in members])]
    if study.keep_best:
        groups = [[m] for m in members]
    done = {}
    for group in groups:
        paths = {m.name: path / RUNS / m.name for m in group}
        if not options["quiet"]:
            for m in group:
                _say(options["console"], f"{study.name}: {m.label} -> {paths[m.name]}")
        if len(group) > 1:
            done.update(run_group(paths, {m.name: configs[m.name] for m in group}, **options))
        else:
            m = group[0]
            done[m.name] = run_member(paths[m.name], configs[m.name], keep_best=study.keep_best, **options)
    return done


def _close(figures) -> None:
    for _, fig, _ in figures:
        fig.clear()


def _say(console, text: str) -> None:
    from rich.console import Console

    (console or Console(stderr=True, highlight=False)).print(text, markup=False, highlight=False)


__all__ = ["STUDY_JSON", "StudyRun", "run_study"]
