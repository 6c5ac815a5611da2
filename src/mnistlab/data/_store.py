"""The cache of verified dataset files: where it is, what is in it, how files get in.

Layout: ``<data_dir>/<dataset>/<file>[.gz]`` plus ``manifest.json`` recording where each file came
from and how it was verified. Files enter only verified and by an atomic rename, so a crash or a
failed check never leaves a half-written or unverified file under a real name. A folder of the same
layout that we cannot write to (``../shared/data``, say) works as a cache too: files are verified
when read, so the manifest is a record, not a requirement.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import shutil
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .._errors import ConfigError, DataError
from .._fs import atomic_write_bytes, temp_beside
from ._dataset import FileRecord
from ._idx import IMAGES_MAGIC, LABELS_MAGIC, IdxContent, read_idx_content
from ._registry import REGISTRY, DatasetInfo, IdxFile, get_info

ENV_DATA_DIR = "MNISTLAB_DATA_DIR"
ENV_OFFLINE = "MNISTLAB_OFFLINE"
MANIFEST = "manifest.json"


def resolve_data_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache root: ``path``, else ``$MNISTLAB_DATA_DIR``, else the user cache folder."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mnistlab", appauthor=False))


def offline() -> bool:
    """True when ``MNISTLAB_OFFLINE`` forbids every network access."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


ROWS_MAGIC = 0x00000C01  # int32, 1 dimension: a derived dataset's rows in its source


def magic_for(spec: IdxFile) -> int:
    return {"images": IMAGES_MAGIC, "labels": LABELS_MAGIC, "rows": ROWS_MAGIC}[spec.kind]


# How a file is verified when its only checksum is the content SHA-256 taken when it was imported.
IMPORT_SHA256 = "sha256-at-import"


def expected_shape(spec: IdxFile, info: DatasetInfo) -> tuple[int, ...]:
    """The array shape ``spec`` must have: ``(n, h, w)`` for images, ``(n,)`` for labels and rows."""
    n = info.split_sizes[spec.split]
    return (n, *info.image_shape) if spec.kind == "images" else (n,)


def check_label_range(labels, num_classes: int, where: str) -> None:
    """Labels must index the classes: a label of 200 in a 10-class file is damage, found at import."""
    labels = labels.ravel()
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
        raise DataError(
            f"{where} labels must lie in [0, {num_classes - 1}] for {num_classes} classes; found "
            f"{int(labels[bad[0]])} at index {int(bad[0])} ({len(bad)} label{'s' * (len(bad) != 1)} "
            "out of range)"
        )


def verify(content: IdxContent, spec: IdxFile, info: DatasetInfo, where: str, *, strict: bool) -> str:
    """Check ``content`` against the published facts of ``spec``; return how it was verified.

    ``strict`` (downloads) demands a checksum match; otherwise (local copies, which may be
    re-compressed) a file without a published content checksum passes on size and header alone.
    """
    expected = expected_shape(spec, info)
    if content.array.shape != expected:
        raise DataError(
            f"{where}: expected {info.title} {spec.split} {spec.kind} of shape {expected}, "
            f"found shape {content.array.shape}"
        )
    if spec.kind == "labels":
        check_label_range(content.array, info.num_classes, f"{where}: {info.title}")
    if spec.content_sha256:
        if content.content_sha256 != spec.content_sha256:
            if info.imported_from:
                raise DataError(
                    f"{where}: SHA-256 of the decompressed content is {content.content_sha256}, but "
                    f"{spec.content_sha256} was recorded when {info.name!r} was imported; the file has "
                    f"changed since: import it again with `mnistlab data import DIR --name {info.name}`"
                )
            raise DataError(
                f"{where}: SHA-256 of the decompressed content is {content.content_sha256}, "
                f"expected the published {spec.content_sha256}; the file is corrupt or not "
                f"{info.title}"
            )
        return IMPORT_SHA256 if info.imported_from else "content-sha256"
    if content.compressed and spec.gz_md5 and content.file_md5 == spec.gz_md5:
        return "gz-md5"
    if strict:
        raise DataError(
            f"{where}: MD5 of the file is {content.file_md5}, expected the published "
            f"{spec.gz_md5}; the download is corrupt or not {info.title}"
        )
    return "size-and-header"


# Reading and hashing 60,000 images takes about half a second; keep the last few results so that
# loading the same split twice in one process is free. Keyed by the file's identity on disk.
_MEMO: OrderedDict[tuple, tuple[IdxContent, str]] = OrderedDict()
_MEMO_SIZE = 8


