"""Data integrity: gzip bombs, label ranges, checksums recorded at import, MNIST's training images by
content; and the data commands' bad values (``--seed -1``, an unwritable ``--out``, a damaged split).

Every refusal is one line naming the file (or option), with nothing written to the cache.
"""

from __future__ import annotations

import functools
import gzip
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from helpers import assert_user_error, run_cli
from mnistlab import DataError
from mnistlab import data as D

_BLOCK = 64 << 20  # 64 MiB of zeros per gzip member: 65 KB compressed


@functools.cache
def _zeros_member() -> bytes:
    return gzip.compress(bytes(_BLOCK), compresslevel=9, mtime=0)


def gzip_bomb(path: Path, *, header_dims: tuple[int, ...], members: int) -> Path:
    """A small .gz (65 KB per member) whose IDX header claims ``header_dims`` and whose body
    decompresses to ``members`` x 64 MiB of zeros: concatenated gzip members read as one stream."""
    head = bytes([0, 0, 8, len(header_dims)]) + b"".join(d.to_bytes(4, "big") for d in header_dims)
    path.write_bytes(gzip.compress(head, mtime=0) + _zeros_member() * members)
    return path


def peak_bytes(fn) -> tuple[BaseException | None, int]:
    """Run ``fn``; the exception it raised (or None) and the peak of Python-tracked memory."""
    tracemalloc.start()
    try:
        fn()
        raised = None
    except Exception as exc:
        raised = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return raised, peak


def listing(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------- gzip bombs


@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory) -> Path:
    """MNIST's four file names; the training images are a 1.1 MB bomb claiming 1.5 million images
    (1.2 GB) whose gzip stream really does hold 1.1 GB, so only the header check stops it cheaply."""
    folder = tmp_path_factory.mktemp("bomb")
    gzip_bomb(folder / "train-images-idx3-ubyte.gz", header_dims=(1_500_000, 28, 28), members=17)
    return folder


def test_a_gzip_bomb_is_refused_from_its_header_with_bounded_memory(bomb_dir):
    bomb = bomb_dir / "train-images-idx3-ubyte.gz"
    assert bomb.stat().st_size < 1_500_000
    raised, peak = peak_bytes(lambda: D.read_idx(bomb, expect_shape=(60_000, 28, 28)))
    assert isinstance(raised, DataError)
    assert "byte offset 4: header declares shape (1500000, 28, 28), expected (60000, 28, 28)" in str(raised)
    assert peak < 8 * bomb.stat().st_size  # the file itself, not its 1.1 GB of content


def test_importing_a_gzip_bomb_as_mnist_stops_at_the_header_and_imports_nothing(bomb_dir, capsys, tmp_path):
    cache = tmp_path / "cache"
    result = []
    raised, peak = peak_bytes(
        lambda: result.append(
            run_cli(capsys, "data", "import", bomb_dir, "--name", "mnist", "--data-dir", cache)
        )
    )
    assert raised is None
    code, _, err = result[0]
    assert_user_error(code, err, "train-images-idx3-ubyte.gz", "(1500000, 28, 28)", "(60000, 28, 28)", exit=1)
    assert peak < 16 << 20
    assert listing(cache) == {}


def test_a_bomb_in_the_cache_is_refused_on_load(bomb_dir, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(
        (bomb_dir / "train-images-idx3-ubyte.gz").read_bytes()
    )
    raised, peak = peak_bytes(lambda: D.load("mnist", "train", data_dir=tmp_path))
    assert isinstance(raised, DataError)
    assert "expected (60000, 28, 28)" in str(raised)
    assert peak < 16 << 20


def test_a_users_images_must_match_their_labels_count_before_decompressing(tmp_path):
    src = tmp_path / "mine"
    src.mkdir()
    for prefix in ("train", "t10k"):
        D.write_idx(
            src / f"{prefix}-labels-idx1-ubyte", np.zeros(100, np.uint8) + np.arange(100, dtype=np.uint8) % 2
        )
    gzip_bomb(src / "train-images-idx3-ubyte.gz", header_dims=(1_500_000, 28, 28), members=17)
    D.write_idx(src / "t10k-images-idx3-ubyte", np.zeros((100, 28, 28), np.uint8))
    raised, peak = peak_bytes(lambda: D.import_dir(src, "mine", data_dir=tmp_path / "cache"))
    assert isinstance(raised, DataError)
    assert "header declares shape (1500000, 28, 28), expected (100, any, any)" in str(raised)
    assert peak < 16 << 20
    assert listing(tmp_path / "cache") == {}


def test_reading_stops_at_the_first_byte_past_the_declared_data(tmp_path):
    # The header honestly claims 2 images; 192 MiB of zeros follow in the same gzip stream.
    path = tmp_path / "long.gz"
    head = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2, 28, 28))
    path.write_bytes(gzip.compress(head + bytes(2 * 28 * 28), mtime=0) + _zeros_member() * 3)
    raised, peak = peak_bytes(lambda: D.read_idx(path))
    assert isinstance(raised, DataError)
    assert f"decompressed byte offset {16 + 2 * 28 * 28}: unexpected data after" in str(raised)
    assert peak < 16 << 20


