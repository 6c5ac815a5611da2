"""``write_report``: check the arguments, read every run folder once, collect, render, write.

Reading is :func:`._collect.open_run` (once per run, before any work), evaluating and drawing
:func:`._collect.collect`, laying out :func:`._render.render`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import ConfigError
from .._fs import atomic_write_bytes, check_writable
from .._status import say
from . import _collect, _figures, _render, _scoring

REPORT_NAME = "report.html"


def check_out(out: str | os.PathLike) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out must name an .html file; got {str(out)!r} (e.g. --out report.html)")
    if not out.parent.is_dir():
        raise ConfigError(f"--out: folder {str(out.parent)!r} does not exist; create it first")
    return check_writable(out, what="--out", folder=False)


def write_report(
    run_dirs,
    out: str | os.PathLike | None = None,
    *,
    data_dir=None,
    examples: int = 8,
    inits: int | None = None,
    figures_dir: str | os.PathLike | None = None,
    key=None,
    progress=None,
) -> Path:
    """Write one self-contained HTML report on one or more runs; returns its path.

    ``out`` defaults to ``<run>/report.html`` for one run and ``./report.html`` for several.
    ``inits`` is the number of random initialisations whose test accuracy is histogrammed (study
    S8); ``None`` means 100 for binary models and none otherwise (for large models it costs as
    much as evaluating that many networks). ``figures_dir`` also keeps every figure as PNG and SVG.
    ``progress(text)``, when given, is called as each phase starts (``mnistlab report`` shows it
    on stderr).
    """
    run_dirs = [Path(r) for r in ([run_dirs] if isinstance(run_dirs, str | os.PathLike) else run_dirs)]
    if not run_dirs:
        raise ConfigError("give at least one run folder written by mnistlab train")
    if examples < 1:
        raise ConfigError(f"--examples must be >= 1; got {examples}")
    if inits is not None and inits < 0:
        raise ConfigError(f"--inits must be >= 0; got {inits}")
    from ..runs import RunDir

    # Every folder is opened (and checked) first: a mistyped run is blamed as such (not as the
    # --out inside it), and a mistyped second run fails before the first run's work.
    runs = [RunDir.open(r, trained=True) for r in run_dirs]
    out = check_out(
        out if out is not None else (run_dirs[0] / REPORT_NAME if len(run_dirs) == 1 else REPORT_NAME)
    )
    if figures_dir is not None:
        figures_dir = Path(figures_dir)
        if not figures_dir.parent.is_dir():
            raise ConfigError(
                f"--figures: folder {str(figures_dir.parent)!r} does not exist; create it first"
            )
        check_writable(figures_dir, what="--figures", folder=True)
    say(progress, f"reading {len(runs)} run folder{'s' if len(runs) > 1 else ''}")
    records = [_collect.open_run(r) for r in runs]
    several = len(records) > 1

    def keep(folder: str) -> Path | None:
        if figures_dir is None:
            return None
        return figures_dir / folder if several else figures_dir

    with _scoring.workers() as pool:  # where JAX runs: a second process, or threads (see there)
        # Asked of the device that will run them (a GPU's memory, not the host's), before any work.
        for record in records:
            if _collect.inits_for(record, inits):
                pool.submit(_collect.check_inits_memory, record, inits).result()
        sections = [
            _collect.collect(
                record,
                label,
                keep(f"run{i + 1}"),
                pool=pool,
                data_dir=data_dir,
                examples=examples,
                inits=inits,
                key=key,
                progress=progress,
            )
            for i, (record, label) in enumerate(zip(records, _collect.labels(records), strict=True))
        ]
    if several:
        say(progress, "comparison figures")
    comparison = _figures.comparison(sections, keep("comparison")) if several else []
    say(progress, f"writing {out}")
    atomic_write_bytes(out, _render.render(sections, comparison).encode("utf-8"))
    return out
