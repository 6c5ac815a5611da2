"""Errors that mean "the user asked for something we cannot do", as opposed to bugs.

The CLI turns every :class:`MnistlabError` into a one-line message and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import operator


class MnistlabError(Exception):
    """Base class of the errors caused by input: bad files, bad options, missing data."""


class DataError(MnistlabError, ValueError):
    """A dataset file, folder or download is missing, malformed or fails verification."""


class ConfigError(MnistlabError, ValueError):
    """A parameter has a value outside what is allowed."""


class RunFolderError(DataError, ConfigError):
    """A run folder given to a command is damaged or incomplete (run.json without the facts a
    model is rebuilt from, unreadable parameters).

    Both kinds at once, on purpose: for the Python API it is a damaged file (a :class:`DataError`);
    for the command line it is a bad argument, so ``evaluate``, ``report``, ``predict`` and
    ``export`` all exit 2 on the same damaged folder (a :class:`ConfigError`).
    """


class NoSpaceError(DataError, OSError):
    """The disk (or quota) filled up while a file was being written; ``path`` is that file.

    Nothing half-written is left under the real name (writes are atomic); callers that know how
    to continue (``mnistlab train --resume``) say so in their own message. Still an ``OSError``
    (its ``errno`` kept), so code that catches the operating system's error keeps working; the
    message quotes the system's own words (a full disk or a full quota).
    """

    def __init__(self, path, hint: str = "free space and run the command again", *, errno_=28, reason=""):
        self.path = path
        reason = reason or "No space left on device"
        super().__init__(f"no space left on device while writing {path} ({reason}); {hint}")
        self.errno, self.reason = errno_, reason

    def again(self, hint: str) -> NoSpaceError:
        """The same error with another ``hint`` (e.g. the resume command of a run)."""
        return NoSpaceError(self.path, hint, errno_=self.errno, reason=self.reason)


class MissingExtraError(MnistlabError, ImportError):
    """An optional package that a requested feature needs is not installed (exit 1 in the CLI);
    the message names the extra to install, e.g. ``pip install 'mnistlab[tensorboard]'``."""


def check_int(param: str, value) -> int:
    """``value`` as an int (anything with ``__index__``), else a :class:`ConfigError` naming ``param``."""
    try:
        return operator.index(value)
    except TypeError:
        raise ConfigError(f"{param} must be an integer; got {value!r}") from None
