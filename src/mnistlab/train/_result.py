"""How a run ended (:class:`RunResult`): what :func:`mnistlab.train.train` and ``resume`` return."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._reprs import html_rows
from ..runs import TrainConfig, format_seeds


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


@dataclass
class RunResult:
    """How a run ended: its folder, config, status, history and summary (and the final state)."""

    run_dir: Path
    config: TrainConfig
    status: str
    message: str
    history: Any = field(repr=False)
    summary: dict = field(default_factory=dict, repr=False)
    state: Any = field(default=None, repr=False)

    def outcome(self) -> str | None:
        """``test accuracy 97.46% after 10 epochs`` (an autoencoder: its test loss); None when no
        epoch finished. The CLI's summary line and the notebook views say it the same way."""
        s = self.summary
        # A run stuck at chance or blown up says so in the same line (see mnistlab.train._health).
        flag = f", {s['health'].upper()}" if s.get("health") else ""
        if "final_test_accuracy" in s:
            acc = format_seeds(s.get("final_test_accuracy_per_seed", s["final_test_accuracy"]), percent=True)
            return f"test accuracy {acc} after {_epochs(s['epochs'])}{flag}"
        if "final_test_loss" in s:
            return f"test loss {s['final_test_loss']:.4f} after {_epochs(s['epochs'])}{flag}"
        return None

    def _headline(self) -> str:
        return self.outcome() or self.message or "no epoch finished"

    def __repr__(self) -> str:
        # One line: the parameters and history stay out of a notebook's output.
        c = self.config
        return (
            f"RunResult({str(self.run_dir)!r}, {c.model} on {c.dataset}, {self.status}: {self._headline()})"
        )

    def _repr_html_(self) -> str:
        s, c = self.summary, self.config
        rows = [
            ("run", str(self.run_dir)),
            ("model", f"{c.model} on {c.dataset}, {c.optimizer} lr {c.lr:g}, batch {c.batch_size}"),
            ("status", self.status + (f" ({self.message})" if self.message else "")),
            *([("health", s["health_message"])] if s.get("health_message") else []),
            ("result", self._headline()),
        ]
        if "best_test_accuracy" in s:
            rows.append(
                ("best test accuracy", f"{100 * s['best_test_accuracy']:.2f}% at epoch {s['best_epoch']}")
            )
        if "train_seconds" in s:
            rows.append(
                (
                    "time",
                    f"{s['train_seconds']:.1f} s training + {s.get('compile_seconds', 0):.1f} s compiling",
                )
            )
        return html_rows(rows, css_class="mnistlab-run")
