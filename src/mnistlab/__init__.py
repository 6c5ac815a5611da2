"""mnistlab: train, evaluate and inspect classifiers on MNIST-family data with JAX."""

from . import data
from ._errors import ConfigError, DataError, MissingExtraError, MnistlabError
from .data import Dataset, load

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
