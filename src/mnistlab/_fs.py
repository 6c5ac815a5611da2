"""Atomic file writes: a temporary file beside the target, renamed into place when complete.

A crash, an error or Ctrl-C mid-write leaves the previous file (or none) under the real name,
never half of one. Temporary files get the permissions a plain ``open`` would give (0666 less
the umask), not ``mkstemp``'s private 0600, so published files are readable as users expect.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def _default_mode() -> int:
    umask = os.umask(0o022)  # the only way to read the umask is to set it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def temp_beside(path: str | os.PathLike, *, suffix: str = ".part") -> Iterator[Path]:
    """Yield a fresh temporary path in ``path``'s folder; it is removed afterwards if still there."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        os.chmod(tmp, _default_mode())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically, creating the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with temp_beside(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
