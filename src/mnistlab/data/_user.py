"""Datasets users bring: any IDX files, any image size, any class count, registered in the cache.

``mnistlab data import DIR --name NAME`` checks a folder's four standard IDX files (header, shapes,
labels against the class count) and copies them into ``<cache>/NAME/``, whose ``manifest.json``
then describes the dataset: image shape, split sizes, class names, and the SHA-256 of each file's
decompressed content taken at import. That manifest is the dataset's registry entry, so every
command finds it by name like a built-in one, and every load checks the files against those
checksums (a file changed since import is refused, as a corrupt download would be).

Why the cache and not a config file: the cache is already where datasets live, is named by
``--data-dir`` / ``$MNISTLAB_DATA_DIR`` everywhere, and a copy there cannot change under us the way
the user's original folder can.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path

from .._errors import ConfigError, DataError
from .._fs import atomic_write_bytes, temp_beside
from . import _registry
from ._dataset import FileRecord
from ._idx import IMAGES_MAGIC, LABELS_MAGIC, IdxContent, read_idx_content
from ._registry import SPLITS, DatasetInfo, idx_files
from ._store import (
    IMPORT_SHA256,
    MANIFEST,
    _alt_names,
    _locked,
    check_label_range,
    import_builtin,
    read_manifest,
    resolve_data_dir,
    stored_names,
    writable_folder,
)

# A safe folder name on every system, that reads as a command-line word: no path separators, no
# leading dot (hidden) or dash (an option), no upper case (case-insensitive file systems).
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RESERVED = ("auto",)  # `--dataset auto` means "MNIST, else the sample"
MAX_CLASSES = 10_000  # a typo's guard: class names are listed in every report
_KIND = "imported"  # the manifest's "dataset" entry marks a user's dataset


def check_user_name(name) -> str:
    """``name`` if it can name a user's dataset, else a ConfigError saying why and what fits."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"--name must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit (it becomes a folder in the cache); got {name!r}, e.g. --name my-digits"
        )
    if name in _registry.REGISTRY or name in RESERVED:
        raise ConfigError(
            f"--name {name!r} is taken by mnistlab itself; choose another name for your dataset"
        )
    return name


