"""MNIST-family datasets: verified downloads, local imports, the offline sample, transforms.

>>> from mnistlab import data
>>> train = data.load("mnist-sample", "train")   # offline, 4,000 images
>>> x = data.scale(train.images)                  # float32 in [0, 1]
"""

from ._batching import batch_indices, iterate_batches, num_batches
from ._dataset import Dataset, FileRecord, Provenance
from ._download import download_file
from ._idx import IMAGES_MAGIC, LABELS_MAGIC, IdxContent, read_idx, read_idx_content, write_idx
from ._load import fetch, load, split_present, status
from ._registry import REGISTRY, SAMPLE_TITLE, DatasetInfo, IdxFile
from ._sample import load_sample, source_rows
from ._store import offline, resolve_data_dir
from ._summary import summarize
from ._transforms import (
    NormStats,
    corrupt_labels,
    fit_normalization,
    normalize,
    one_hot,
    pixel_moments,
    scale,
    select_classes,
    standardize_per_image,
    stratified_split_indices,
    train_val_split,
)
from ._user import cache_in_use, check_user_name, dataset_names, datasets, get_info, import_dir

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "REGISTRY",
    "SAMPLE_TITLE",
    "Dataset",
    "DatasetInfo",
    "FileRecord",
    "IdxContent",
    "IdxFile",
    "NormStats",
    "Provenance",
    "batch_indices",
    "cache_in_use",
    "check_user_name",
    "corrupt_labels",
    "dataset_names",
    "datasets",
    "download_file",
    "fetch",
    "fit_normalization",
    "get_info",
    "import_dir",
    "iterate_batches",
    "load",
    "load_sample",
    "normalize",
    "num_batches",
    "offline",
    "one_hot",
    "pixel_moments",
    "read_idx",
    "read_idx_content",
    "resolve_data_dir",
    "scale",
    "select_classes",
    "source_rows",
    "split_present",
    "standardize_per_image",
    "status",
    "stratified_split_indices",
    "summarize",
    "train_val_split",
    "write_idx",
]
