"""Gather what a run folder holds, evaluate it, draw its figures and lay them out on one page."""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConfigError, MnistlabError
from .._fs import atomic_write_bytes
from . import _html as H

REPORT_NAME = "report.html"


@dataclass
class Figure:
    key: str
    title: str
    png: bytes
    caption: str = ""


@dataclass
class RunSection:
    run_dir: Path
    label: str
    config: Any
    info: dict
    epochs: list[dict]
    step_loss: np.ndarray | None
    metrics: dict | None = None  # evaluation of the test split (mnistlab.evaluate)
    notes: list[str] = field(default_factory=list)
    figures: dict[str, Figure] = field(default_factory=dict)
    keep_svg: bool = False


def check_out(out: str | os.PathLike) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out must name an .html file; got {str(out)!r} (e.g. --out report.html)")
    if not out.parent.is_dir():
        raise ConfigError(f"--out: folder {str(out.parent)!r} does not exist; create it first")
    return out


def write_report(
    run_dirs,
    out: str | os.PathLike | None = None,
    *,
    data_dir=None,
    examples: int = 8,
    inits: int | None = None,
    figures_dir: str | os.PathLike | None = None,
    key=None,
) -> Path:
    """Write one self-contained HTML report on one or more runs; returns its path.

    ``out`` defaults to ``<run>/report.html`` for one run and ``./report.html`` for several.
    ``inits`` is the number of random initialisations whose test accuracy is histogrammed (study
    S8); ``None`` means 100 for binary models and none otherwise (for large models it costs as
    much as evaluating that many networks). ``figures_dir`` also keeps every figure as PNG and SVG.
    """
    from ..train._run import read_run

    run_dirs = [Path(r) for r in ([run_dirs] if isinstance(run_dirs, str | os.PathLike) else run_dirs)]
    if not run_dirs:
        raise ConfigError("give at least one run folder written by mnistlab train")
    if examples < 1:
        raise ConfigError(f"--examples must be >= 1; got {examples}")
    if inits is not None and inits < 0:
        raise ConfigError(f"--inits must be >= 0; got {inits}")
    out = check_out(
        out if out is not None else (run_dirs[0] / REPORT_NAME if len(run_dirs) == 1 else REPORT_NAME)
    )
    if figures_dir is not None:
        figures_dir = Path(figures_dir)
        if not figures_dir.parent.is_dir():
            raise ConfigError(
                f"--figures: folder {str(figures_dir.parent)!r} does not exist; create it first"
            )
    for r in run_dirs:  # every folder is checked before any work starts
        read_run(r)
    if key is None:
        import jax

        key = jax.random.PRNGKey(0)
    labels = _labels(run_dirs)
    with tempfile.TemporaryDirectory(prefix="mnistlab-report-") as tmp:
        fig_root = Path(figures_dir) if figures_dir is not None else Path(tmp)
        sections = [
            _collect(
                r,
                label,
                fig_root / f"run{i + 1}" if len(run_dirs) > 1 else fig_root,
                data_dir,
                examples,
                inits,
                key,
                keep_svg=figures_dir is not None,
            )
            for i, (r, label) in enumerate(zip(run_dirs, labels, strict=True))
        ]
        comparison = (
            _comparison_figures(sections, fig_root / "comparison", keep_svg=figures_dir is not None)
            if len(sections) > 1
            else []
        )
        html = _render(sections, comparison)
    atomic_write_bytes(out, html.encode("utf-8"))
    return out


# --- collecting -----------------------------------------------------------------------------------


def _labels(run_dirs: list[Path]) -> list[str]:
    """Names for the runs: the config values that differ between them (``lr 0.1``), else folder names."""
    from ..train._run import read_run

    if len(run_dirs) == 1:
        return [run_dirs[0].name]
    configs = [read_run(r)[1].as_dict() for r in run_dirs]
    differ = [k for k in configs[0] if k not in ("seeds",) and len({repr(c.get(k)) for c in configs}) > 1]
    if not differ or len(differ) > 3:
        names = [r.name for r in run_dirs]
        return names if len(set(names)) == len(names) else [str(r) for r in run_dirs]
    labels = [", ".join(f"{k.replace('_', ' ')} {_short(c[k])}" for k in differ) for c in configs]
    return labels if len(set(labels)) == len(labels) else [r.name for r in run_dirs]


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple):
        return ",".join(_short(x) for x in v) or "-"
    return str(v)