def read_verified(path: Path, spec: IdxFile, info: DatasetInfo, *, strict: bool = False):
    """Read ``path`` as ``spec`` and verify it. Returns ``(IdxContent, verified_by)``."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size, spec, strict)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    content = read_idx_content(path, expect_magic=magic_for(spec), expect_shape=expected_shape(spec, info))
    verified_by = verify(content, spec, info, str(path), strict=strict)
    if verified_by == "size-and-header":
        verified_by = _check_recorded(path, content, info)
    result = content, verified_by
    _MEMO[key] = result
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return result


def _check_recorded(path: Path, content: IdxContent, info: DatasetInfo) -> str:
    """A file with no published content checksum (KMNIST's) is checked against the SHA-256 the
    manifest beside it recorded when it entered the cache, so tampering since is found."""
    entry = read_manifest(path.parent).get("files", {}).get(path.name, {})
    recorded = entry.get("content_sha256") if isinstance(entry, dict) else None
    if not recorded:
        return "size-and-header"
    if recorded != content.content_sha256:
        raise DataError(
            f"{path}: SHA-256 of the decompressed content is {content.content_sha256}, but "
            f"{recorded} was recorded when it entered the cache; the file has changed since: import "
            f"or fetch it again (`mnistlab data import DIR --name {info.name}`)"
        )
    return IMPORT_SHA256


def stored_names(spec: IdxFile) -> tuple[str, ...]:
    return (spec.gz_name, spec.filename)


def _alt_names(spec: IdxFile) -> tuple[str, ...]:
    # Archives extracted on some systems name them "train-images.idx3-ubyte".
    dotted = spec.filename.replace("-idx", ".idx")
    return (*stored_names(spec), dotted + ".gz", dotted)


def find_local(info: DatasetInfo, spec: IdxFile, root: Path) -> tuple[Path, str] | None:
    """The first copy of ``spec`` in the cache, then in the distribution's system folders."""
    for folder, origin in [(root / info.name, "cache")] + [(Path(d), "system") for d in info.system_dirs]:
        for name in stored_names(spec):
            if (folder / name).is_file():
                return folder / name, origin
    return None


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        return {}  # not one of ours: a record, not a requirement (files are verified when read)
    return manifest


def record_for(path: Path, content: IdxContent, verified_by: str, manifest: dict) -> FileRecord:
    entry = manifest.get("files", {}).get(path.name, {})
    source = entry.get("source") if entry.get("sha256") == content.file_sha256 else None
    return FileRecord(
        path=str(path),
        source=source or str(path),
        sha256=content.file_sha256,
        content_sha256=content.content_sha256,
        verified_by=verified_by,
    )


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Serialise manifest updates between processes sharing a cache (no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / ".lock", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def install_file(
    tmp: Path,
    folder: Path,
    name: str,
    spec: IdxFile,
    content: IdxContent,
    verified_by: str,
    source: str,
) -> Path:
    """Rename the verified temporary file ``tmp`` into ``folder/name`` and record it."""
    with _locked(folder):
        dest = folder / name
        os.replace(tmp, dest)
        for other in stored_names(spec):  # one copy per file: drop a differently compressed twin
            if other != name:
                (folder / other).unlink(missing_ok=True)
        manifest = read_manifest(folder)
        files = manifest.setdefault("files", {})
        for other in stored_names(spec):
            files.pop(other, None)
        files[name] = {
            "source": source,
            "sha256": content.file_sha256,
            "content_sha256": content.content_sha256,
            "content_size": content.content_size,
            "verified_by": verified_by,
            "added": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        atomic_write_bytes(folder / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return dest


def writable_folder(root: Path, info: DatasetInfo) -> Path:
    folder = root / info.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"data directory {folder}: cannot create it ({exc.strerror}); "
            f"choose a writable one with --data-dir or {ENV_DATA_DIR}"
        ) from None
    if not os.access(folder, os.W_OK):
        raise DataError(
            f"data directory {folder}: not writable; choose a writable one with --data-dir or {ENV_DATA_DIR}"
        )
    return folder


def import_builtin(
    source: str | os.PathLike, name: str, *, data_dir: str | os.PathLike | None = None
) -> tuple[list[FileRecord], list[str]]:
    """Validate the IDX files of built-in dataset ``name`` in ``source`` and copy them into the cache.

    Every file found is verified before any is copied; one bad file imports nothing. Returns the
    records of the imported files and the names of the dataset's files that were not in ``source``.
    """
    info = get_info(name)
    if not info.downloadable:
        raise ConfigError(
            f"dataset {name!r} is bundled with mnistlab and needs no import; --name must be one "
            f"of {', '.join(repr(n) for n, i in REGISTRY.items() if i.downloadable)}"
        )
    src = Path(source).expanduser()
    if not src.is_dir():
        found_what = "a file" if src.exists() else "nothing"
        raise DataError(f"import source {src}: expected a folder of IDX files, found {found_what}")
    found: list[tuple[IdxFile, Path]] = []
    missing: list[str] = []
    for spec in info.files:
        hit = next((src / n for n in _alt_names(spec) if (src / n).is_file()), None)
        if hit is None:
            missing.append(spec.filename)
        else:
            found.append((spec, hit))
    if not found:
        raise DataError(
            f"import source {src}: no {info.title} IDX files found; expected some of "
            f"{', '.join(s.filename + '[.gz]' for s in info.files)}"
        )
    checked = [(spec, path, *read_verified(path, spec, info)) for spec, path in found]
    folder = writable_folder(resolve_data_dir(data_dir), info)
    records = []
    for spec, path, content, verified_by in checked:
        name_in_cache = spec.gz_name if content.compressed else spec.filename
        with temp_beside(folder / name_in_cache) as tmp:
            shutil.copyfile(path, tmp)
            dest = install_file(tmp, folder, name_in_cache, spec, content, verified_by, str(path.resolve()))
        records.append(record_for(dest, content, verified_by, read_manifest(folder)))
    return records, missing
