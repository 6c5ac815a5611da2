"""The report's figures: each drawn once by :mod:`mnistlab.plots`, kept in memory as PNG bytes for
the page, and, with ``--figures``, also saved as PNG and SVG (``keep``: the folder)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import MnistlabError
from .._fs import atomic_write_bytes

if TYPE_CHECKING:
    from ._collect import RunSection

DPI = 100  # the plots' documented pixel sizes are at 100 dpi


@dataclass
class Shown:
    """A figure as the page shows it: its PNG, title and caption."""

    key: str
    title: str
    png: bytes
    caption: str = ""


def add(
    figures: dict[str, Shown],
    notes: list[str],
    keep: Path | None,
    key: str,
    title: str,
    draw: Callable[[], Any],
    caption: str = "",
) -> None:
    """Draw one figure (``draw()`` returns a Matplotlib Figure, or None for nothing to show) into
    ``figures``; a figure the data does not allow becomes a line of ``notes`` instead."""
    from .. import plots

    try:
        fig = draw()
    except MnistlabError as exc:
        notes.append(f"{title}: not drawn ({exc})")
        return
    if fig is None:
        return
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    png = buffer.getvalue()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(keep / f"{key}.png", png)  # the very image the page embeds
        plots.save(fig, keep / f"{key}.svg", dpi=DPI)
    figures[key] = Shown(key, title, png, caption)


def _add(sec: RunSection, keep, key, title, draw, caption="") -> None:
    add(sec.figures, sec.notes, keep, key, title, draw, caption)


def curves(sec: RunSection, keep: Path | None) -> None:
    from .. import plots

    if not sec.epochs:
        sec.notes.append("No epoch has finished yet, so there are no learning curves.")
        return
    seeds = len(sec.config.seeds)
    chance = chance_of(sec.info)
    health = (sec.info.get("summary") or {}).get("health_message")
    if health:
        sec.notes.append(f"This run is flagged: {health}.")
    _add(
        sec,
        keep,
        "curves",
        "Learning curves",
        lambda: plots.learning_curves(
            sec.epochs, title=f"Learning curves: {sec.label}", step_loss=sec.record.step_loss, chance=chance
        ),
        "Per epoch on every split; the last panel is the loss of every training step"
        + (f"; mean and ± one standard deviation over {seeds} seeds" if seeds > 1 else "")
        + ("; the dashed line is chance accuracy on the test set" if chance is not None else ""),
    )


def chance_of(info: dict) -> float | None:
    """Chance accuracy recorded in run.json (None for older runs and autoencoders)."""
    chance = info.get("chance")
    value = chance.get("accuracy") if isinstance(chance, dict) else None
    return float(value) if isinstance(value, int | float) and 0 <= value <= 1 else None


def weights(sec: RunSection, keep: Path | None, params, names: list[str], seeds: int) -> None:
    from .. import plots
    from ..runs import run_image_shape

    shape = run_image_shape(sec.info)  # the run's images, whatever their size (a user's dataset)

    _add(
        sec,
        keep,
        "weights",
        "Weights",
        lambda: plots.weight_figure(
            params, title=f"Weights: {sec.label}", class_names=names, image_shape=shape
        ),
        "First-layer weights" + (" (seed 0 of the run)" if seeds > 1 else ""),
    )


def gradients(sec: RunSection, keep: Path | None, grads: dict, n: int) -> None:
    from .. import plots

    grads = {k: g.reshape(-1, g.shape[-1]) if g.ndim > 2 else g for k, g in grads.items()}
    _add(
        sec,
        keep,
        "gradients",
        "Gradients of the weight matrices",
        lambda: plots.gradient_images(grads, title=f"Loss gradient per weight matrix: {sec.label}"),
        f"At the final parameters, on the first {n} training examples; convolution kernels are "
        "shown as (kernel height x width x input channels) by output channels",
    )


def _rows(images, items: list, caption) -> tuple[np.ndarray, list[str]]:
    idx = [it["index"] for it in items]
    return (images[idx] if idx else images[:0]), [caption(it) for it in items]


def evaluation(
    sec: RunSection, keep: Path | None, m: dict, probs, test, names: list[str], *, binary: bool
) -> None:
    """The test split's figures: confusion, calibration, samples, notable examples, ROC."""
    from .. import plots

    title = sec.label
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    _add(
        sec,
        keep,
        "confusion",
        "Confusion matrix",
        lambda: plots.confusion_heatmap(
            np.asarray(m["confusion_matrix"]), names, title=f"Confusion matrix, test split: {title}"
        ),
        "Rows are the true classes, columns the predictions; colours are row fractions, numbers are counts",
    )
    _add(
        sec,
        keep,
        "reliability",
        "Reliability diagram",
        lambda: plots.reliability_diagram(
            m["calibration"]["bins"], title=f"Calibration, test split: {title}", ece=m["calibration"]["ece"]
        ),
        "Accuracy against confidence (the largest predicted probability); the diagonal is perfect "
        "calibration",
    )
    n = min(40, len(test))
    _add(
        sec,
        keep,
        "samples",
        "Test images with predictions",
        lambda: plots.sample_grid(
            test.images[:n],
            test.labels[:n],
            names,
            title=f"The first {n} test images: label → prediction, confidence",
            predictions=pred[:n],
            confidences=conf[:n],
        ),
        "Right in green, wrong in red",
    )
    ex = m["notable_examples"]
    wrong = {
        f"true {c}": _rows(
            test.images,
            ex["confident_wrong"].get(c, []),
            lambda it: f"→ {it['predicted']} {it['confidence']:.0%}",
        )
        for c in names
    }
    _add(
        sec,
        keep,
        "wrong",
        "The most confident mistakes",
        lambda: plots.example_rows(wrong, title=f"Most confident mistakes per true class: {title}"),
        "Each row: test images of one class that the model got wrong with the highest confidence",
    )
    right = {}
    for c in names:
        idx = list(ex["confident_correct"].get(c, []))
        right[c] = (test.images[idx] if idx else test.images[:0], [f"{conf[i]:.1%}" for i in idx])
    _add(
        sec,
        keep,
        "right",
        "The most confident correct predictions",
        lambda: plots.example_rows(right, title=f"Most confident correct predictions: {title}"),
    )
    if binary:
        _binary(sec, keep, m, ex, test, names)


