"""Rendering the report: the collected runs laid out as one self-contained HTML page (``_html``
holds the page's building blocks). Nothing here reads a file or draws a figure."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ..runs import CONFIG_HEADER, format_seeds
from . import _html as H
from ._collect import RunSection, short
from ._figures import Shown


def _pct(v) -> str:
    """A fraction, or per-seed fractions, in percent: ``97.12%`` or ``97.12% ± 0.05``, as training
    prints them."""
    return "n/a" if v is None else format_seeds(v, percent=True)


def _seconds(s) -> str:
    if s is None:
        return "n/a"
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {s % 60:.0f} s"


def _summary(sec: RunSection) -> dict:
    return sec.info.get("summary") or {}


def _status(info: dict) -> str:
    """The run's status, and its health flag when it has one: ``completed, stuck at chance``."""
    health = (info.get("summary") or {}).get("health")
    return info.get("status", "?") + (f", {health}" if health else "")


def _key_cards(sec: RunSection) -> str:
    s, info = _summary(sec), sec.info
    dev = info.get("device", {})
    backend, kind = dev.get("backend", "?"), dev.get("kind", "?")
    device = backend if kind.lower() == backend.lower() else f"{backend}: {kind}"
    items = []
    if "final_test_accuracy" in s:
        items.append(
            (
                "final test accuracy",
                _pct(s.get("final_test_accuracy_per_seed", s["final_test_accuracy"])),
                f"after epoch {s.get('epochs')}",
            )
        )
        items.append(
            ("best test accuracy", _pct(s.get("best_test_accuracy")), f"at epoch {s.get('best_epoch')}")
        )
    elif "final_test_loss" in s:
        items.append(("final test loss", f"{s['final_test_loss']:.4f}", f"after epoch {s.get('epochs')}"))
    items.append(("epochs", f"{s.get('epochs', 0)} of {sec.config.epochs}", _status(info)))
    items.append(
        (
            "training time",
            _seconds(s.get("train_seconds")),
            f"{s['mean_epoch_seconds']:.2f} s/epoch" if "mean_epoch_seconds" in s else "",
        )
    )
    items.append(("compile time", _seconds(s.get("compile_seconds")), "XLA, reported apart"))
    items.append(("device", device, f"{dev.get('count', 1)} device(s)"))
    if info.get("param_count"):
        items.append(("parameters", f"{info['param_count']:,}", sec.config.model))
    return H.cards(items)


def _provenance(sec: RunSection) -> str:
    ds = sec.info.get("dataset", {})
    rows = [("dataset", f"{ds.get('title', '?')} ({ds.get('name', '?')})")]
    sizes = ds.get("sizes", {})
    rows.append(("examples", ", ".join(f"{v:,} {k}" for k, v in sizes.items())))
    prov = ds.get("provenance", {})
    origins = {p.get("origin") for p in prov.values()}
    rows.append(("loaded from", ", ".join(sorted(o for o in origins if o))))
    files = {}
    for p in prov.values():
        for f in p.get("files", []):
            files[f.get("path")] = f
    for f in files.values():
        rows.append(
            (
                Path(f.get("path", "?")).name,
                f"content SHA-256 {f.get('content_sha256', '?')} — verified by {f.get('verified_by', '?')}; "
                f"source {f.get('source', '?')}",
            )
        )
    transforms = sorted({t for p in prov.values() for t in p.get("transforms", [])})
    if transforms:
        rows.append(("transforms", "; ".join(transforms)))
    if ds.get("normalization"):
        rows.append(
            ("normalisation", f"mean {ds['normalization']['mean']:.4f}, std {ds['normalization']['std']:.4f}")
        )
    c = sec.config
    rows.append(("preprocessing", c.preprocess))
    model = sec.info.get("model", {})
    spec = ", ".join(
        f"{k} {short(v)}" for k, v in model.items() if k not in ("name", "image_shape") and v is not None
    )
    rows.append(("model", f"{c.model} ({spec})"))
    opt = f"{c.optimizer}, lr {c.lr:g}, {c.schedule} schedule, batch {c.batch_size}"
    if c.l2:
        opt += f", L2 {c.l2:g}"
    if c.l1:
        opt += f", L1 {c.l1:g}"
    rows.append(("training", f"{opt}; {c.dtype}; seeds {', '.join(map(str, c.seeds))}"))
    rows.append(("command", sec.info.get("command", "")))
    rows.append(("created", sec.info.get("created", "")))
    v = sec.info.get("versions", {})
    rows.append(("versions", ", ".join(f"{k} {x}" for k, x in v.items())))
    return H.key_values(rows)


def _fig(sec: RunSection, key: str) -> str:
    f = sec.figures.get(key)
    return H.image(f.png, f.title, f.caption) if f else ""


