"""The ``mnistlab`` command: one module per command group; each parses options and calls the library.

- ``_app``: the root app and what every command shares (errors and exit codes, JSON and table
  output, the ``--data-dir`` option);
- ``_params``: ``mnistlab train``'s options, generated from the config's declared fields;
- ``_data`` (``mnistlab data ...``), ``_train`` (``train``), ``_inspect`` (``evaluate``,
  ``predict``, ``report``), ``_export`` (``export``), ``_study`` (``mnistlab study ...``),
  ``_serve`` (``serve``), ``_devices`` (``devices``, and the multi-process options ``train`` shares).
"""

# Imported in the order their commands appear in `mnistlab --help`; each registers its commands.
from . import _data, _train, _speedrun, _inspect, _export, _study, _serve, _devices  # noqa: F401, I001
from ._app import app, main

__all__ = ["app", "main"]
