"""Errors that mean "the user asked for something we cannot do", as opposed to bugs.

The CLI turns every :class:`MnistlabError` into a one-line message and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MnistlabError(Exception):
    """Base class of the errors caused by input: bad files, bad options, missing data."""


class DataError(MnistlabError, ValueError):
    """A dataset file, folder or download is missing, malformed or fails verification."""


class ConfigError(MnistlabError, ValueError):
    """A parameter has a value outside what is allowed."""


def check_choice(param: str, value: object, allowed) -> None:
    """Raise :class:`ConfigError` naming ``param``, the allowed values and ``value``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{param} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
