"""Atomic file writes: a temporary file beside the target, renamed into place when complete.

A crash, an error or Ctrl-C mid-write leaves the previous file (or none) under the real name,
never half of one. Temporary files get the permissions a plain ``open`` would give (0666 less
the umask), not ``mkstemp``'s private 0600, so published files are readable as users expect.
"""

from __future__ import annotations

import contextlib
import errno
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


# A full disk and a full quota read the same to the user: free space, then try again.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def _write_file(path: Path, payload: bytes) -> None:
    with open(path, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically, creating the folder if needed.

    A full disk raises :class:`~mnistlab._errors.NoSpaceError` naming ``path`` (one line for the
    user, not an ``OSError`` traceback); the previous file, if any, is still there.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(path) as tmp:
            _write_file(tmp, payload)
            os.replace(tmp, path)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            from ._errors import NoSpaceError

            raise NoSpaceError(path, errno_=exc.errno, reason=exc.strerror or "") from None
        raise


def check_writable(path: str | os.PathLike, *, what: str, folder: bool = True) -> Path:
    """Check, before any work starts, that ``path`` (a folder, or a file when ``folder`` is false)
    could be created and written; raise a :class:`~mnistlab._errors.ConfigError` naming ``what``
    (e.g. ``"--out"``) otherwise. Nothing is left behind.

    Why a real probe rather than ``os.access``: root passes every permission check, yet cannot
    create files under ``/proc``; read-only mounts and full quotas fail the same way. The probe
    creates (and removes) a temporary file in the nearest folder that exists.
    """
    from ._errors import ConfigError

    path = Path(path).expanduser()
    if path.exists():
        if folder and not path.is_dir():
            raise ConfigError(f"{what} {path} is a file, not a folder; give a folder path")
        if not folder and path.is_dir():
            hint = path / "out.png"
            raise ConfigError(f"{what} {path} is a folder, not a file; give a file path, e.g. {hint}")
    parent = path if (folder and path.is_dir()) else path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(
            f"{what} {path} cannot be created: {parent} is a file, not a folder; choose another path"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".mnistlab-probe-", dir=parent)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ConfigError(
            f"{what} {path} cannot be written ({reason} in {parent}); choose a writable location"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return path
