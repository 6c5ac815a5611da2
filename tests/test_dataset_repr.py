"""How a Dataset shows itself in a console and in a notebook: short, and never the arrays."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from mnistlab.data import Dataset, load, select_classes


@pytest.fixture(scope="module")
def big() -> Dataset:
    labels = np.arange(60_000) % 10
    images = np.broadcast_to(np.uint8(7), (60_000, 28, 28))  # 47 MB of pixels, stored as one byte
    return Dataset(images=images, labels=labels, class_names=tuple("0123456789"), name="big", split="train")


def test_repr_is_one_short_line_with_name_split_size_shape_and_classes(big):
    text = repr(load("mnist-sample", "test"))
    assert text == (
        "Dataset('MNIST sample (5,000 images)', name='mnist-sample', split='test', n=1000, "
        "image_shape=(28, 28), classes=10)"
    )
    assert "\n" not in repr(big)
    assert len(repr(big)) < 120


def test_html_is_a_small_table_naming_what_the_data_is():
    ds = load("mnist-sample", "train")
    page = ds._repr_html_()
    assert len(page) < 12_000  # the table and eight 28x28 thumbnails, not 3 MB of pixels
    cells = dict(re.findall(r"<th[^>]*>([^<]*)</th><td[^>]*>([^<]*)</td>", page))
    assert cells == {
        "dataset": "MNIST sample (5,000 images) (mnist-sample)",
        "split": "train",
        "images": "4,000 of 28×28",
        "classes": "10: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
        "per class": "400",
        "origin": "bundled",
        "transforms": "none",
    }


def test_html_strip_shows_the_first_eight_images_exactly():
    ds = load("mnist-sample", "test")
    page = ds._repr_html_()
    (data,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    strip = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
    np.testing.assert_array_equal(strip, np.concatenate(list(ds.images[:8]), axis=1))
    labels = ", ".join(str(y) for y in ds.labels[:8])
    assert f'alt="first 8 images: {labels}"' in page


def test_html_escapes_names_and_records_transforms():
    ds = Dataset(
        images=np.zeros((3, 4, 4), np.uint8),
        labels=np.array([0, 1, 1]),
        class_names=("<a>", "b&c"),
        name="x<script>",
        split="train",
    )
    ds = select_classes(ds, {0: 0, 1: 1})
    page = ds._repr_html_()
    assert "<script>" not in page
    assert "<a>" not in page
    assert "x&lt;script&gt;" in page
    assert "&lt;a&gt;, b&amp;c" in page
    assert ">1–2<" in page  # per class: the counts differ
    assert ">classes 0-&gt;0, 1-&gt;1<" in page  # the transforms row


def test_html_of_an_empty_dataset_has_no_strip_and_large_images_are_left_out(big):
    empty = Dataset(
        images=np.zeros((0, 28, 28), np.uint8),
        labels=np.zeros(0, int),
        class_names=("a",),
        name="e",
        split="test",
    )
    assert "<img" not in empty._repr_html_()
    assert ">0 of 28×28<" in empty._repr_html_()
    huge = Dataset(
        images=np.zeros((2, 300, 300), np.uint8),
        labels=np.array([0, 0]),
        class_names=("a",),
        name="h",
        split="test",
    )
    assert "<img" not in huge._repr_html_()
    assert len(big._repr_html_()) < 12_000
