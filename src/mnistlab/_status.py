"""What a slow command is doing, on stderr: a spinner with the phase and its time on a terminal,
plain lines in a log, nothing with ``--quiet``.

The library reports through a plain callable, ``progress(text)``, called as each phase starts
(``write_report(..., progress=...)``, ``evaluate_run(..., progress=...)``): it knows nothing of
consoles, and ``None`` costs nothing. The command line makes one :class:`Status` and passes it.
Never stdout: ``--json`` output stays clean for a script to read.
"""

from __future__ import annotations

import time


class Status:
    """``status(text)``: the phase now running. A context manager: the spinner ends on exit.

    On a terminal, one transient line ``⠋ text  0:00:03`` (Rich), replaced by each phase. Piped,
    one plain line per FINISHED phase, ``text (1.2 s)``, so a log says where a slow command spent
    its time; a phase that ends in an error prints nothing, so a user error that stops a command
    in its first phase (a run folder that does not exist) is still one line on stderr.
    """

    def __init__(self, *, quiet: bool = False, console=None):
        self.quiet = quiet
        self._console = console
        self._progress = None
        self._task = None
        self._pending: tuple[str, float] | None = None  # piped: the phase running, printed when done

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)
        return self._console

    def __call__(self, text: str) -> None:
        if self.quiet:
            return
        if not self.console.is_terminal:
            self._flush()
            self._pending = (text, time.perf_counter())
            return
        if self._progress is None:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=self.console, transient=True,
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(text, total=None)
        else:
            self._progress.update(self._task, description=text)

    def _flush(self) -> None:
        if self._pending is not None:
            text, started = self._pending
            self._pending = None
            line = f"{text} ({time.perf_counter() - started:.1f} s)"
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def stop(self, *, failed: bool = False) -> None:
        """End the spinner; piped, print the last phase unless it ``failed``."""
        if failed:
            self._pending = None
        self._flush()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Status:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(failed=exc_type is not None)


def say(progress, text: str) -> None:
    """``progress(text)`` when a caller gave a progress callable; nothing otherwise."""
    if progress is not None:
        progress(text)