def _metrics_html(sec: RunSection) -> str:
    m = sec.metrics
    if not m:
        return ""
    rows = [
        ("examples", f"{m['examples']:,} ({m['title']}, {m['split']} split)"),
        ("loss", f"{m['loss']:.4f}"),
    ]
    if "accuracy" in m:
        acc = _pct(m.get("accuracy_per_seed", m["accuracy"]))
        rows.append(("accuracy", acc))
        if "ensemble_accuracy" in m:
            rows.append(("ensemble of the seeds", _pct(m["ensemble_accuracy"])))
    for k, v in (m.get("top_k_accuracy") or {}).items():
        if k != "1":
            rows.append((f"top-{k} accuracy", _pct(v)))
    if m.get("calibration"):
        rows.append(("expected calibration error", f"{100 * m['calibration']['ece']:.2f}%"))
    b = m.get("binary")
    if b:
        rows.append((f"accuracy at threshold {b['threshold']}", _pct(b["accuracy"])))
        if b.get("roc_auc") is not None:
            rows.append(("ROC AUC", f"{b['roc_auc']:.4f}"))
    hl = m.get("highest_loss_train")
    if hl and hl.get("mislabelled_fraction") is not None:
        rows.append(
            (
                f"{hl['k']} highest-loss training examples",
                f"{100 * hl['mislabelled_fraction']:.0f}% mislabelled "
                f"(base rate {100 * hl['base_rate']:.0f}%)",
            )
        )
    out = [H.key_values(rows)]
    pc = m.get("per_class") or {}
    if pc:

        def p(v):
            return "n/a" if v is None else f"{100 * v:.2f}%"

        out.append(
            H.table(
                ["class", "examples", "predicted", "accuracy (recall)", "precision"],
                [
                    [
                        name,
                        f"{c['examples']:,}",
                        f"{c.get('predicted', 0):,}",
                        p(c.get("recall", c["accuracy"])),
                        p(c.get("precision")),
                    ]
                    for name, c in pc.items()
                ],
                numeric=[False, True, True, True, True],
            )
        )
    return "".join(out)


def _run_html(sec: RunSection, index: int, several: bool) -> str:
    parts = [f'<section class="run" id="run-{index}">']
    heading = f"Run {index}: {sec.label}" if several else f"Run {sec.run_dir.name}"
    parts.append(f"<h2>{H.esc(heading)}</h2>")
    parts.append(f'<p class="muted"><code>{H.esc(sec.run_dir)}</code></p>')
    parts.append(_key_cards(sec))
    notice = sec.info.get("dataset", {}).get("notice")
    if notice:
        parts.append(f'<p class="note">{H.esc(notice)}</p>')
    for n in sec.notes:
        parts.append(f'<p class="warn">{H.esc(n)}</p>')
    parts.append("<h3>Data, model and training</h3>" + _provenance(sec))
    if "curves" in sec.figures:
        parts.append("<h3>Learning curves</h3>" + _fig(sec, "curves"))
    if sec.metrics:
        parts.append("<h3>Evaluation on the test split</h3>" + _metrics_html(sec))
        parts.append(f'<div class="pair">{_fig(sec, "confusion")}{_fig(sec, "reliability")}</div>')
        parts.append(_fig(sec, "roc"))
    gallery = "".join(_fig(sec, k) for k in ("samples", "s8rows", "wrong", "right", "hardest"))
    if gallery:
        parts.append("<h3>Examples</h3>" + gallery)
    weights = "".join(_fig(sec, k) for k in ("weights", "gradients", "inits"))
    if weights:
        parts.append("<h3>Weights</h3>" + weights)
    from ..runs import to_toml

    # The config as loaded, written as train writes config.toml: the file is not read a second time.
    toml = to_toml(sec.config, header=CONFIG_HEADER)
    parts.append(f"<details><summary>config.toml</summary><pre>{H.esc(toml)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _comparison_html(sections: list[RunSection], figures: list[Shown]) -> str:
    rows = []
    for i, s in enumerate(sections, start=1):
        sm, c = _summary(s), s.config
        rows.append(
            [
                f"{i}. {s.label}",
                c.model,
                f"{c.optimizer} {c.lr:g}",
                str(sm.get("epochs", 0)),
                _pct(sm.get("final_test_accuracy_per_seed", sm.get("final_test_accuracy"))),
                f"{_pct(sm.get('best_test_accuracy'))} (epoch {sm.get('best_epoch', '?')})",
                f"{sm['final_test_loss']:.4f}" if "final_test_loss" in sm else "n/a",
                _seconds(sm.get("train_seconds")),
                _status(s.info),
            ]
        )
    out = ['<section id="comparison"><h2>Comparison</h2>']
    out.append(
        H.table(
            [
                "run",
                "model",
                "optimizer, lr",
                "epochs",
                "final test accuracy",
                "best test accuracy",
                "final test loss",
                "training time",
                "status",
            ],
            rows,
            numeric=[False, False, False, True, True, True, True, True, False],
        )
    )
    out.extend(H.image(f.png, f.title, f.caption) for f in figures)
    out.append("</section>")
    return "\n".join(out)


def render(sections: list[RunSection], comparison: list[Shown]) -> str:
    """The whole page: a comparison first when there are several runs, then one section per run."""
    from .. import __version__

    several = len(sections) > 1
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    title = (
        f"mnistlab report: {len(sections)} runs"
        if several
        else f"mnistlab report: {sections[0].run_dir.name}"
    )
    body = [f"<header><h1>{H.esc(title)}</h1>"]
    body.append(f'<p class="muted">Written {H.esc(now)} by mnistlab {H.esc(__version__)}.</p></header>')
    if several:
        links = "".join(
            f'<li><a href="#run-{i}">{H.esc(s.label)}</a></li>' for i, s in enumerate(sections, start=1)
        )
        body.append(f'<nav><ul><li><a href="#comparison">Comparison</a></li>{links}</ul></nav>')
        body.append(_comparison_html(sections, comparison))
    body.extend(_run_html(s, i, several) for i, s in enumerate(sections, start=1))
    return H.page(title, "\n".join(body))
