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


class MissingExtraError(MnistlabError, ImportError):
    """An optional package that a requested feature needs is not installed (exit 1 in the CLI);
    the message names the extra to install, e.g. ``pip install 'mnistlab[tensorboard]'``."""


def check_int(param: str, value) -> int:
    """``value`` as an int (anything with ``__index__``), else a :class:`ConfigError` naming ``param``."""
    try:
        return operator.index(value)
    except TypeError:
        raise ConfigError(f"{param} must be an integer; got {value!r}") from None