def parse_classes(classes: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"a,b,c"`` (or a sequence) -> class names, distinct and non-empty; None stays None."""
    if classes is None:
        return None
    names = [c.strip() for c in classes.split(",")] if isinstance(classes, str) else [str(c) for c in classes]
    if any(not n for n in names) or len(set(names)) != len(names) or not 2 <= len(names) <= MAX_CLASSES:
        raise ConfigError(
            f"--classes must be 2 to {MAX_CLASSES:,} distinct, non-empty names separated by commas, one "
            f"per label 0, 1, ...; got {classes if isinstance(classes, str) else ','.join(names)!r}, "
            'e.g. --classes "cat,dog,bird"'
        )
    return tuple(names)


def _damaged(folder: Path, what: str) -> DataError:
    return DataError(
        f"{folder / MANIFEST}: {what}; the dataset's record is damaged: import it again with "
        f"`mnistlab data import DIR --name {folder.name}`"
    )


def user_info(folder: Path) -> DatasetInfo | None:
    """The dataset a user imported into ``folder`` (``<cache>/<name>``), or None if it holds none."""
    manifest = read_manifest(folder)
    entry = manifest.get("dataset")
    if not isinstance(entry, dict) or entry.get("kind") != _KIND:
        return None
    try:
        names = tuple(entry["class_names"])
        h, w = (int(v) for v in entry["image_shape"])
        sizes = {s: int(entry["split_sizes"][s]) for s in SPLITS}
        source = str(entry.get("source", ""))
        ok = all(isinstance(n, str) for n in names) and len(names) >= 2 and min(h, w, *sizes.values()) >= 1
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise _damaged(
            folder, "its 'dataset' entry lacks or garbles the class names, image shape or split sizes"
        )
    files = manifest.get("files", {})
    sha = {}
    for spec in idx_files(sizes, {}, {}, (h, w)):
        recorded = [
            files[n].get("content_sha256") for n in stored_names(spec) if isinstance(files.get(n), dict)
        ]
        if not recorded or not isinstance(recorded[0], str):
            raise _damaged(folder, f"no SHA-256 is recorded for {spec.filename}")
        sha[spec.filename] = recorded[0]
    return DatasetInfo(
        name=folder.name,
        title=str(entry.get("title") or folder.name),
        class_names=names,
        split_sizes=sizes,
        image_shape=(h, w),
        files=idx_files(sizes, sha, {}, (h, w)),
        imported_from=source or "a local folder",
    )


def user_datasets(data_dir: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """The datasets users imported into the cache, by name. A damaged record is skipped here (it
    is reported when the dataset is asked for by name)."""
    root = resolve_data_dir(data_dir)
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))
    except OSError:  # no cache yet, or unreadable: then nobody imported anything into it
        return []
    out = []
    for folder in folders:
        if folder.name in _registry.REGISTRY or not (folder / MANIFEST).is_file():
            continue
        with contextlib.suppress(DataError):
            if (info := user_info(folder)) is not None:
                out.append(info)
    return out


# The cache a command was given with --data-dir: a config checks its dataset's name before any
# data_dir reaches the loader, so the names imported there must be known while the command runs.
_CACHE_IN_USE: ContextVar[Path | None] = ContextVar("mnistlab_cache_in_use", default=None)


@contextlib.contextmanager
def cache_in_use(data_dir: str | os.PathLike | None) -> Iterator[None]:
    """Inside, :func:`dataset_names` (without ``data_dir``) also lists what is imported into
    ``data_dir``: the CLI wraps each command given ``--data-dir`` in it."""
    token = _CACHE_IN_USE.set(resolve_data_dir(data_dir) if data_dir else None)
    try:
        yield
    finally:
        _CACHE_IN_USE.reset(token)


def dataset_names(data_dir: str | os.PathLike | None = None) -> tuple[str, ...]:
    """Every dataset name that works in ``--dataset``: the built-in ones, then the user's in the cache
    (``data_dir``; else the default cache and, inside :func:`cache_in_use`, that one too).

    The one list of known names: configs, studies and the CLI read it when they check a name.
    """
    roots = [data_dir] if data_dir else [None, *filter(None, [_CACHE_IN_USE.get()])]
    mine = {info.name for root in roots for info in user_datasets(root)}
    return (*_registry.REGISTRY, *sorted(mine))


def datasets(data_dir: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """The built-in datasets, then those imported into the cache (what ``mnistlab data list`` shows)."""
    return [*_registry.REGISTRY.values(), *user_datasets(data_dir)]


def get_info(name: str, *, data_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """The description of dataset ``name``: a built-in one, else one imported into the cache.

    A :class:`ConfigError` lists the valid names otherwise.
    """
    if isinstance(name, str) and name in _registry.REGISTRY:
        return _registry.REGISTRY[name]
    root = resolve_data_dir(data_dir)
    if isinstance(name, str) and _NAME.fullmatch(name) and (root / name / MANIFEST).is_file():
        info = user_info(root / name)
        if info is not None:
            return info
    mine = [info.name for info in user_datasets(data_dir)]
    theirs = f" or imported into {root}: {', '.join(map(repr, mine))}" if mine else ""
    raise ConfigError(
        f"dataset must be one of {', '.join(map(repr, _registry.REGISTRY))} (built in){theirs}; "
        f"got {name!r}; to use your own IDX files, run `mnistlab data import DIR --name NAME` first"
    )


def import_dir(
    source: str | os.PathLike,
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    classes: str | Sequence[str] | None = None,
) -> tuple[list[FileRecord], list[str]]:
    """Validate the IDX files in folder ``source`` and copy them into the cache as dataset ``name``.

    A built-in ``name`` (mnist, fashion-mnist, kmnist) verifies the files against its published
    checksums; any other (safe) name registers the user's own dataset: the folder must hold the
    four standard files (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte``,
    ``t10k-...``) of any image size; ``classes`` names the classes (default: ``0``, ``1``, ...,
    as many as the largest label needs). Every file is checked before any is copied; one bad
    file imports nothing. Returns the imported files' records and the names of files not found.
    """
    if isinstance(name, str) and name in _registry.REGISTRY:
        if classes is not None:
            raise ConfigError(
                f"--classes names the classes of your own datasets; {name!r} is built in and has its own"
            )
        return import_builtin(source, name, data_dir=data_dir)
    name = check_user_name(name)
    class_names = parse_classes(classes)
    src = Path(source).expanduser()
    if not src.is_dir():
        found_what = "a file" if src.exists() else "nothing"
        raise DataError(f"import source {src}: expected a folder of IDX files, found {found_what}")
    specs = idx_files(dict.fromkeys(SPLITS, 0), {}, {})  # the names only; sizes come from the files
    found = {}
    for spec in specs:
        hit = next((src / n for n in _alt_names(spec) if (src / n).is_file()), None)
        if hit is not None:
            found[spec.split, spec.kind] = hit
    missing = [s.filename + "[.gz]" for s in specs if (s.split, s.kind) not in found]
    if missing:
        raise DataError(
            f"import source {src}: a dataset of your own needs all four IDX files; missing "
            f"{', '.join(missing)} (raw or gzip)"
        )
    contents = _read_splits(src, found)
    labels = {s: contents[s, "labels"].array for s in SPLITS}
    k = len(class_names) if class_names else max(int(a.max()) for a in labels.values()) + 1
    if k < 2:
        raise DataError(f"import source {src}: every label is 0; a classifier needs at least two classes")
    for s in SPLITS:  # with --classes, a label past the names is an error, never a silent new class
        how = f" (--classes names {k})" if class_names else ""
        check_label_range(labels[s], k, f"{found[s, 'labels']}{how}:")
    sizes = {s: len(labels[s]) for s in SPLITS}
    shape = contents["train", "images"].array.shape[1:]
    sha = {spec.filename: contents[spec.split, spec.kind].content_sha256 for spec in specs}
    info = DatasetInfo(
        name=name,
        title=name,
        class_names=class_names or tuple(str(i) for i in range(k)),
        split_sizes=sizes,
        image_shape=shape,
        files=idx_files(sizes, sha, {}, shape),
        imported_from=str(src.resolve()),
    )
    return _install(info, found, contents, data_dir), []


def _read_splits(src: Path, found: dict) -> dict[tuple[str, str], IdxContent]:
    """Read and check each split: labels first, so the images' header is checked against their count
    before a byte of the (possibly huge) image data is decompressed."""
    contents = {}
    for split in SPLITS:
        labels = read_idx_content(found[split, "labels"], expect_magic=LABELS_MAGIC)
        n = len(labels.array)
        if n == 0:
            raise DataError(f"{found[split, 'labels']}: holds no labels; each split needs at least one image")
        images = read_idx_content(
            found[split, "images"], expect_magic=IMAGES_MAGIC, expect_shape=(n, None, None)
        )
        if min(images.array.shape[1:]) < 1:
            raise DataError(
                f"{found[split, 'images']}: images of shape {images.array.shape[1:]} hold no pixels"
            )
        contents[split, "labels"], contents[split, "images"] = labels, images
    train_shape, test_shape = (contents[s, "images"].array.shape[1:] for s in SPLITS)
    if train_shape != test_shape:
        raise DataError(
            f"import source {src}: training images are {train_shape[0]}x{train_shape[1]} but test images "
            f"{test_shape[0]}x{test_shape[1]}; both splits need one image size"
        )
    return contents


def _install(info: DatasetInfo, found: dict, contents: dict, data_dir) -> list[FileRecord]:
    """Copy every file beside its final name first, then rename them all and write the manifest in
    one go: a failure on the way leaves the cache as it was (no half-imported dataset)."""
    folder = writable_folder(resolve_data_dir(data_dir), info)
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    with contextlib.ExitStack() as stack:
        staged = []
        for spec in info.files:
            content, path = contents[spec.split, spec.kind], found[spec.split, spec.kind]
            name = spec.gz_name if content.compressed else spec.filename
            tmp = stack.enter_context(temp_beside(folder / name))
            shutil.copyfile(path, tmp)
            staged.append((spec, name, tmp, content, path))
        with _locked(folder):
            manifest = {
                "dataset": {
                    "kind": _KIND,
                    "title": info.title,
                    "class_names": list(info.class_names),
                    "image_shape": list(info.image_shape),
                    "split_sizes": dict(info.split_sizes),
                    "source": info.imported_from,
                    "added": now,
                },
                "files": {},
            }
            for spec, name, tmp, content, path in staged:
                os.replace(tmp, folder / name)
                for other in stored_names(spec):  # one copy per file: drop a differently compressed twin
                    if other != name:
                        (folder / other).unlink(missing_ok=True)
                manifest["files"][name] = {
                    "source": str(path.resolve()),
                    "sha256": content.file_sha256,
                    "content_sha256": content.content_sha256,
                    "content_size": content.content_size,
                    "verified_by": IMPORT_SHA256,
                    "added": now,
                }
            atomic_write_bytes(folder / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return [
        FileRecord(str(folder / name), str(path.resolve()), c.file_sha256, c.content_sha256, IMPORT_SHA256)
        for _, name, _, c, path in staged
    ]


__all__ = ["cache_in_use", "dataset_names", "datasets", "get_info", "import_dir", "user_datasets"]
