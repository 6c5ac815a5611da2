"""What scoring a run returns: :class:`Evaluation` (per-example arrays) and its typed :class:`Metrics`.

Both print short: a notebook cell showing an evaluation gets one line (``repr``) or one small
table (``_repr_html_``), not the 30,000 characters of every array and curve. ``Metrics.to_json()``
is the dict that ``mnistlab evaluate --json`` prints; a ``Metrics`` also reads like that dict
(``m["accuracy"]``, ``m.get("binary")``), so code written against the dict keeps working.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._reprs import html_rows
from ..data import Dataset
from ..runs import finite

if TYPE_CHECKING:
    from jaxtyping import Float, Int

    from ._load import LoadedRun


@dataclass(frozen=True)
class ClassMetrics:
    """One class's row: ``recall`` is its accuracy; NaN marks an undefined value (see
    :func:`~mnistlab.evaluate.per_class_metrics`)."""

    examples: int  # true examples of the class (its support)
    predicted: int  # examples predicted as the class
    precision: float
    recall: float
    f1: float

    @property
    def accuracy(self) -> float:
        return self.recall

    def to_json(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "accuracy": self.recall,
            "precision": self.precision,
            "recall": self.recall,
            "predicted": self.predicted,
            "f1": self.f1,
        }


@dataclass(frozen=True)
class Averages:
    """Precision, recall and F1 averaged over the classes, over ``examples`` examples."""

    precision: float
    recall: float
    f1: float
    examples: int

    def to_json(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "examples": self.examples}


@dataclass(frozen=True, eq=False, repr=False)
class Metrics(Mapping):
    """Everything :func:`~mnistlab.evaluate.evaluate` measures, typed; ``to_json()`` for files.

    With several seeds ``loss`` and ``accuracy`` are the mean over the seeds (each seed's in the
    ``*_per_seed`` fields), and everything from ``ensemble_accuracy`` on is of the ensemble (the
    seeds' averaged probabilities). An autoencoder has only the fields up to ``loss_per_seed``;
    the classifier fields are None or empty. Indexing reads the JSON form (NaN as None).
    """

    run: str
    dataset: str
    title: str
    split: str
    examples: int
    epoch: int
    seeds: tuple[int, ...]
    class_names: tuple[str, ...]
    ensemble: bool  # whether the metrics below the per-seed ones are of averaged probabilities
    loss: float
    loss_per_seed: tuple[float, ...]
    accuracy: float | None = None
    accuracy_per_seed: tuple[float, ...] = ()
    accuracy_std: float | None = None
    ensemble_accuracy: float | None = None  # with several seeds only
    per_class: dict[str, ClassMetrics] = field(default_factory=dict)
    macro_avg: Averages | None = None
    weighted_avg: Averages | None = None
    confusion_matrix: Int[np.ndarray, "k k"] | None = None
    top_k_accuracy: dict[int, float] = field(default_factory=dict)  # k below the number of classes
    calibration: dict[str, Any] | None = None  # {"ece", "bins": [...]}
    binary: dict[str, Any] | None = None  # binary models: threshold accuracy, ROC AUC and curve
    notable_examples: dict[str, Any] | None = None
    highest_loss_train: dict[str, Any] | None = None  # when the training set was scored

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict (a new one each call): undefined numbers are None."""
        m: dict[str, Any] = {
            "run": self.run,
            "dataset": self.dataset,
            "title": self.title,
            "split": self.split,
            "examples": self.examples,
            "epoch": self.epoch,
            "seeds": list(self.seeds),
            "class_names": list(self.class_names),
            "ensemble": self.ensemble,
            "loss": self.loss,
            "loss_per_seed": list(self.loss_per_seed),
        }
        if self.accuracy is None:  # an autoencoder
            return finite(m)
        m["accuracy"] = self.accuracy
        m["accuracy_per_seed"] = list(self.accuracy_per_seed)
        m["accuracy_std"] = self.accuracy_std
        if self.ensemble_accuracy is not None:
            m["ensemble_accuracy"] = self.ensemble_accuracy
        m["per_class"] = {name: c.to_json() for name, c in self.per_class.items()}
        m["averages"] = {"macro": self.macro_avg.to_json(), "weighted": self.weighted_avg.to_json()}
        m["confusion_matrix"] = np.asarray(self.confusion_matrix).tolist()
        m["top_k_accuracy"] = {str(k): v for k, v in self.top_k_accuracy.items()}
        m["calibration"] = self.calibration
        if self.binary is not None:
            m["binary"] = self.binary
        m["notable_examples"] = self.notable_examples
        if self.highest_loss_train is not None:
            m["highest_loss_train"] = self.highest_loss_train
        return finite(m)

    # Read-only dict access to the JSON form, as when ``Evaluation.metrics`` was that dict.
    @functools.cached_property
    def _json(self) -> dict[str, Any]:
        return self.to_json()

    def __getitem__(self, key: str):
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)

    def __repr__(self) -> str:
        return f"Metrics({_summary(self)})"

    def _repr_html_(self) -> str:
        return _html_table(self)