def _figure(sec: RunSection, folder: Path, key: str, title: str, draw, caption: str = "") -> None:
    """Draw one figure into ``folder`` as PNG (embedded), and as SVG too when it is kept (--figures)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = draw(folder / f"{key}.png")
        if path is not None and sec.keep_svg:
            draw(folder / f"{key}.svg")
    except MnistlabError as exc:
        sec.notes.append(f"{title}: not drawn ({exc})")
        return
    if path is not None:
        sec.figures[key] = Figure(key, title, Path(path).read_bytes(), caption)


def _collect(
    run_dir: Path, label: str, folder: Path, data_dir, examples: int, inits, key, keep_svg: bool
) -> RunSection:
    from .._compute import precision
    from ..train._run import read_metrics, read_run

    run_dir, config, info = read_run(run_dir)
    epochs, step_loss = read_metrics(run_dir)
    sec = RunSection(run_dir, label, config, info, epochs, step_loss, keep_svg=keep_svg)
    if info.get("status") not in (None, "completed"):
        sec.notes.append(f"This run is {info.get('status')}: {info.get('message') or 'no message'}")
    _curves(sec, folder)
    try:
        with precision(config.dtype):
            _inspect(sec, folder, data_dir, examples, inits, key)
    except MnistlabError as exc:
        sec.notes.append(f"Evaluation, examples and weights are left out: {exc}")
    return sec


def _curves(sec: RunSection, folder: Path) -> None:
    from .. import plots

    if not sec.epochs:
        sec.notes.append("No epoch has finished yet, so there are no learning curves.")
        return
    seeds = len(sec.config.seeds)
    _figure(
        sec,
        folder,
        "curves",
        "Learning curves",
        lambda p: plots.learning_curves(
            sec.epochs, p, title=f"Learning curves: {sec.label}", step_loss=sec.step_loss
        ),
        "Per epoch on every split; the last panel is the loss of every training step"
        + (f"; mean and ± one standard deviation over {seeds} seeds" if seeds > 1 else ""),
    )


def _one_seed(params):
    import jax

    return jax.tree.map(lambda a: np.asarray(a[0]), params)


def _inspect(sec: RunSection, folder: Path, data_dir, examples: int, inits, key) -> None:
    from .. import plots
    from ..evaluate import evaluate, init_accuracies, load_run, weight_gradients
    from ..train._run import prepare_data

    run = load_run(sec.run_dir)
    data = prepare_data(run.config, data_dir=data_dir, progress=False)
    test = data.evals["test"]
    names = list(run.class_names)
    params = _one_seed(run.params)
    title = sec.label
    _figure(
        sec,
        folder,
        "weights",
        "Weights",
        lambda p: plots.weight_figure(params, p, title=f"Weights: {title}", class_names=names),
        "First-layer weights" + (" (seed 0 of the run)" if len(run.config.seeds) > 1 else ""),
    )
    batch = data.train.subset(np.arange(min(run.config.batch_size, len(data.train))))
    grads = weight_gradients(run, batch)
    grads = {k: g.reshape(-1, g.shape[-1]) if g.ndim > 2 else g for k, g in grads.items()}
    _figure(
        sec,
        folder,
        "gradients",
        "Gradients of the weight matrices",
        lambda p: plots.gradient_images(grads, p, title=f"Loss gradient per weight matrix: {title}"),
        f"At the final parameters, on the first {len(batch)} training examples; convolution kernels are "
        "shown as (kernel height x width x input channels) by output channels",
    )
    if run.kind == "autoencoder":
        sec.notes.append("An autoencoder has no classes: the classification figures are left out.")
        return
    ev = evaluate(run, test, examples=examples, train_losses=data.train, mislabelled=data.mislabelled)
    sec.metrics = m = ev.metrics
    pred = ev.probs.argmax(axis=1)
    conf = ev.probs.max(axis=1)
    _figure(
        sec,
        folder,
        "confusion",
        "Confusion matrix",
        lambda p: plots.confusion_heatmap(
            np.asarray(m["confusion_matrix"]), names, p, title=f"Confusion matrix, test split: {title}"
        ),
        "Rows are the true classes, columns the predictions; colours are row fractions, numbers are counts",
    )
    _figure(
        sec,
        folder,
        "reliability",
        "Reliability diagram",
        lambda p: plots.reliability_diagram(
            m["calibration"]["bins"],
            p,
            title=f"Calibration, test split: {title}",
            ece=m["calibration"]["ece"],
        ),
        "Accuracy against confidence (the largest predicted probability); the diagonal is perfect "
        "calibration",
    )
    n = min(40, len(test))
    _figure(
        sec,
        folder,
        "samples",
        "Test images with predictions",
        lambda p: plots.sample_grid(
            test.images[:n],
            test.labels[:n],
            names,
            p,
            title=f"The first {n} test images: label → prediction, confidence",
            predictions=pred[:n],
            confidences=conf[:n],
        ),
        "Right in green, wrong in red",
    )
    ex = m["notable_examples"]
    wrong_rows = {}
    for cname in names:
        items = ex["confident_wrong"].get(cname, [])
        idx = [it["index"] for it in items]
        caps = [f"→ {it['predicted']} {it['confidence']:.0%}" for it in items]
        wrong_rows[f"true {cname}"] = (test.images[idx] if idx else test.images[:0], caps)
    _figure(
        sec,
        folder,
        "wrong",
        "The most confident mistakes",
        lambda p: plots.example_rows(wrong_rows, p, title=f"Most confident mistakes per true class: {title}"),
        "Each row: test images of one class that the model got wrong with the highest confidence",
    )
    right_rows = {}
    for cname in names:
        idx = list(ex["confident_correct"].get(cname, []))
        caps = [f"{conf[i]:.1%}" for i in idx]
        right_rows[cname] = (test.images[idx] if idx else test.images[:0], caps)
    _figure(
        sec,
        folder,
        "right",
        "The most confident correct predictions",
        lambda p: plots.example_rows(right_rows, p, title=f"Most confident correct predictions: {title}"),
    )
    if run.kind == "binary":
        rows = {}
        for row in ("clear_positives", "clear_negatives", "confusing_positives", "confusing_negatives"):
            items = ex.get(row, [])
            idx = [it["index"] for it in items]
            rows[row.replace("_", " ")] = (
                test.images[idx] if idx else test.images[:0],
                [f"{it['score']:+.2f}" for it in items],
            )
        _figure(
            sec,
            folder,
            "s8rows",
            "Clear and confusing examples",
            lambda p: plots.example_rows(
                rows, p, title=f"Clear and confusing test examples (study S8): {title}"
            ),
            f"Positive class {names[1]}, negative class {names[0]}; the number under each image is the "
            "model's output (logit)",
        )
        b = m.get("binary", {})
        if b.get("roc"):
            _figure(
                sec,
                folder,
                "roc",
                "ROC curve",
                lambda p: plots.roc_plot(
                    b["roc"]["fpr"],
                    b["roc"]["tpr"],
                    p,
                    title=f"ROC curve, test split: {title}",
                    auc=b["roc_auc"],
                ),
            )
    hl = m.get("highest_loss_train")
    if hl and hl.get("indices"):
        idx = list(hl["indices"])
        caps = [f"{names[lab]} → {names[pr]}" for lab, pr in zip(hl["labels"], hl["predicted"], strict=True)]
        frac = hl.get("mislabelled_fraction")
        extra = (
            f"; {frac:.0%} of them carry a corrupted label (base rate {hl['base_rate']:.0%})"
            if frac is not None
            else ""
        )
        _figure(
            sec,
            folder,
            "hardest",
            "The training examples with the highest loss",
            lambda p: plots.example_rows(
                {f"{len(idx)} hardest": (data.train.images[idx], caps)},
                p,
                title=f"Training examples with the highest loss: {title}",
            ),
            "Label → prediction" + extra,
        )
    n_inits = (100 if run.kind == "binary" else 0) if inits is None else inits
    if n_inits:
        accs = init_accuracies(run, test, n=n_inits, key=key)
        chance = 1.0 / len(names)
        _figure(
            sec,
            folder,
            "inits",
            "Accuracy of untrained networks",
            lambda p: plots.accuracy_histogram(
                accs, p, title=f"Test accuracy of {n_inits} random initialisations: {title}", chance=chance
            ),
            f"{n_inits} freshly initialised, untrained copies of the model, scored in one vmapped program: "
            f"mean {100 * accs.mean():.1f}%, range {100 * accs.min():.1f}-{100 * accs.max():.1f}%",
        )


def _comparison_figures(sections: list[RunSection], folder: Path, *, keep_svg: bool) -> list[Figure]:
    from .. import plots

    holder = RunSection(folder, "comparison", None, {}, [], None, keep_svg=keep_svg)
    runs = {s.label: s.epochs for s in sections if s.epochs}
    have = {k for s in sections for r in s.epochs for k in r}
    for metric, title in (
        ("test_accuracy", "Test accuracy"),
        ("validation_accuracy", "Validation accuracy"),
        ("train_loss", "Training loss"),
        ("test_loss", "Test loss"),
    ):
        if metric not in have:
            continue
        _figure(
            holder,
            folder,
            metric,
            title,
            lambda p, metric=metric, title=title: plots.compare_curves(
                runs, p, metric=metric, title=f"{title} per epoch, {len(runs)} runs"
            ),
        )
    return list(holder.figures.values())


# --- rendering ------------------------------------------------------------------------------------


def _pct(v) -> str:
    from ..runs import format_seeds as fmt

    return "n/a" if v is None else fmt(v, percent=True)


def _seconds(s) -> str:
    if s is None:
        return "n/a"
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {s % 60:.0f} s"


def _summary(sec: RunSection) -> dict:
    return sec.info.get("summary") or {}


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
    items.append(("epochs", f"{s.get('epochs', 0)} of {sec.config.epochs}", info.get("status", "")))
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
        f"{k} {_short(v)}" for k, v in model.items() if k not in ("name", "image_shape") and v is not None
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
    toml = (sec.run_dir / "config.toml").read_text()
    parts.append(f"<details><summary>config.toml</summary><pre>{H.esc(toml)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _comparison_html(sections: list[RunSection], figures: list[Figure]) -> str:
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
                s.info.get("status", "?"),
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


def _render(sections: list[RunSection], comparison: list[Figure]) -> str:
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
