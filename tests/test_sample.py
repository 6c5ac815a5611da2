"""The bundled MNIST sample: offline, verified on load, traceable to its rows of MNIST, never MNIST."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from mnistlab import ConfigError, DataError
from mnistlab.data import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    REGISTRY,
    SAMPLE_TITLE,
    _sample,
    _store,
    load,
    load_sample,
    read_idx,
    source_rows,
    status,
)
from mnistlab.data._idx import idx_bytes
from mnistlab.data._registry import MNIST_SAMPLE

SAMPLE_DIR = Path(_sample.__file__).parent / MNIST_SAMPLE.bundled


def _all_rows() -> dict[str, np.ndarray]:
    return {split: source_rows("mnist-sample", split) for split in ("train", "test")}


# ------------------------------------------------------------------------------ offline, as before


class TestSample:
    def test_loads_offline_with_fixed_split(self):
        train = load("mnist-sample", "train")
        test = load("mnist-sample", "test")
        assert len(train) == 4000
        assert len(test) == 1000
        assert train.class_counts().tolist() == [400] * 10
        assert test.class_counts().tolist() == [100] * 10
        assert train.image_shape == test.image_shape == (28, 28)
        assert train.images.dtype == np.uint8
        assert train.labels.dtype == np.int32
        assert (train.split, test.split) == ("train", "test")
        for ds, prefix in ((train, "train"), (test, "t10k")):
            assert ds.name == "mnist-sample"
            assert ds.title == SAMPLE_TITLE == "MNIST sample (5,000 images)"
            assert ds.provenance.origin == "bundled"
            names = [Path(r.path).name for r in ds.provenance.files]
            assert names == [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
            for record in ds.provenance.files:
                assert record.verified_by == "content-sha256"
                assert (
                    record.source
                    == f"bundled with mnistlab: rows of MNIST train listed in {prefix}-rows-idx1-int.gz"
                )
                assert record.sha256 == hashlib.sha256(Path(record.path).read_bytes()).hexdigest()

    def test_split_is_disjoint_and_complete(self):
        rows = _all_rows()
        train, test = rows["train"], rows["test"]
        assert len(np.unique(train)) == 4000
        assert len(np.unique(test)) == 1000
        assert np.intersect1d(train, test).size == 0
        # MNIST's training set holds no two identical images, so no image is in both splits either.
        rows_of = {split: {img.tobytes() for img in load("mnist-sample", split).images} for split in rows}
        assert len(rows_of["train"]) == 4000
        assert not rows_of["train"] & rows_of["test"]

    def test_rows_follow_the_rule_that_defines_the_sample(self):
        # The first 500 of each digit, split by the fixed seed. Without the full MNIST at hand, give
        # the rule a label vector in which the sample's rows are the only labelled ones: the rule
        # must pick exactly them and return them in the files' order.
        rows = _all_rows()
        labels = {split: load("mnist-sample", split).labels for split in rows}
        fake = np.full(max(int(r.max()) for r in rows.values()) + 1, 255, np.int64)
        for split in rows:
            fake[rows[split]] = labels[split]
        rebuilt = _sample.sample_rows_from_mnist(fake)
        for split in rows:
            np.testing.assert_array_equal(rebuilt[split], rows[split])

    def test_train_order_mixes_classes(self):
        # The rule lists images class by class; a split must not, or "the first k images" (study S6)
        # and any prefix would hold one or two classes only.
        labels = load("mnist-sample", "train").labels
        assert len(np.unique(labels[:100])) == 10
        assert (np.diff(labels) != 0).sum() > 1000

    def test_deterministic_across_calls_and_reparses(self, monkeypatch):
        a = load("mnist-sample", "train")
        b = load_sample("train")
        assert np.shares_memory(a.images, b.images)  # memoised: loading a split again costs nothing
        monkeypatch.setattr(_store, "_MEMO", OrderedDict())
        c = load("mnist-sample", "train")
        assert not np.shares_memory(a.images, c.images)
        np.testing.assert_array_equal(a.images, c.images)
        np.testing.assert_array_equal(a.labels, c.labels)

    def test_never_substituted_for_mnist(self, tmp_path, monkeypatch):
        with pytest.raises(DataError, match=r"mnist train split: train-images-idx3-ubyte\[\.gz\]") as err:
            load("mnist")
        assert "MNISTLAB_OFFLINE=1 forbids downloading" in str(err.value)
        assert "mnistlab data import" in str(err.value)
        monkeypatch.delenv("MNISTLAB_OFFLINE")  # download=False alone must refuse as well
        with pytest.raises(DataError, match="download=False"):
            load("mnist", "test", data_dir=tmp_path, download=False)
        assert not (tmp_path / "mnist").exists()


# ------------------------------------------------------------------------- what the registry says


class TestRegistry:
    def test_the_sample_is_bundled_not_downloadable(self):
        assert status(MNIST_SAMPLE) == "bundled"
        assert not MNIST_SAMPLE.downloadable
        assert MNIST_SAMPLE.sources == ("bundled with mnistlab (works offline)",)
        assert all(info.downloadable for name, info in REGISTRY.items() if name != "mnist-sample")
        assert MNIST_SAMPLE.derived_from == "mnist/train"

    def test_every_bundled_file_has_a_content_checksum_and_nothing_else_is_shipped(self):
        specs = (*MNIST_SAMPLE.files, *MNIST_SAMPLE.source_rows)
        assert all(len(s.content_sha256 or "") == 64 for s in specs)
        shipped = {p.name for p in SAMPLE_DIR.iterdir()} - {"README.md"}
        assert shipped == {s.gz_name for s in specs}
        assert sum((SAMPLE_DIR / name).stat().st_size for name in shipped) < 900_000

    def test_source_rows_are_read_only_int32_in_mnist_train(self):
        for split, n in (("train", 4000), ("test", 1000)):
            rows = source_rows("mnist-sample", split)
            assert rows.shape == (n,)
            assert rows.dtype == np.int32
            assert not rows.flags.writeable
            assert rows.min() >= 0
            assert rows.max() < 60_000

    def test_source_rows_of_a_dataset_not_cut_from_another_is_a_config_error(self):
        with pytest.raises(
            ConfigError, match=r"dataset must be one cut from another \('mnist-sample'\).*got 'mnist'"
        ):
            source_rows("mnist", "train")
        with pytest.raises(ConfigError, match="split must be one of"):
            source_rows("mnist-sample", "val")


# ------------------------------------------------------------------------ verified on every load


@pytest.fixture
def copied_sample(tmp_path, monkeypatch):
    """A copy of the sample's files, which the registry entry (patched) points at."""
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE_DIR, folder)
    info = dataclasses.replace(MNIST_SAMPLE, bundled=str(folder))  # an absolute path wins over the package's
    monkeypatch.setattr(_store, "_MEMO", OrderedDict())
    return info, folder


