"""mnistlab: train, evaluate and inspect classifiers on MNIST-family data with JAX."""

from ._errors import ConfigError, DataError, MissingExtraError, MnistlabError

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DataError",
    "Dataset",
    "MissingExtraError",
    "MnistlabError",
    "__version__",
    "data",
    "load",
]


def __getattr__(name: str):
    # The data names load on first use: `mnistlab.data` imports NumPy and more, which
    # `mnistlab --help` (every command starts by importing this package) need not pay for.
    if name in ("data", "Dataset", "load"):
        import importlib

        data = importlib.import_module(f"{__name__}.data")  # sets mnistlab.data: asked once
        return data if name == "data" else getattr(data, name)
    raise AttributeError(f"module 'mnistlab' has no attribute {name!r}")
