"""Real data: full Fashion-MNIST, the real MNIST test split, imports (the bundled sample: test_sample.py)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from mnistlab import DataError
from mnistlab.data import _registry as registry
from mnistlab.data import import_dir, load, status

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def content_sums(shared: Path) -> dict[str, tuple[str, int]]:
    """CONTENT-SHA256 as ``{"folder/file": (sha256, size)}``."""
    out = {}
    for line in (shared / "CONTENT-SHA256").read_text().splitlines():
        if line.strip():
            sha, rel, size = line.split()
            out[rel] = (sha, int(size))
    return out


def check_records(ds, sums: dict[str, tuple[str, int]], folder: str) -> None:
    prefix = "train" if ds.split == "train" else "t10k"
    by_name = {Path(r.path).name.removesuffix(".gz"): r for r in ds.provenance.files}
    assert set(by_name) == {f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"}
    for name, record in by_name.items():
        assert record.content_sha256 == sums[f"{folder}/{name}"][0]
        assert record.verified_by == "content-sha256"
        assert record.sha256 == hashlib.sha256(Path(record.path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- full Fashion-MNIST


@pytest.mark.full_data
class TestFashionMnist:
    @pytest.mark.parametrize(("split", "n", "per_class"), [("train", 60000, 6000), ("test", 10000, 1000)])
    def test_loads_from_a_data_dir(self, shared_data, split, n, per_class):
        ds = load("fashion-mnist", split, data_dir=shared_data)
        assert len(ds) == n
        assert ds.images.shape == (n, 28, 28)
        assert ds.images.dtype == np.uint8
        assert ds.class_counts().tolist() == [per_class] * 10
        assert ds.class_names[0] == "T-shirt/top"
        assert ds.class_names[9] == "Ankle boot"
        assert ds.title == "Fashion-MNIST"
        assert ds.provenance.origin == "cache"
        check_records(ds, content_sums(shared_data), "fashion-mnist")

    def test_loads_from_the_debian_location(self, shared_data, monkeypatch, tmp_path):
        # Debian installs the files under /usr/share/datasets/fashion-mnist; point the registry's
        # system folder at the same files (the shared copy is exactly what the package installs).
        debian = str(shared_data / "fashion-mnist")
        info = dataclasses.replace(registry.FASHION_MNIST, system_dirs=(debian,))
        monkeypatch.setattr(
            registry, "REGISTRY", MappingProxyType({**registry.REGISTRY, "fashion-mnist": info})
        )
        assert status(info, data_dir=tmp_path) == "yes (system)"
        ds = load("fashion-mnist", "test", data_dir=tmp_path)
        assert len(ds) == 10000
        assert ds.class_counts().tolist() == [1000] * 10
        assert ds.provenance.origin == "system"
        assert all(Path(r.path).parent == Path(debian) for r in ds.provenance.files)
        check_records(ds, content_sums(shared_data), "fashion-mnist")
        assert not (tmp_path / "fashion-mnist").exists()  # read in place, not copied


# ------------------------------------------------------------------------ the real MNIST test split


def _gunzip_to(src: Path, dest: Path) -> bytes:
    data = gzip.decompress(src.read_bytes())
    dest.write_bytes(data)
    return data


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.full_data
class TestMnistImport:
    def test_import_and_load_the_test_split(self, shared_data, tmp_path):
        cache = tmp_path / "cache"
        source = shared_data / "mnist-test"
        records, missing = import_dir(source, "mnist", data_dir=cache)
        assert missing == ["train-images-idx3-ubyte"]
        assert sorted(Path(r.path).name for r in records) == sorted(
            f + ".gz" for f in FILES if f != "train-images-idx3-ubyte"
        )
        for r in records:
            assert r.verified_by == "content-sha256"
            assert r.source == str((source / Path(r.path).name).resolve())
            assert Path(r.path).read_bytes() == (source / Path(r.path).name).read_bytes()
        assert status(registry.MNIST, data_dir=cache) == "partial (3/4 files)"

        sums = content_sums(shared_data)
        test = load("mnist", "test", data_dir=cache)
        assert len(test) == 10000
        assert test.title == "MNIST"
        assert test.provenance.origin == "cache"
        assert test.class_counts().sum() == 10000
        assert (test.class_counts() > 800).all()
        check_records(test, sums, "mnist-test")

        with pytest.raises(DataError) as err:
            load("mnist", "train", data_dir=cache)
        message = str(err.value)
        assert "train-images-idx3-ubyte" in message
        assert "mnistlab data import" in message
        assert "--data-dir" in message

    @pytest.mark.parametrize("how", ["raw", "gz"])
    def test_a_corrupt_file_imports_nothing(self, shared_data, tmp_path, how):
        source = tmp_path / "source"
        source.mkdir()
        for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            shutil.copy(shared_data / "mnist-test" / name, source / name)
        labels_gz = shared_data / "mnist-test" / "train-labels-idx1-ubyte.gz"
        if how == "raw":
            data = bytearray(gzip.decompress(labels_gz.read_bytes()))
            data[8 + 12345] ^= 0x01  # one label changes (still a digit)
            (source / "train-labels-idx1-ubyte").write_bytes(bytes(data))
            match = "SHA-256 of the decompressed content"
        else:
            data = bytearray(labels_gz.read_bytes())
            data[len(data) // 2] ^= 0xFF  # inside the deflate stream
            (source / "train-labels-idx1-ubyte.gz").write_bytes(bytes(data))
            match = "train-labels-idx1-ubyte"
        cache = tmp_path / "cache"
        with pytest.raises(DataError, match=match):
            import_dir(source, "mnist", data_dir=cache)
        assert not cache.exists() or _snapshot(cache) == {}

        # A cache that already holds good files keeps exactly what it had.
        import_dir(shared_data / "mnist-test", "mnist", data_dir=cache)
        before = _snapshot(cache)
        with pytest.raises(DataError, match=match):
            import_dir(source, "mnist", data_dir=cache)
        assert _snapshot(cache) == before

    def test_a_file_of_another_dataset_is_rejected(self, shared_data, tmp_path):
        source = tmp_path / "source"
        source.mkdir()
        shutil.copy(
            shared_data / "fashion-mnist" / "train-labels-idx1-ubyte.gz",
            source / "train-labels-idx1-ubyte.gz",
        )
        cache = tmp_path / "cache"
        with pytest.raises(DataError, match=r"SHA-256 .* expected the published .* not MNIST"):
            import_dir(source, "mnist", data_dir=cache)
        assert not cache.exists() or _snapshot(cache) == {}

    def test_uncompressed_copies_import_too(self, shared_data, tmp_path):
        source = tmp_path / "source"
        source.mkdir()
        _gunzip_to(
            shared_data / "mnist-test" / "t10k-labels-idx1-ubyte.gz", source / "t10k-labels-idx1-ubyte"
        )
        cache = tmp_path / "cache"
        records, missing = import_dir(source, "mnist", data_dir=cache)
        assert [Path(r.path).name for r in records] == ["t10k-labels-idx1-ubyte"]
        assert records[0].content_sha256 == content_sums(shared_data)["mnist-test/t10k-labels-idx1-ubyte"][0]
        assert len(missing) == 3