class TestVerification:
    def test_a_changed_label_is_refused(self, copied_sample):
        info, folder = copied_sample
        path = folder / "t10k-labels-idx1-ubyte.gz"
        content = bytearray(gzip.decompress(path.read_bytes()))
        content[8 + 500] = (content[8 + 500] + 1) % 10  # one label, still a digit
        path.write_bytes(gzip.compress(bytes(content), mtime=0))
        with pytest.raises(
            DataError, match=r"t10k-labels-idx1-ubyte\.gz: SHA-256 of the decompressed content"
        ):
            _sample.load_bundled(info, "test")
        assert len(_sample.load_bundled(info, "train")) == 4000  # the other split's files are fine

    def test_a_recompressed_copy_passes(self, copied_sample):
        # The checksum is of the content, so another compressor's bytes are just as good.
        info, folder = copied_sample
        path = folder / "train-images-idx3-ubyte.gz"
        path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=123))
        ds = _sample.load_bundled(info, "train")
        np.testing.assert_array_equal(ds.images, load("mnist-sample", "train").images)

    def test_a_missing_file_says_reinstall(self, copied_sample):
        info, folder = copied_sample
        (folder / "train-images-idx3-ubyte.gz").unlink()
        assert status(info).startswith("no (files missing")
        with pytest.raises(DataError, match="missing from the mnistlab installation; reinstall mnistlab"):
            _sample.load_bundled(info, "train")


# ------------------------------------------------------------------- the sample is rows of MNIST


@pytest.mark.full_data
def test_every_sample_image_is_its_recorded_row_of_mnist(full_mnist):
    images = read_idx(full_mnist / "train-images-idx3-ubyte.gz", expect_magic=IMAGES_MAGIC)
    labels = read_idx(full_mnist / "train-labels-idx1-ubyte.gz", expect_magic=LABELS_MAGIC)
    rule = _sample.sample_rows_from_mnist(labels)
    for split in ("train", "test"):
        ds = load("mnist-sample", split)
        rows = source_rows("mnist-sample", split)
        np.testing.assert_array_equal(ds.images, images[rows])
        np.testing.assert_array_equal(ds.labels, labels[rows])
        np.testing.assert_array_equal(rows, rule[split])
        # What tools/make_sample.py writes is what the registry records.
        for kind, array in (("images", images[rows]), ("labels", labels[rows]), ("rows", rows)):
            spec = MNIST_SAMPLE.file(split, kind)
            assert hashlib.sha256(idx_bytes(array)).hexdigest() == spec.content_sha256
    # The sample is the first 500 of each digit: no earlier image of any digit was left out.
    chosen = np.concatenate(list(rule.values()))
    for digit in range(10):
        of_digit = np.flatnonzero(labels == digit)
        np.testing.assert_array_equal(np.sort(chosen[labels[chosen] == digit]), of_digit[:500])
