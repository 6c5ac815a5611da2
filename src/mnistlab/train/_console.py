"""What a person watching training sees: a header, a line per epoch, a progress bar.

Everything goes to stderr through Rich, so stdout carries only the final summary and a script
can capture it; ``quiet`` silences all of it. On a terminal the bar also moves WITHIN an epoch
(the compiled epoch calls back every few steps, see ``_progress``); piped, there is no bar, so
no callback is compiled in and the log gets one plain line per epoch.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from ..runs import format_seeds as fmt
from . import _progress


class ConsoleReporter:
    def __init__(self, console: Console | None = None, *, quiet: bool = False, title: str = ""):
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self.title = title
        self.progress: Progress | None = None
        self.task = None
        self.by_steps = False  # --steps: each line says its step, not its chunk
        self.listener: _progress.StepListener | None = None
        self.epochs_done = 0

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False, markup=False)

    def start(self, engine, start_epoch: int) -> None:
        if self.quiet:
            return
        self.by_steps = bool(engine.config.steps)
        if self.title:
            self.note(self.title)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task(
            "compiling", total=engine.config.epochs, completed=start_epoch, info=""
        )
        self.epochs_done = start_epoch
        if self.console.is_terminal:  # nobody sees a bar in a log: compile no callback for it
            self.listener = _progress.attach(engine, self._step)

    def _step(self, done: int, total: int) -> None:
        """Called from the running epoch (XLA's callback thread; Rich's Progress has a lock)."""
        progress = self.progress
        if progress is not None:
            progress.update(
                self.task, completed=self.epochs_done + done / total, info=f"step {done:,}/{total:,}"
            )

    def compiled(self, seconds: float) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description="epoch")
            self.progress.console.print(f"compiled in {seconds:.1f} s", highlight=False)

    def epoch(self, record: dict, history) -> None:
        if self.quiet:
            return
        parts = [f"step {record['step']:>6,}" if self.by_steps else f"epoch {record['epoch']:>3}"]
        parts.append(f"loss {fmt(record['train_loss'], percent=False)}")
        if "train_accuracy" in record:
            parts.append(f"acc {fmt(record['train_accuracy'], percent=True)}")
        for name in ("validation", "test", "train_eval"):
            key = f"{name}_accuracy" if f"{name}_accuracy" in record else f"{name}_loss"
            if key in record:
                label = {"validation": "val", "train_eval": "train(eval)"}.get(name, name)
                parts.append(f"{label} {fmt(record[key], percent=key.endswith('accuracy'))}")
        parts.append(f"{record['epoch_seconds']:.2f} s")
        parts.append(f"{record['examples_per_second']:,.0f} ex/s")
        line = "  ".join(parts)
        if record.get("diverged"):
            line += "  (diverged)"
        self.epochs_done = record["epoch"]
        if self.listener is not None:
            self.listener.reset()
        if self.progress is not None:
            self.progress.console.print(line, highlight=False, markup=False)
            self.progress.update(self.task, completed=record["epoch"], info=parts[1])
        else:
            self.note(line)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