# ------------------------------------------------------------------ KMNIST: labels, recorded checksums


def _fake_kmnist_test_split(folder: Path, *, bad_label: int | None = None) -> np.ndarray:
    """KMNIST's test file names and shapes (no published content checksum exists for them)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = (np.arange(10_000) % 10).astype(np.uint8)
    if bad_label is not None:
        labels[1234] = bad_label
    D.write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    D.write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((10_000, 28, 28), np.uint8))
    return labels


def test_a_label_out_of_range_is_refused_at_import(tmp_path, capsys):
    _fake_kmnist_test_split(tmp_path / "src", bad_label=200)
    cache = tmp_path / "cache"
    code, _, err = run_cli(
        capsys, "data", "import", tmp_path / "src", "--name", "kmnist", "--data-dir", cache
    )
    assert_user_error(
        code, err, "t10k-labels-idx1-ubyte.gz", "[0, 9] for 10 classes", "found 200 at index 1234", exit=1
    )
    assert listing(cache) == {}


def test_tampering_with_a_file_that_has_no_published_checksum_is_found_on_load(tmp_path, capsys):
    labels = _fake_kmnist_test_split(tmp_path / "src")
    cache = tmp_path / "cache"
    D.import_dir(tmp_path / "src", "kmnist", data_dir=cache)
    ds = D.load("kmnist", "test", data_dir=cache)
    assert {r.verified_by for r in ds.provenance.files} == {"sha256-at-import"}
    path = cache / "kmnist" / "t10k-labels-idx1-ubyte.gz"
    D.write_idx(path, np.roll(labels, 1))  # valid, same size, same label range: only the checksum differs
    with pytest.raises(DataError, match="was recorded when it entered the cache; the file has changed since"):
        D.load("kmnist", "test", data_dir=cache)
    code, out, err = run_cli(capsys, "data", "info", "kmnist", "--data-dir", cache, "--json")
    assert_user_error(code, err, str(path), "changed since", exit=1)
    assert out == ""  # never a JSON that leaves the damaged split out


def test_a_damaged_split_is_an_error_but_a_missing_one_is_reported(tmp_path, capsys):
    _fake_kmnist_test_split(tmp_path / "src")
    cache = tmp_path / "cache"
    D.import_dir(tmp_path / "src", "kmnist", data_dir=cache)
    # Only the test split is here: the training split is "not available", and that is no error.
    code, out, err = run_cli(capsys, "data", "info", "kmnist", "--data-dir", cache, "--json")
    assert code == 0, err
    assert json.loads(out)["split"] == "test"
    path = cache / "kmnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    for extra in ([], ["--json"]):
        code, out, err = run_cli(capsys, "data", "info", "kmnist", "--data-dir", cache, *extra)
        assert_user_error(code, err, str(path), exit=1)
        assert out == ""


# ------------------------------------------------------------------ MNIST's training images by content


def test_mnist_training_images_carry_their_published_content_checksum():
    spec = D.get_info("mnist").file("train", "images")
    assert spec.content_sha256 == "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"


def test_a_fake_mnist_training_set_of_the_right_shape_is_refused(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    D.write_idx(src / "train-images-idx3-ubyte.gz", np.zeros((60_000, 28, 28), np.uint8))
    cache = tmp_path / "cache"
    code, _, err = run_cli(capsys, "data", "import", src, "--name", "mnist", "--data-dir", cache)
    assert_user_error(code, err, "train-images-idx3-ubyte.gz", "expected the published ba891046", exit=1)
    assert listing(cache) == {}


@pytest.mark.full_data
def test_the_recompressed_mnist_training_images_are_verified_by_content(full_mnist):
    ds = D.load("mnist", "train", data_dir=full_mnist.parent)
    images = next(r for r in ds.provenance.files if "images" in r.path)
    assert images.verified_by == "content-sha256"


# ------------------------------------------------------------------------------- data show's options


def test_data_show_refuses_a_negative_seed(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "data", "show", "mnist-sample", "--seed", "-1", "--out", tmp_path / "g.png"
    )
    assert_user_error(code, err, "seed (--seed)", "got -1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["/proc/x.png", "folder"])
def test_data_show_checks_out_before_reading_any_data(capsys, tmp_path, where):
    out = Path(where) if where.startswith("/") else tmp_path / "a.png"
    if where == "folder":
        out.mkdir()  # a folder named like an image
    # mnist is not cached (and downloads are off): a check after loading would report that instead.
    code, _, err = run_cli(capsys, "data", "show", "mnist", "--out", out)
    assert_user_error(code, err, "--out", str(out))
