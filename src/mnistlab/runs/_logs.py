"""A run's logs (metrics.jsonl, metrics.csv, steps.csv): appended one epoch at a time, read back
whole or up to a checkpoint's epoch.

Why append-only: rewriting every file after every epoch made writing O(epochs) per epoch, so a
1,069-epoch run spent 36 s training and 12 minutes writing. Each epoch now appends its own lines
(flushed and fsynced), and the checkpoint holds only the training state and its epoch: resuming
rebuilds the history from these logs. Logs are appended *before* the checkpoint is written, so
after a kill they hold at most one epoch more than the checkpoint, never less; a line without its
trailing newline (torn by a kill mid-append) is ignored when reading. A full atomic rewrite is kept
for the rare moments that need one: the first epoch, a resume (which cuts the logs back to the
checkpoint) and an interruption (which may have cut an append short).
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._fs import DISK_FULL, atomic_write_bytes
from ._files import csv_bytes, finite, mean_std


@dataclass
class LogState:
    """What the log files hold so far: epochs, steps, and metrics.csv's columns (key -> has a std
    column). Kept in memory by the writer, so an append needs no read."""

    epochs: int = 0
    steps: int = 0
    columns: dict[str, bool] = field(default_factory=dict)


def complete_lines(text: str) -> list[str]:
    """The lines of ``text`` that were written whole: a last line without its newline is dropped
    (an append cut short by a kill)."""
    lines = text.split("\n")
    return lines[:-1]  # the part after the last newline: "" when whole, a torn line otherwise


def append_bytes(path: Path, payload: bytes) -> None:
    """Append ``payload`` to ``path`` and fsync, so a line that was written survives a power cut."""
    try:
        with open(path, "ab") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        if exc.errno in DISK_FULL:
            from .._errors import NoSpaceError

            raise NoSpaceError(path, errno_=exc.errno, reason=exc.strerror or "") from None
        raise


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(finite(r), allow_nan=False) + "\n" for r in records).encode()


def _grow_columns(columns: dict[str, bool], records: list[dict]) -> dict[str, bool]:
    out = dict(columns)
    for r in records:
        for k, v in r.items():
            out[k] = out.get(k, False) or isinstance(v, list)
    return out


def _header(columns: dict[str, bool], several: bool) -> list[str]:
    header = []
    for k, has_list in columns.items():
        header.append(k)
        if several and has_list:
            header.append(f"{k}_std")
    return header


def _rows(records: list[dict], columns: dict[str, bool], several: bool) -> list[list]:
    rows = []
    for r in records:
        row = []
        for k, has_list in columns.items():
            v = r.get(k, "")
            if isinstance(v, list):
                m, s = mean_std(v)
                row.append(m)
                if several:
                    row.append(s)
            else:
                row.append(v)
                if several and has_list:
                    row.append("")
        rows.append(row)
    return rows


def _step_rows(step_loss: list, first_epoch: int, first_step: int, several: bool) -> list[list]:
    rows, step = [], first_step
    for e, losses in enumerate(step_loss, start=first_epoch):
        losses = np.asarray(losses)
        for j in range(losses.shape[1]):
            step += 1
            col = losses[:, j]
            rows.append([e, step, float(col.mean()), *([float(v) for v in col] if several else [])])
    return rows


def write_all(folder: Path, names: tuple[str, str, str], history, seeds) -> LogState:
    """Rewrite the three logs atomically from ``history``; returns what they now hold."""
    metrics, table, steps = (folder / n for n in names)
    several = len(seeds) > 1
    columns = _grow_columns({}, history.epochs)
    atomic_write_bytes(metrics, _jsonl(history.epochs))
    rows = _rows(history.epochs, columns, several)
    atomic_write_bytes(table, csv_bytes([_header(columns, several), *rows]))
    head = ["epoch", "step", "loss"] + ([f"loss_seed{s}" for s in seeds] if several else [])
    body = _step_rows(history.step_loss, 1, 0, several)
    atomic_write_bytes(steps, csv_bytes([head, *body]))
    return LogState(len(history.epochs), len(body), columns)


def append_new(folder: Path, names: tuple[str, str, str], history, seeds, state: LogState) -> LogState:
    """Append the epochs of ``history`` past ``state.epochs`` to the three logs; O(1) per epoch.

    metrics.csv is rewritten instead only when a record brings a column it lacks (a diverged
    epoch's ``diverged`` flag), so its header always names every column.
    """
    metrics, table, steps = (folder / n for n in names)
    several = len(seeds) > 1
    new = history.epochs[state.epochs :]
    new_steps = _step_rows(history.step_loss[state.epochs :], state.epochs + 1, state.steps, several)
    # steps.csv first, metrics.jsonl last: whichever a kill interrupts, resume cuts both back.
    append_bytes(steps, csv_bytes(new_steps))
    columns = _grow_columns(state.columns, new)
    if columns == state.columns:  # new keys only ever join at the end, so equal means same header
        append_bytes(table, csv_bytes(_rows(new, columns, several)))
    else:
        rows = _rows(history.epochs, columns, several)
        atomic_write_bytes(table, csv_bytes([_header(columns, several), *rows]))
    append_bytes(metrics, _jsonl(new))
    return LogState(len(history.epochs), state.steps + len(new_steps), columns)


def read_records(path: Path) -> list[dict]:
    """metrics.jsonl's records (a torn last line ignored; a damaged whole line is a DataError)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise DataError(
            f"{path} does not exist: {path.parent} is not a run folder, or no epoch has finished yet"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} cannot be read ({exc})") from None
    records = []
    for i, line in enumerate(complete_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}, line {i}: not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(record, dict):
            got = type(record).__name__
            raise DataError(f"{path}, line {i}: expected a JSON object (one epoch); got {got}")
        records.append(record)
    return records


def read_steps(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """steps.csv as (each step's epoch, losses ``(steps, seeds)`` float64); None without the file.

    One seed has only the ``loss`` column; several have ``loss_seed<s>`` each (exact per seed,
    so a resumed history is bit-identical to the one the run held)."""
    if not path.is_file():
        return None
    try:
        rows = list(csv.reader(io.StringIO("\n".join(complete_lines(path.read_text())))))
        header, body = rows[0], [r for r in rows[1:] if r]
        cols = [j for j, h in enumerate(header) if h.startswith("loss_seed")] or [header.index("loss")]
        e = header.index("epoch")
        epochs = np.array([int(r[e]) for r in body], dtype=np.int64)
        losses = np.array([[float(r[j]) for j in cols] for r in body], dtype=np.float64)
        losses = losses.reshape(len(body), len(cols))
    except (OSError, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise DataError(f"{path} is not a steps table (epoch,step,loss[,loss_seed<s>...]): {exc}") from None
    return epochs, losses
