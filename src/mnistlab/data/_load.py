"""``load`` and ``fetch``: a dataset split from the cache, the system, a mirror, or the sample."""

from __future__ import annotations

import os
from collections.abc import Sequence

from .._errors import DataError
from ._dataset import Dataset, FileRecord, Provenance
from ._download import DEFAULT_TIMEOUT, download_file, offline_fix
from ._registry import SPLITS, DatasetInfo
from ._sample import bundled_status, load_bundled
from ._store import (
    ENV_OFFLINE,
    find_local,
    offline,
    read_manifest,
    read_verified,
    record_for,
    resolve_data_dir,
)
from ._user import get_info


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
    """Load one split of a dataset (built in, or imported into the cache), verified.

    Looks in the cache (``data_dir``, ``$MNISTLAB_DATA_DIR`` or the user cache folder), then in
    the folders a distribution installs the dataset into (Debian's Fashion-MNIST), then downloads
    unless ``download=False`` or ``MNISTLAB_OFFLINE=1``. ``mnist-sample`` ships inside the package
    and never touches the network. Nothing is ever substituted for what was asked.
    """
    info = get_info(name, data_dir=data_dir)
    info.check_split(split)
    if info.bundled:
        return load_bundled(info, split)
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
        elif info.imported_from:  # nothing to download: the user's own files left the cache
            raise DataError(
                f"{info.name} {split} split: {spec.filename}[.gz] is missing from {root / info.name}; "
                f"import the dataset again with `mnistlab data import DIR --name {info.name}`"
            )
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
    records: dict[str, FileRecord] = {}  # by path, in case splits ever share a file
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


def split_present(info: DatasetInfo, split: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether every file of ``split`` is here (bundled, cached or installed), checked or not.

    Tells a damaged split (present, fails its checks: an error) from a missing one (not available).
    """
    if info.bundled:
        return True
    root = resolve_data_dir(data_dir)
    return all(find_local(info, spec, root) for spec in info.files if spec.split == split)


def status(info: DatasetInfo, data_dir: str | os.PathLike | None = None) -> str:
    """How much of ``info`` is available without a download: 'bundled', 'yes', 'partial' or 'no'."""
    if info.bundled:
        return bundled_status(info)
    root = resolve_data_dir(data_dir)
    hits = [find_local(info, spec, root) for spec in info.files]
    if all(hits):
        where = {origin for _, origin in hits}
        return "yes" if where == {"cache"} else "yes (" + ", ".join(sorted(where)) + ")"
    if any(hits):
        have = [spec.filename for spec, h in zip(info.files, hits, strict=True) if h]
        return f"partial ({len(have)}/{len(hits)} files)"
    return "no"