def _binary(sec: RunSection, keep: Path | None, m: dict, ex: dict, test, names: list[str]) -> None:
    """Study S8's rows of clear and confusing examples, and the ROC curve."""
    from .. import plots

    title = sec.label
    kinds = ("clear_positives", "clear_negatives", "confusing_positives", "confusing_negatives")
    rows = {
        k.replace("_", " "): _rows(test.images, ex.get(k, []), lambda it: f"{it['score']:+.2f}")
        for k in kinds
    }
    _add(
        sec,
        keep,
        "s8rows",
        "Clear and confusing examples",
        lambda: plots.example_rows(rows, title=f"Clear and confusing test examples (study S8): {title}"),
        f"Positive class {names[1]}, negative class {names[0]}; the number under each image is the "
        "model's output (logit)",
    )
    b = m.get("binary", {})
    if b.get("roc"):
        _add(
            sec,
            keep,
            "roc",
            "ROC curve",
            lambda: plots.roc_plot(
                b["roc"]["fpr"], b["roc"]["tpr"], title=f"ROC curve, test split: {title}", auc=b["roc_auc"]
            ),
        )


def hardest(
    sec: RunSection, keep: Path | None, m: dict, images: dict[int, np.ndarray], names: list[str]
) -> None:
    """The training examples of highest loss (and how many of them carry a corrupted label);
    ``images``: those examples' images, by index in the training set."""
    from .. import plots

    hl = m.get("highest_loss_train")
    if not (hl and hl.get("indices")):
        return
    idx = list(hl["indices"])
    caps = [f"{names[lab]} → {names[pr]}" for lab, pr in zip(hl["labels"], hl["predicted"], strict=True)]
    frac = hl.get("mislabelled_fraction")
    extra = (
        f"; {frac:.0%} of them carry a corrupted label (base rate {hl['base_rate']:.0%})"
        if frac is not None
        else ""
    )
    _add(
        sec,
        keep,
        "hardest",
        "The training examples with the highest loss",
        lambda: plots.example_rows(
            {f"{len(idx)} hardest": (np.stack([images[i] for i in idx]), caps)},
            title=f"Training examples with the highest loss: {sec.label}",
        ),
        "Label → prediction" + extra,
    )


def inits(sec: RunSection, keep: Path | None, accs: np.ndarray, n: int, *, chance: float) -> None:
    from .. import plots

    _add(
        sec,
        keep,
        "inits",
        "Accuracy of untrained networks",
        lambda: plots.accuracy_histogram(
            accs, title=f"Test accuracy of {n} random initialisations: {sec.label}", chance=chance
        ),
        f"{n} freshly initialised, untrained copies of the model, scored in one vmapped program: "
        f"mean {100 * accs.mean():.1f}%, range {100 * accs.min():.1f}-{100 * accs.max():.1f}%",
    )


def comparison(sections: list[RunSection], keep: Path | None) -> list[Shown]:
    """The runs' curves overlaid, one figure per metric that any run records."""
    from .. import plots

    figures: dict[str, Shown] = {}
    runs = {s.label: s.epochs for s in sections if s.epochs}
    have = {k for s in sections for r in s.epochs for k in r}
    # One chance line when every run is scored on the same kind of set (the same chance level).
    levels = {chance_of(s.info) for s in sections}
    chance = levels.pop() if len(levels) == 1 else None
    for metric, title in (
        ("test_accuracy", "Test accuracy"),
        ("validation_accuracy", "Validation accuracy"),
        ("train_loss", "Training loss"),
        ("test_loss", "Test loss"),
    ):
        if metric not in have:
            continue
        add(
            figures,
            [],  # a comparison figure that cannot be drawn is simply left out
            keep,
            metric,
            title,
            lambda metric=metric, title=title: plots.compare_curves(
                runs, metric=metric, title=f"{title} per epoch, {len(runs)} runs", chance=chance
            ),
        )
    return list(figures.values())