@dataclass(eq=False, repr=False)
class Evaluation:
    """A run scored on one dataset: the per-example numbers and the typed :class:`Metrics`.

    With several seeds, ``probs`` (and everything in ``metrics`` but the ``*_per_seed`` numbers) is
    the ensemble: the seeds' probabilities averaged. ``per_example_loss`` is each example's loss
    averaged over the seeds. An autoencoder has ``probs`` None and only loss metrics.
    """

    run: LoadedRun
    dataset: Dataset
    probs: Float[np.ndarray, "n k"] | None
    per_example_loss: Float[np.ndarray, " n"]
    metrics: Metrics
    # A binary model's logit (mean over the seeds): the score its ROC curve and S8 rows rank by.
    scores: Float[np.ndarray, " n"] | None = None
    # The run's training set's per-example losses, when ``train_losses`` was given.
    train_loss: Float[np.ndarray, " n_train"] | None = None

    @property
    def predictions(self) -> Int[np.ndarray, " n"]:
        return self.probs.argmax(axis=1)

    def __repr__(self) -> str:
        return f"Evaluation({_summary(self.metrics)})"

    def _repr_html_(self) -> str:
        return _html_table(self.metrics)


# --- display ----------------------------------------------------------------------------------


def _pct(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.2f}%"


def _summary(m: Metrics) -> str:
    """One line: what was scored, how many examples, accuracy and loss."""
    parts = [f"{m.title} {m.split}", f"{m.examples:,} examples", f"epoch {m.epoch}"]
    if m.accuracy is not None:
        spread = f" ± {100 * m.accuracy_std:.2f}" if len(m.seeds) > 1 and m.accuracy_std is not None else ""
        parts.append(f"accuracy {_pct(m.accuracy)}{spread}")
    parts.append(f"loss {m.loss:.4f}")
    if len(m.seeds) > 1:
        parts.append(f"{len(m.seeds)} seeds")
    return ", ".join(parts)


def _html_table(m: Metrics) -> str:
    """A compact HTML summary: the headline numbers, then one row per class."""
    rows = [
        ("examples", f"{m.examples:,} ({m.title}, {m.split} split, epoch {m.epoch})"),
        ("loss", f"{m.loss:.4f}"),
    ]
    if m.accuracy is not None:
        seeds = len(m.seeds)
        spread = f" ± {100 * m.accuracy_std:.2f} over {seeds} seeds" if seeds > 1 else ""
        rows.append(("accuracy", _pct(m.accuracy) + spread))
        if m.ensemble_accuracy is not None:
            rows.append(("ensemble accuracy", _pct(m.ensemble_accuracy)))
        rows += [(f"top-{k} accuracy", _pct(v)) for k, v in m.top_k_accuracy.items() if k > 1]
        for name, avg in (("macro", m.macro_avg), ("weighted", m.weighted_avg)):
            rows.append(
                (f"{name} avg P / R / F1", " / ".join(_pct(x) for x in (avg.precision, avg.recall, avg.f1)))
            )
        if m.calibration:
            rows.append(("expected calibration error", _pct(m.calibration["ece"])))
        if m.binary and m.binary.get("roc_auc") is not None:
            rows.append(("ROC AUC", f"{m.binary['roc_auc']:.4f}"))
    esc = html.escape
    out = [html_rows(rows, css_class="mnistlab-metrics")]
    if m.per_class:
        head = "".join(
            f"<th>{h}</th>" for h in ("class", "examples", "predicted", "precision", "recall", "F1")
        )
        out.append(f'<table class="mnistlab-per-class"><tr>{head}</tr>')
        for name, c in m.per_class.items():
            cells = [
                esc(name),
                f"{c.examples:,}",
                f"{c.predicted:,}",
                _pct(c.precision),
                _pct(c.recall),
                _pct(c.f1),
            ]
            out.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
        out.append("</table>")
    return "\n".join(out)
