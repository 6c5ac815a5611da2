"""Transforms and batching: keyed determinism, disjoint stratified splits, S6 corruption, S8 classes."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mnistlab
from mnistlab import ConfigError, DataError
from mnistlab.data import (
    Dataset,
    NormStats,
    batch_indices,
    corrupt_labels,
    fit_normalization,
    iterate_batches,
    load,
    normalize,
    num_batches,
    one_hot,
    scale,
    select_classes,
    standardize_per_image,
    stratified_split_indices,
    train_val_split,
)

DIGITS = tuple(str(d) for d in range(10))


def make_dataset(labels, *, num_classes: int = 10, size: int = 4, seed: int = 0) -> Dataset:
    """Random uint8 images, every one distinct (the first two pixels spell out its index)."""
    labels = np.asarray(labels, np.int64)
    n = len(labels)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n) % 256
    images[:, 0, 1] = np.arange(n) // 256
    return Dataset(
        images=images,
        labels=labels,
        class_names=tuple(f"c{i}" for i in range(num_classes)),
        name="toy",
        split="train",
    )


def row_bytes(images: np.ndarray) -> list[bytes]:
    return sorted(img.tobytes() for img in images)


@pytest.fixture(scope="module")
def sample_train() -> Dataset:
    return load("mnist-sample", "train")


@pytest.fixture(scope="module")
def sample_test() -> Dataset:
    return load("mnist-sample", "test")


# ----------------------------------------------------------------------------- Dataset validation


class TestDataset:
    def test_valid_dataset_casts_labels_and_reports_shape(self):
        ds = make_dataset(np.array([0, 1, 2, 1], np.uint8), num_classes=3)
        assert ds.labels.dtype == np.int32
        assert len(ds) == 4
        assert ds.image_shape == (4, 4)
        assert ds.num_classes == 3
        assert ds.class_counts().tolist() == [1, 2, 1]
        assert ds.provenance.origin == "memory"

    def test_arrays_are_read_only_but_callers_arrays_stay_writeable(self):
        images = np.zeros((3, 2, 2), np.uint8)
        labels = np.array([0, 1, 0], np.int32)
        ds = Dataset(images=images, labels=labels, class_names=("a", "b"), name="t", split="train")
        with pytest.raises(ValueError, match="read-only"):
            ds.images[0, 0, 0] = 1
        with pytest.raises(ValueError, match="read-only"):
            ds.labels[0] = 1
        images[0, 0, 0] = 7  # the caller's own array is untouched by the dataset
        labels[0] = 1
        assert images.flags.writeable
        assert labels.flags.writeable

    @pytest.mark.parametrize("bad", [3, -1])
    def test_label_out_of_range(self, bad):
        with pytest.raises(DataError, match=r"labels must lie in \[0, 2\] for 3 classes; found " + str(bad)):
            Dataset(
                images=np.zeros((3, 2, 2), np.uint8),
                labels=np.array([0, bad, 1]),
                class_names=("a", "b", "c"),
                name="t",
                split="train",
            )

    def test_count_mismatch(self):
        with pytest.raises(DataError, match="3 images but 2 labels"):
            Dataset(
                images=np.zeros((3, 2, 2), np.uint8),
                labels=np.array([0, 1]),
                class_names=("a", "b"),
                name="t",
                split="train",
            )

    @pytest.mark.parametrize(
        ("images", "labels", "match"),
        [
            (np.zeros((2, 2, 2), np.float32), np.array([0, 1]), "images must be uint8"),
            (np.zeros((2, 2, 2), np.int64), np.array([0, 1]), "images must be uint8"),
            (np.zeros((2, 4), np.uint8), np.array([0, 1]), r"images must be uint8 of shape \(N, H, W\)"),
            (np.zeros((2, 2, 2), np.uint8), np.array([0.0, 1.0]), "labels must be integers"),
            (np.zeros((2, 2, 2), np.uint8), np.array([[0, 1]]), "labels must be integers of shape"),
        ],
    )
    def test_wrong_dtype_or_shape(self, images, labels, match):
        with pytest.raises(DataError, match=match):
            Dataset(images=images, labels=labels, class_names=("a", "b"), name="t", split="train")

    def test_subset_keeps_order_and_records_step(self):
        ds = make_dataset([0, 1, 2, 3, 4])
        sub = ds.subset([3, 1], split="validation", step="pick")
        assert sub.labels.tolist() == [3, 1]
        np.testing.assert_array_equal(sub.images, ds.images[[3, 1]])
        assert sub.split == "validation"
        assert sub.provenance.transforms == ("pick",)
        assert ds.provenance.transforms == ()


# ------------------------------------------------------------------------------ pixel transforms


class TestPixels:
    def test_scale_range_and_dtype(self):
        images = np.array([[[0, 128], [255, 1]]], np.uint8)
        x = scale(images)
        assert x.dtype == np.float32
        assert x.shape == images.shape
        assert x.min() == 0.0
        assert x.max() == 1.0
        np.testing.assert_allclose(x, images / 255.0, rtol=1e-6)

    def test_scale_float64(self, sample_train):
        x = scale(sample_train.images, np.float64)
        assert x.dtype == np.float64
        assert x.min() >= 0.0
        assert x.max() <= 1.0
        np.testing.assert_array_equal(x, sample_train.images.astype(np.float64) / 255.0)

    def test_scale_rejects_integer_dtype(self):
        with pytest.raises(ConfigError, match="dtype must be a floating type"):
            scale(np.zeros((1, 2, 2), np.uint8), np.int32)

    def test_standardize_per_image(self, sample_train):
        x = standardize_per_image(sample_train.images[:50])
        assert x.dtype == np.float32
        np.testing.assert_allclose(x.mean(axis=(1, 2)), 0.0, atol=1e-5)
        np.testing.assert_allclose(x.std(axis=(1, 2)), 1.0, atol=1e-4)

    def test_standardize_blank_and_uniform_images_stay_zero(self):
        images = np.zeros((3, 28, 28), np.uint8)
        images[1] = 200  # uniform but not blank
        images[2, 5:20, 5:20] = 255
        x = standardize_per_image(images)
        assert np.isfinite(x).all()
        assert (x[0] == 0).all()
        assert (x[1] == 0).all()
        assert x[2].std() == pytest.approx(1.0, abs=1e-5)
        # Float input: a constant whose mean is not exact in float32 still gives zeros, not noise / eps.
        y = standardize_per_image(np.full((1, 28, 28), 0.7, np.float32))
        assert (y == 0).all()

    def test_standardize_float64(self):
        x = standardize_per_image(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3), np.float64)
        assert x.dtype == np.float64
        np.testing.assert_allclose(x.mean(axis=(1, 2)), 0.0, atol=1e-12)
        np.testing.assert_allclose(x.std(axis=(1, 2)), 1.0, atol=1e-12)

    def test_normalization_uses_training_statistics_only(self, sample_train, sample_test):
        stats = fit_normalization(sample_train.images)
        pixels = sample_train.images.astype(np.float64) / 255.0
        assert stats.mean == pytest.approx(pixels.mean(), rel=1e-12)
        assert stats.std == pytest.approx(pixels.std(), rel=1e-12)
        assert 0.0 < stats.mean < 0.5
        assert 0.0 < stats.std < 0.5

        train = normalize(sample_train.images, stats)
        assert train.dtype == np.float32
        assert float(train.mean()) == pytest.approx(0.0, abs=1e-4)
        assert float(train.std()) == pytest.approx(1.0, abs=1e-4)

        test = normalize(sample_test.images, stats)
        expected = (sample_test.images / 255.0 - stats.mean) / stats.std
        np.testing.assert_allclose(test, expected, rtol=1e-5, atol=1e-5)
        test_stats = fit_normalization(sample_test.images)
        assert test_stats != stats  # so the check above really used the training statistics
        assert float(test.mean()) != pytest.approx(0.0, abs=1e-6)

    def test_normalize_rejects_zero_std(self):
        with pytest.raises(ConfigError, match=r"stats\.std must be > 0"):
            normalize(np.zeros((1, 2, 2), np.uint8), NormStats(mean=0.0, std=0.0))
        with pytest.raises(ConfigError, match=r"stats\.std must be > 0"):
            normalize(np.zeros((1, 2, 2), np.uint8), fit_normalization(np.zeros((2, 2, 2), np.uint8)))

    def test_one_hot(self):
        y = one_hot(np.array([2, 0, 1, 2]), 3)
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
        assert one_hot(np.array([], np.int32), 4).shape == (0, 4)
        assert one_hot(np.array([1]), 2, dtype=np.float64).dtype == np.float64

    @pytest.mark.parametrize("labels", [[0, 3], [-1, 0], [0.0, 1.0]])
    def test_one_hot_bad_labels(self, labels):
        with pytest.raises(ConfigError, match="labels must"):
            one_hot(np.array(labels), 3)


# --------------------------------------------------------------------------------- select_classes


class TestSelectClasses:
    def test_s8_one_vs_seven(self, sample_train):
        ds = select_classes(sample_train, {1: 1, 7: 0})
        orig = sample_train.labels
        keep = (orig == 1) | (orig == 7)
        assert len(ds) == int(keep.sum()) == 800
        assert ds.class_names == ("7", "1")
        assert ds.num_classes == 2
        np.testing.assert_array_equal(ds.labels, np.where(orig[keep] == 1, 1, 0))
        np.testing.assert_array_equal(ds.images, sample_train.images[keep])
        assert ds.class_counts().tolist() == [400, 400]
        assert ds.provenance.transforms == ("classes 1->1, 7->0",)
        assert ds.title == sample_train.title
        assert sample_train.provenance.transforms == ()  # the input is untouched

    def test_sequence_relabels_by_position(self):
        ds = make_dataset([0, 7, 1, 3, 7, 1, 1], num_classes=10)
        out = select_classes(ds, [7, 1])
        assert out.labels.tolist() == [0, 1, 0, 1, 1]
        assert out.class_names == ("c7", "c1")
        np.testing.assert_array_equal(out.images, ds.images[[1, 2, 4, 5, 6]])
        assert out.provenance.transforms == ("classes 7->0, 1->1",)

    def test_numpy_integers_accepted(self):
        ds = make_dataset([0, 1, 2], num_classes=3)
        out = select_classes(ds, {np.int64(2): np.int32(0)})
        assert out.labels.tolist() == [0]
        assert out.class_names == ("c2",)

    @pytest.mark.parametrize(
        ("classes", "match"),
        [
            ([1, 1], "classes must be distinct"),
            ([2, 0, 2], "classes must be distinct"),
            ([], "classes must be distinct and non-empty"),
            ({}, "classes must be distinct and non-empty"),
            ([10], r"classes must lie in \[0, 9\]"),
            ({-1: 0}, r"classes must lie in \[0, 9\]"),
            ({1: 1, 7: 1}, "classes must map to new labels 0..1"),
            ({1: 0, 7: 2}, "classes must map to new labels 0..1"),
            ({3: 1}, "classes must map to new labels 0..0"),
            ([1.5], "classes must be an integer"),
        ],
    )
    def test_invalid(self, classes, match):
        ds = make_dataset(np.arange(10), num_classes=10)
        with pytest.raises(ConfigError, match=match):
            select_classes(ds, classes)


# ------------------------------------------------------------------------- S6 label corruption


class TestCorruptLabels:
    N = 120

    @pytest.fixture
    def ds(self):
        return make_dataset(np.arange(self.N) % 10)

    def test_touches_exactly_the_first_k(self, ds):
        k = 50
        out, mask = corrupt_labels(ds, k, key=jax.random.key(3))
        np.testing.assert_array_equal(out.labels, ds.labels)
        np.testing.assert_array_equal(out.images[k:], ds.images[k:])
        assert row_bytes(out.images[:k]) == row_bytes(ds.images[:k])
        assert not np.array_equal(out.images[:k], ds.images[:k])
        assert out.provenance.transforms == (f"label corruption of first {k}",)
        assert mask.dtype == bool
        assert mask.shape == (self.N,)
        assert not mask[k:].any()

    def test_mask_marks_images_whose_true_label_differs(self, ds):
        k = 80
        out, mask = corrupt_labels(ds, k, key=jax.random.key(7))
        true_label = {img.tobytes(): int(y) for img, y in zip(ds.images, ds.labels, strict=True)}
        expected = np.array(
            [true_label[img.tobytes()] != int(y) for img, y in zip(out.images, out.labels, strict=True)]
        )
        np.testing.assert_array_equal(mask, expected)
        assert 0.7 * k < mask.sum() < k  # ten balanced classes: about 90% of k

    def test_same_key_same_result_new_key_new_result(self, ds):
        a, ma = corrupt_labels(ds, 60, key=jax.random.key(0))
        b, mb = corrupt_labels(ds, 60, key=jax.random.key(0))
        c, _mc = corrupt_labels(ds, 60, key=jax.random.key(1))
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(ma, mb)
        assert not np.array_equal(a.images, c.images)
        assert row_bytes(a.images) == row_bytes(c.images)

    def test_legacy_uint32_keys_work(self, ds):
        a, _ = corrupt_labels(ds, 30, key=jax.random.PRNGKey(5))
        b, _ = corrupt_labels(ds, 30, key=jax.random.PRNGKey(5))
        np.testing.assert_array_equal(a.images, b.images)

    def test_k_zero_changes_nothing(self, ds):
        out, mask = corrupt_labels(ds, 0, key=jax.random.key(0))
        np.testing.assert_array_equal(out.images, ds.images)
        np.testing.assert_array_equal(out.labels, ds.labels)
        assert not mask.any()

    def test_k_n_permutes_everything(self, ds):
        out, mask = corrupt_labels(ds, self.N, key=jax.random.key(0))
        assert row_bytes(out.images) == row_bytes(ds.images)
        np.testing.assert_array_equal(out.labels, ds.labels)
        assert mask.sum() > self.N // 2

    @pytest.mark.parametrize("k", [-1, N + 1, 2.5, "3"])
    def test_bad_k(self, ds, k):
        with pytest.raises(ConfigError, match="k must"):
            corrupt_labels(ds, k, key=jax.random.key(0))

    def test_on_the_sample_mixes_classes(self, sample_train):
        # The sample's training split is not ordered by class, so its first k images span all
        # ten classes and about 90% of them end up with a wrong label.
        k = 1000
        assert (np.bincount(sample_train.labels[:k], minlength=10) > 50).all()
        out, mask = corrupt_labels(sample_train, k, key=jax.random.key(0))
        assert 0.85 * k < mask.sum() < 0.95 * k
        np.testing.assert_array_equal(out.images[k:], sample_train.images[k:])


# -------------------------------------------------------------------------------- stratified splits


def check_split(labels: np.ndarray, fraction: float, rest: np.ndarray, held: np.ndarray) -> None:
    n = len(labels)
    assert np.intersect1d(rest, held).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([rest, held])), np.arange(n))
    assert len(held) == round(fraction * n)
    assert (np.diff(rest) > 0).all()
    assert (np.diff(held) > 0).all()
    for c in np.unique(labels):
        exact = fraction * np.sum(labels == c)
        assert abs(np.sum(labels[held] == c) - exact) < 1


class TestSplits:
    def test_stratified_exact_on_the_sample(self, sample_train):
        train, val = train_val_split(sample_train, 0.1, key=jax.random.key(0))
        assert len(train) == 3600
        assert len(val) == 400
        assert val.class_counts().tolist() == [40] * 10
        assert train.class_counts().tolist() == [360] * 10
        assert train.split == "train"
        assert val.split == "validation"
        step = "train/validation split (0.1 held out)"
        assert train.provenance.transforms == (step,)
        assert val.provenance.transforms == (step,)
        rows_train = {img.tobytes() for img in train.images}
        rows_val = {img.tobytes() for img in val.images}
        assert not rows_train & rows_val
        assert len(rows_train | rows_val) == len({img.tobytes() for img in sample_train.images})

    def test_disjoint_and_complete_with_uneven_classes(self):
        labels = np.repeat(np.arange(4), [7, 13, 1, 29])
        rest, held = stratified_split_indices(labels, 0.3, key=jax.random.key(1))
        check_split(labels, 0.3, rest, held)
        assert len(held) == 15

    def test_deterministic_under_key(self):
        labels = np.arange(500) % 7
        a = stratified_split_indices(labels, 0.25, key=jax.random.key(42))
        b = stratified_split_indices(labels, 0.25, key=jax.random.key(42))
        c = stratified_split_indices(labels, 0.25, key=jax.random.key(43))
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])
        assert not np.array_equal(a[1], c[1])
        assert len(a[1]) == len(c[1]) == 125

    def test_train_val_split_datasets_match_indices(self):
        ds = make_dataset(np.arange(60) % 3, num_classes=3)
        key = jax.random.key(9)
        train, val = train_val_split(ds, 0.2, key=key)
        rest, held = stratified_split_indices(ds.labels, 0.2, key=key)
        np.testing.assert_array_equal(train.images, ds.images[rest])
        np.testing.assert_array_equal(val.images, ds.images[held])
        np.testing.assert_array_equal(val.labels, ds.labels[held])
        assert val.class_counts().tolist() == [4, 4, 4]

    @pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
    def test_bad_fraction(self, fraction):
        with pytest.raises(ConfigError, match="fraction must lie strictly between 0 and 1"):
            stratified_split_indices(np.arange(10) % 2, fraction, key=jax.random.key(0))
        with pytest.raises(ConfigError, match="fraction must lie strictly between 0 and 1"):
            train_val_split(make_dataset(np.arange(10) % 2), fraction, key=jax.random.key(0))

    @settings(max_examples=40, deadline=None)
    @given(
        labels=st.lists(st.integers(0, 5), min_size=1, max_size=150),
        fraction=st.floats(0.01, 0.99),
        seed=st.integers(0, 2**31 - 1),
    )
    def test_property(self, labels, fraction, seed):
        labels = np.array(labels)
        key = jax.random.key(seed)
        rest, held = stratified_split_indices(labels, fraction, key=key)
        check_split(labels, fraction, rest, held)
        again = stratified_split_indices(labels, fraction, key=key)
        np.testing.assert_array_equal(held, again[1])


# ------------------------------------------------------------------------------------- batching


def check_pass(idx: np.ndarray, mask: np.ndarray, n: int, batch_size: int) -> None:
    assert idx.shape == mask.shape == (-(-n // batch_size), batch_size)
    np.testing.assert_array_equal(np.sort(idx[mask]), np.arange(n))
    assert mask.sum() == n
    assert mask[:-1].all()  # only the last batch is padded
    assert (idx[~mask] == 0).all()


class TestBatching:
    @pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 1), (5, 8), (100, 32)])
    def test_every_example_once_per_pass(self, n, batch_size):
        idx, mask = (np.asarray(a) for a in batch_indices(jax.random.key(0), n, batch_size))
        check_pass(idx, mask, n, batch_size)
        assert num_batches(n, batch_size) == idx.shape[0]

    def test_drop_last(self):
        idx, mask = (np.asarray(a) for a in batch_indices(jax.random.key(0), 10, 3, drop_last=True))
        assert idx.shape == (3, 3)
        assert mask.all()
        assert len(np.unique(idx)) == 9
        assert set(idx.ravel()) <= set(range(10))
        assert num_batches(10, 3, drop_last=True) == 3
        assert num_batches(9, 3, drop_last=True) == num_batches(9, 3) == 3

    def test_same_key_same_batches_new_key_new_order(self):
        a = np.asarray(batch_indices(jax.random.key(1), 50, 8)[0])
        b = np.asarray(batch_indices(jax.random.key(1), 50, 8)[0])
        c = np.asarray(batch_indices(jax.random.key(2), 50, 8)[0])
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert not np.array_equal(a.ravel()[:50], np.arange(50))  # shuffled, not in order

    def test_under_jit(self):
        key = jax.random.key(4)
        f = jax.jit(functools.partial(batch_indices, n=23, batch_size=5))
        idx, mask = f(key)
        ref_idx, ref_mask = batch_indices(key, 23, 5)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(mask, ref_mask)
        check_pass(np.asarray(idx), np.asarray(mask), 23, 5)

        g = jax.jit(batch_indices, static_argnums=(1, 2), static_argnames=("drop_last",))
        idx2, mask2 = g(key, 23, 5, drop_last=True)
        assert idx2.shape == (4, 5)
        assert bool(jnp.all(mask2))

        # Inside a compiled epoch: a scan over batches sees each example exactly once.
        def epoch(key):
            idx, mask = batch_indices(key, 23, 5)

            def body(counts, batch):
                i, m = batch
                return counts.at[i].add(m.astype(jnp.int32)), None

            counts, _ = jax.lax.scan(body, jnp.zeros(23, jnp.int32), (idx, mask))
            return counts

        np.testing.assert_array_equal(jax.jit(epoch)(key), np.ones(23))

    def test_iterate_batches(self):
        x = np.arange(23) * 10
        y = np.arange(23)
        batches = list(iterate_batches(jax.random.key(0), x, y, batch_size=5))
        assert [len(bx) for bx, _ in batches] == [5, 5, 5, 5, 3]
        for bx, by in batches:
            np.testing.assert_array_equal(bx, by * 10)  # arrays stay aligned
        np.testing.assert_array_equal(np.sort(np.concatenate([by for _, by in batches])), y)
        dropped = list(iterate_batches(jax.random.key(0), x, batch_size=5, drop_last=True))
        assert [len(b) for (b,) in dropped] == [5, 5, 5, 5]
        again = list(iterate_batches(jax.random.key(0), x, y, batch_size=5))
        for (a, _), (b, _) in zip(batches, again, strict=True):
            np.testing.assert_array_equal(a, b)

    def test_iterate_batches_on_the_sample(self, sample_test):
        seen = np.concatenate(
            [
                by
                for _, by in iterate_batches(
                    jax.random.key(0), sample_test.images, sample_test.labels, batch_size=128
                )
            ]
        )
        assert np.bincount(seen, minlength=10).tolist() == [100] * 10

    @pytest.mark.parametrize(
        ("n", "batch_size", "drop_last", "match"),
        [
            (10, 0, False, "batch_size must be >= 1"),
            (10, -4, False, "batch_size must be >= 1"),
            (10, 2.5, False, "batch_size must be an integer"),
            (0, 4, False, "at least one example"),
            (3, 4, True, "leaves no batch"),
        ],
    )
    def test_bad_sizes(self, n, batch_size, drop_last, match):
        with pytest.raises(ConfigError, match=match):
            num_batches(n, batch_size, drop_last=drop_last)
        with pytest.raises(ConfigError, match=match):
            batch_indices(jax.random.key(0), n, batch_size, drop_last=drop_last)

    def test_iterate_batches_bad_arrays(self):
        with pytest.raises(ConfigError, match="at least one array"):
            list(iterate_batches(jax.random.key(0), batch_size=2))
        with pytest.raises(ConfigError, match="equal lengths"):
            list(iterate_batches(jax.random.key(0), np.zeros(4), np.zeros(5), batch_size=2))
        with pytest.raises(ConfigError, match="batch_size must be >= 1"):
            list(iterate_batches(jax.random.key(0), np.zeros(4), batch_size=0))


def test_errors_are_exported():
    assert issubclass(ConfigError, mnistlab.MnistlabError)
    assert issubclass(DataError, mnistlab.MnistlabError)


@given(
    st.integers(1, 4),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=40, deadline=None)
def test_pixel_moments_of_uint8_equal_the_float64_computation(n, h, w, seed):
    images = np.random.default_rng(seed).integers(0, 256, (n, h, w), dtype=np.uint8)
    mean, std = mnistlab.data.pixel_moments(images)
    x = images.astype(np.float64) / 255.0
    assert mean == pytest.approx(x.mean(), rel=1e-12, abs=1e-15)
    assert std == pytest.approx(x.std(), rel=1e-9, abs=1e-12)


def test_pixel_moments_of_floats_and_of_nothing():
    x = np.array([[0.0, 1.0], [0.5, 0.5]])
    assert mnistlab.data.pixel_moments(x) == pytest.approx((0.5, np.sqrt(0.125)))
    with pytest.raises(ConfigError, match="at least one pixel"):
        mnistlab.data.pixel_moments(np.zeros((0, 28, 28), np.uint8))


def test_summarize_pixel_statistics_match_direct_numpy():
    rng = np.random.default_rng(3)
    images = rng.integers(7, 200, (50, 6, 5), dtype=np.uint8)
    images[0, 0, :3] = 0  # a few zeros, and a max below 255
    ds = mnistlab.data.Dataset(images, np.arange(50) % 10, DIGITS, "tiny", "train")
    px = mnistlab.data.summarize(ds)["pixels"]
    x = images.astype(np.float64) / 255.0
    assert (px["min"], px["max"]) == (0, int(images.max()))
    assert px["max"] < 255
    assert px["zero_fraction"] == 3 / images.size
    assert px["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert px["std"] == pytest.approx(x.std(), rel=1e-9)
