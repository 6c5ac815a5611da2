"""Public names a package imports only when first used (PEP 562), so that importing the package
stays cheap: ``mnistlab --help`` and config checks read registries without JAX or NumPy.

    _LAZY = {"RunDir": ("_rundir", "RunDir"), "conv2d": "_conv"}   # a module, or (module, name)
    __getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY)
"""

from __future__ import annotations

import importlib


def lazy_names(package: str, namespace: dict, table: dict):
    """``(__getattr__, __dir__)`` for ``package``: a name of ``table`` is imported from its module
    on first access and then kept in ``namespace`` (an ordinary attribute from then on).
    ``__dir__`` lists ``__all__``, which the package defines as usual."""

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        entry = table[name]
        module, attr = entry if isinstance(entry, tuple) else (entry, name)
        value = getattr(importlib.import_module(f"{package}.{module}"), attr)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.get("__all__", set(namespace) | set(table)))

    return __getattr__, __dir__
