"""The IDX reader and writer: round trips, checksums, error messages, and fuzzing of the reader.

The reader must turn every malformed input into a :class:`mnistlab.DataError` that names the file and
a byte offset, and must never allocate what a header merely claims. The fuzz tests check both, the
second with ``tracemalloc``.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import re
import tempfile
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnistlab import DataError
from mnistlab.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_idx_content, write_idx
from mnistlab.data._idx import idx_bytes

# The IDX type codes, from the format's definition (not from the implementation).
TYPE_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}
DTYPES = list(TYPE_CODES)
GZIP_MAGIC = b"\x1f\x8b"

SHAPES = [
    (10,),  # labels
    (0,),
    (3, 28, 28),
    (2, 32, 20),
    (5, 1, 1),
    (0, 5, 7),
    (1, 7, 3),
    (2, 3, 4, 5),
    (1, 2, 1, 3, 2),
]

# Fuzzed inputs are at most a few KB; the reader may use a read buffer but nothing near what a
# header claims.
PEAK_LIMIT = 4 * 2**20


def fuzz(max_examples: int) -> settings:
    """Deterministic, no example database, no deadline (tracemalloc slows the reader)."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None)


def idx_header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + b"".join(int(d).to_bytes(4, "big") for d in shape)


def expected_content(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``, built here from the format's definition."""
    dtype = array.dtype
    big = array.astype(dtype.newbyteorder(">")) if dtype.itemsize > 1 else array
    return idx_header(TYPE_CODES[dtype.name], array.shape) + np.ascontiguousarray(big).tobytes()


def sample(shape: tuple[int, ...], dtype: str, seed: int = 0) -> np.ndarray:
    """Values spanning the dtype, its extremes first (and inf, nan, -0.0, a subnormal for floats)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    n = math.prod(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)
        specials = [info.min, info.max, 0, 1]
    else:
        info = np.finfo(dt)
        flat = (rng.standard_normal(n) * 1e3).astype(dt)
        specials = [np.inf, -np.inf, np.nan, -0.0, info.smallest_subnormal, info.max, info.min]
    k = min(n, len(specials))
    flat[:k] = np.array(specials[:k], dtype=dt)
    return flat.reshape(shape)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_traced(path: Path, **kwargs) -> tuple[object, int]:
    """``read_idx_content(path)`` or the DataError it raised, and the peak memory it allocated."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            result = read_idx_content(path, **kwargs)
        except DataError as exc:
            result = exc
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak


def check_reader(data: bytes, expect_magic: int | None = None, peak_limit: int = PEAK_LIMIT):
    """Read ``data`` from a file: only DataError may escape, memory stays small, and what is accepted
    is exactly what the bytes encode. Returns the DataError or the IdxContent."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.idx"
        path.write_bytes(data)
        result, peak = read_traced(path, expect_magic=expect_magic)  # anything but DataError escapes
    assert peak < peak_limit, f"reading {len(data)} bytes allocated {peak} bytes"
    if isinstance(result, DataError):
        assert re.match(rf"{re.escape(str(path))}: (decompressed )?byte offset \d+: \S", str(result)), result
        return result
    assert result.compressed == (data[:2] == GZIP_MAGIC)
    content = gzip.decompress(data) if result.compressed else data
    assert idx_bytes(result.array) == content
    assert result.content_size == len(content)
    assert result.content_sha256 == sha256(content)
    assert result.file_sha256 == sha256(data)
    if expect_magic is not None:
        assert int.from_bytes(content[:4], "big") == expect_magic
    return result


def message(excinfo) -> str:
    return str(excinfo.value)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_round_trip(tmp_path, shape, dtype, compress):
    array = sample(shape, dtype)
    path = write_idx(tmp_path / ("data.idx.gz" if compress else "data.idx"), array)
    assert path.parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left

    data = path.read_bytes()
    assert (data[:2] == GZIP_MAGIC) is compress
    content = gzip.decompress(data) if compress else data
    assert content == expected_content(array)

    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)  # native byte order
    assert back.dtype.isnative
    assert back.shape == shape
    assert back.tobytes() == array.tobytes()  # bit for bit, nan and -0.0 included

    info = read_idx_content(str(path))
    assert info.compressed is compress
    assert info.array.tobytes() == array.tobytes()
    assert not info.array.flags.writeable
    assert info.file_size == len(data)
    assert info.file_sha256 == sha256(data)
    assert info.file_md5 == hashlib.md5(data).hexdigest()
    assert info.content_size == len(content) == 4 + 4 * len(shape) + array.nbytes
    assert info.content_sha256 == sha256(content)


@pytest.mark.parametrize("dtype", DTYPES)
def test_content_checksum_is_the_same_for_raw_and_any_gzip(tmp_path, dtype):
    array = sample((4, 9, 6), dtype, seed=1)
    raw = read_idx_content(write_idx(tmp_path / "a.idx", array))
    gz = read_idx_content(write_idx(tmp_path / "a.idx.gz", array))
    # Another compressor's output: level 1, a file name and a timestamp in the gzip header.
    other = tmp_path / "b.gz"
    with other.open("wb") as f, gzip.GzipFile("original-name", "wb", 1, f, mtime=123456) as g:
        g.write(expected_content(array))
    foreign = read_idx_content(other)

    digest = sha256(expected_content(array))
    assert raw.content_sha256 == gz.content_sha256 == foreign.content_sha256 == digest
    assert raw.content_size == gz.content_size == foreign.content_size
    assert (raw.compressed, gz.compressed, foreign.compressed) == (False, True, True)
    assert len({raw.file_sha256, gz.file_sha256, foreign.file_sha256}) == 3
    assert raw.file_sha256 == raw.content_sha256
    for info in (raw, gz, foreign):
        np.testing.assert_array_equal(info.array, array)


def test_compress_flag_overrides_the_name(tmp_path):
    array = sample((3, 4, 5), "uint8")
    forced = write_idx(tmp_path / "plain.idx", array, compress=True)
    assert forced.read_bytes()[:2] == GZIP_MAGIC
    unforced = write_idx(tmp_path / "named.gz", array, compress=False)
    assert unforced.read_bytes() == expected_content(array)
    for path in (forced, unforced):
        np.testing.assert_array_equal(read_idx(path), array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = sample((6,), "int16")
    path = tmp_path / "labels"  # no .gz
    path.write_bytes(gzip.compress(expected_content(array)))
    info = read_idx_content(path)
    assert info.compressed
    np.testing.assert_array_equal(info.array, array)


def test_writer_accepts_non_native_and_non_contiguous_arrays(tmp_path):
    array = sample((4, 6, 8), "float64", seed=2)
    big_endian = array.astype(">f8")
    assert read_idx(write_idx(tmp_path / "be.idx", big_endian)).tobytes() == array.tobytes()
    strided = array[:, ::2, 1::3]
    assert not strided.flags.c_contiguous
    back = read_idx(write_idx(tmp_path / "strided.idx", strided))
    assert back.tobytes() == np.ascontiguousarray(strided).tobytes()
    assert (tmp_path / "be.idx").read_bytes() == expected_content(array)


@pytest.mark.parametrize("dtype", ["int64", "uint16", "float16", "bool", "complex64"])
def test_writer_refuses_dtypes_idx_cannot_hold(tmp_path, dtype):
    with pytest.raises(DataError, match=rf"got dtype {dtype}") as excinfo:
        write_idx(tmp_path / "x.idx", np.zeros((2, 2), dtype=dtype))
    assert "uint8, int8, int16, int32, float32, float64" in message(excinfo)
    assert not (tmp_path / "x.idx").exists()


def test_writer_refuses_scalars_and_too_many_dimensions(tmp_path):
    with pytest.raises(DataError, match="1 to 16 dimensions; got 0"):
        write_idx(tmp_path / "x.idx", np.uint8(3))
    with pytest.raises(DataError, match="1 to 16 dimensions; got 17"):
        write_idx(tmp_path / "x.idx", np.zeros((1,) * 17, dtype=np.uint8))


def test_expect_magic_accepts_matching_files(tmp_path):
    images = write_idx(tmp_path / "images.gz", sample((2, 28, 28), "uint8"))
    labels = write_idx(tmp_path / "labels", sample((2,), "uint8"))
    assert read_idx(images, expect_magic=IMAGES_MAGIC).shape == (2, 28, 28)
    assert read_idx(labels, expect_magic=LABELS_MAGIC).shape == (2,)


# --- error messages ---------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_magic_mismatch_names_file_offset_and_expected_magic(tmp_path, compress):
    path = write_idx(tmp_path / ("labels.gz" if compress else "labels"), sample((5,), "uint8"))
    with pytest.raises(DataError) as excinfo:
        read_idx(path, expect_magic=IMAGES_MAGIC)
    text = message(excinfo)
    offset = "decompressed byte offset 0" if compress else "byte offset 0"
    assert text.startswith(f"{path}: {offset}: ")
    assert "expected magic 0x00000803 (uint8, 3 dimensions)" in text
    assert "found 0x00000801" in text


def test_magic_mismatch_names_the_rank_and_type(tmp_path):
    path = write_idx(tmp_path / "images", sample((2, 3, 4), "float32"))
    with pytest.raises(DataError) as excinfo:
        read_idx(path, expect_magic=LABELS_MAGIC)
    expected = "byte offset 0: expected magic 0x00000801 (uint8, 1 dimension), found 0x00000d03"
    assert expected in message(excinfo)


@pytest.mark.parametrize(
    ("head", "offset", "fragment"),
    [
        (b"\x01\x00\x08\x01", 0, "expected an IDX magic number"),
        (b"\x00\x00\x07\x01", 0, "found 0x00000701"),
        (b"\x00\x00\x08\x00", 3, "expected 1 to 16 dimensions, the header says 0"),
        (b"\x00\x00\x08\x11", 3, "expected 1 to 16 dimensions, the header says 17"),
    ],
)
def test_bad_magic_number(tmp_path, head, offset, fragment):
    path = tmp_path / "bad.idx"
    path.write_bytes(head + bytes(12))
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    assert message(excinfo).startswith(f"{path}: byte offset {offset}: ")
    assert fragment in message(excinfo)


def test_truncated_raw_file_names_where_data_ends(tmp_path):
    full = expected_content(sample((3, 28, 28), "uint8"))
    path = tmp_path / "images.idx"
    path.write_bytes(full[:1000])
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(f"{path}: byte offset 4: ")
    assert "shape (3, 28, 28) (2368 bytes in all)" in text
    assert "the file has only 1000 bytes" in text


@pytest.mark.parametrize(("size", "offset"), [(0, 0), (2, 2), (10, 10)])
def test_raw_file_truncated_in_the_header(tmp_path, size, offset):
    path = tmp_path / "images.idx"
    path.write_bytes(expected_content(sample((3, 28, 28), "uint8"))[:size])
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(f"{path}: byte offset {offset}: file ends early (truncated?)")
    assert f"only {offset - 4 if offset >= 4 else offset} are present" in text


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.9])
def test_truncated_gzip_file_names_the_decompressed_offset_where_data_ends(tmp_path, cut):
    rng = np.random.default_rng(3)
    array = (rng.integers(0, 8, (20, 28, 28)) * (rng.random((20, 28, 28)) < 0.3)).astype(np.uint8)
    gz = gzip.compress(expected_content(array), mtime=0)
    truncated = gz[: int(len(gz) * cut)]
    available = len(zlib.decompressobj(wbits=31).decompress(truncated))
    assert 16 < available < 4 + 12 + array.nbytes
    path = tmp_path / "images.gz"
    path.write_bytes(truncated)
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(f"{path}: decompressed byte offset {available}: ")
    assert "shape (20, 28, 28) of uint8" in text
    assert "ended before the end-of-stream marker" in text


def test_gzip_stream_with_too_little_content(tmp_path):
    content = expected_content(sample((3, 28, 28), "uint8"))[:1000]
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(f"{path}: decompressed byte offset 1000: gzip stream ends early (truncated?)")
    assert "needs 2352 bytes, only 984 are present" in text


def test_trailing_garbage_in_raw_file(tmp_path):
    path = tmp_path / "images.idx"
    path.write_bytes(expected_content(sample((3, 28, 28), "uint8")) + b"junk")
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    assert message(excinfo) == (
        f"{path}: byte offset 2368: 4 unexpected bytes after the data declared by shape (3, 28, 28)"
    )


@pytest.mark.parametrize("where", ["inside the gzip stream", "second gzip member"])
def test_trailing_data_in_gzip_file(tmp_path, where):
    content = expected_content(sample((3, 28, 28), "uint8"))
    data = {
        "inside the gzip stream": gzip.compress(content + b"junk"),
        "second gzip member": gzip.compress(content) + gzip.compress(b"junk"),
    }[where]
    path = tmp_path / "images.gz"
    path.write_bytes(data)
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    assert message(excinfo) == (
        f"{path}: decompressed byte offset 2368: unexpected data after the 2352 bytes declared by "
        f"shape (3, 28, 28)"
    )


def _broken_trailers(gz: bytes) -> dict[str, tuple[bytes, str]]:
    return {
        "garbage after the gzip stream": (gz + b"junk", "Not a gzipped file"),
        "bad crc": (gz[:-8] + bytes(4) + gz[-4:], "CRC check failed"),
        "bad length": (gz[:-4] + (12345).to_bytes(4, "little"), "Incorrect length"),
        "trailer cut short": (gz[:-3], "ended before the end-of-stream marker"),
    }


@pytest.mark.parametrize("case", list(_broken_trailers(b"")))
def test_corrupt_data_after_the_gzip_content(tmp_path, case):
    gz = gzip.compress(expected_content(sample((3, 28, 28), "uint8")), mtime=0)
    data, reason = _broken_trailers(gz)[case]
    path = tmp_path / "images.gz"
    path.write_bytes(data)
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(
        f"{path}: decompressed byte offset 2368: corrupt gzip data after the 2352 bytes declared by "
        f"shape (3, 28, 28) ("
    )
    assert reason in text


@pytest.mark.parametrize(
    ("data", "offset", "reason"),
    [
        (GZIP_MAGIC, 0, "ended before the end-of-stream marker"),
        (GZIP_MAGIC + b"\x07" + bytes(20), 0, "Unknown compression method"),
        # The first byte of the magic number decompresses; then the stream ends.
        (gzip.compress(b"\0\0\x08\x01", mtime=0)[:12], 1, "ended before the end-of-stream marker"),
    ],
    ids=["magic only", "bad method", "cut in the deflate stream"],
)
def test_corrupt_gzip_before_the_magic_number(tmp_path, data, offset, reason):
    path = tmp_path / "labels.gz"
    path.write_bytes(data)
    with pytest.raises(DataError) as excinfo:
        read_idx(path)
    text = message(excinfo)
    assert text.startswith(
        f"{path}: decompressed byte offset {offset}: corrupt gzip data while reading the 4-byte magic"
    )
    assert reason in text


def test_directory_and_missing_paths(tmp_path):
    with pytest.raises(DataError) as excinfo:
        read_idx(tmp_path)
    assert message(excinfo) == f"{tmp_path}: expected an IDX file, found a directory"

    missing = tmp_path / "nothing-here.idx"
    with pytest.raises(DataError) as excinfo:
        read_idx_content(missing)
    assert message(excinfo) == f"{missing}: no such file"

    (tmp_path / "file").write_bytes(b"")
    below_a_file = tmp_path / "file" / "x.idx"
    with pytest.raises(DataError, match=re.escape(f"{below_a_file}: cannot read")):
        read_idx(below_a_file)


def test_empty_shape_whose_sizes_numpy_cannot_represent(tmp_path):
    content = idx_header(0x08, (0, 2**32 - 1, 2**32 - 1))
    for name, data, where in [
        ("raw", content, "byte offset 4"),
        ("gz", gzip.compress(content), "decompressed byte offset 4"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError) as excinfo:
            read_idx(path)
        assert message(excinfo).startswith(
            f"{path}: {where}: header declares shape (0, 4294967295, 4294967295)"
        )
    # An empty shape numpy can hold is read.
    path = tmp_path / "fine"
    path.write_bytes(idx_header(0x0E, (0, 2**32 - 1)))
    assert read_idx(path).shape == (0, 2**32 - 1)


# --- headers that claim more than the file holds ----------------------------------------------


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_small_file_claiming_a_billion_images_fails_at_once(tmp_path, compress):
    header = idx_header(0x08, (1_000_000_000, 28, 28))
    if compress:
        body = np.random.default_rng(4).bytes(990)  # incompressible: the .gz is about 1 KB
        data = gzip.compress(header + body, mtime=0)
    else:
        data = header + bytes(1024 - len(header))
    assert 1000 <= len(data) <= 1100
    path = tmp_path / ("images.gz" if compress else "images")
    path.write_bytes(data)

    # "At once": it fails at offset 4, from the header alone, allocating next to nothing.
    result, peak = read_traced(path)
    assert isinstance(result, DataError)
    assert peak < 128 * 1024
    text = str(result)
    where = "decompressed byte offset 4" if compress else "byte offset 4"
    assert text.startswith(f"{path}: {where}: header declares shape (1000000000, 28, 28)")
    assert "784000000016 bytes" in text
    if compress:
        assert f"more than a gzip file of {len(data)} bytes can hold" in text
    else:
        assert f"the file has only {len(data)} bytes" in text


def test_gzip_header_claiming_more_than_gzip_can_hold_fails_before_decompressing(tmp_path):
    # 8 MiB of real zeros behind a header claiming 10^11 bytes. Decompressing any of the body would
    # show in the allocation peak; the header check must refuse it first.
    data = gzip.compress(idx_header(0x08, (100_000, 1000, 1000)) + bytes(8 << 20), compresslevel=9, mtime=0)
    assert len(data) < 16_000
    path = tmp_path / "bomb.gz"
    path.write_bytes(data)
    result, peak = read_traced(path)
    assert isinstance(result, DataError)
    text = str(result)
    assert text.startswith(f"{path}: decompressed byte offset 4: header declares shape (100000, 1000, 1000)")
    assert f"more than a gzip file of {len(data)} bytes can hold" in text
    assert peak < 256 * 1024


def test_gzip_header_just_over_the_deflate_limit(tmp_path):
    body = bytes(2000)
    data = gzip.compress(idx_header(0x08, (len(body),)) + body, mtime=0)
    claimed = 1032 * len(data) + 1024  # more than deflate can expand len(data) bytes to
    data = gzip.compress(idx_header(0x08, (claimed,)) + body, mtime=0)
    path = tmp_path / "labels.gz"
    path.write_bytes(data)
    with pytest.raises(DataError, match=r"decompressed byte offset 4: .* more than a gzip file of"):
        read_idx(path)


def test_gzip_claim_within_the_deflate_limit_allocates_only_what_arrives(tmp_path):
    # 8 KB of incompressible content behind a header claiming 8 MB: plausible for the file's size,
    # so the body is read, in chunks that grow only with the data that really arrives.
    body = np.random.default_rng(5).bytes(8000)
    data = gzip.compress(idx_header(0x08, (8_000_000,)) + body, mtime=0)
    assert 1032 * len(data) > 8_000_000
    path = tmp_path / "labels.gz"
    path.write_bytes(data)
    result, peak = read_traced(path)
    assert isinstance(result, DataError)
    text = str(result)
    assert text.startswith(f"{path}: decompressed byte offset 8008: gzip stream ends early (truncated?)")
    assert "needs 8000000 bytes, only 8000 are present" in text
    assert peak < 2 * 2**20


def test_maximally_compressed_real_file_is_not_mistaken_for_a_bomb(tmp_path):
    array = np.zeros((4, 1024, 1024), dtype=np.uint8)
    path = tmp_path / "zeros.gz"
    path.write_bytes(gzip.compress(expected_content(array), compresslevel=9))
    assert path.stat().st_size * 1000 < array.nbytes  # ratio close to deflate's limit
    back = read_idx(path)
    assert back.shape == array.shape
    assert not back.any()


# --- fuzzing ----------------------------------------------------------------------------------


@st.composite
def small_arrays(draw, min_side: int = 0) -> np.ndarray:
    """Arrays of every IDX dtype and 1 to 4 dimensions, a few KB at most, random or repetitive."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    ndim = draw(st.integers(1, 4))
    largest = {1: 600, 2: 24, 3: 8, 4: 5}[ndim]
    shape = tuple(draw(st.lists(st.integers(min_side, largest), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = math.prod(shape)
    if draw(st.booleans()):  # arbitrary bits: every nan and subnormal pattern
        return np.frombuffer(rng.bytes(n * dtype.itemsize), dtype=dtype).reshape(shape)
    return rng.integers(0, 3, size=shape).astype(dtype)  # compresses well: real deflate blocks


HUGE = st.one_of(
    st.sampled_from([0, 1, 2**16, 2**24, 10**9, 2**31 - 1, 2**31, 2**32 - 1]),
    st.integers(0, 2**32 - 1),
)


def mutate(draw, data: bytes, *, header_ops: bool) -> bytes:
    """Up to three edits: flip a bit, overwrite, insert, delete, truncate, append; and with
    ``header_ops``, set a dimension size (often huge) or the type code and rank."""
    ops = ["flip", "overwrite", "insert", "delete", "truncate", "append"]
    if header_ops:
        ops += ["dim", "dim", "magic"]
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(ops))
        # Positions favour the first bytes, where the headers are.
        pos = draw(st.one_of(st.integers(0, 23), st.integers(0, max(len(out) - 1, 0))))
        pos = min(pos, max(len(out) - 1, 0))
        if op == "flip" and out:
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite" and out:
            chunk = draw(st.binary(min_size=1, max_size=8))
            out[pos : pos + len(chunk)] = chunk
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[pos : pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del out[draw(st.integers(0, len(out))) :]
        elif op == "append":
            out += draw(st.binary(min_size=1, max_size=64))
        elif op == "dim" and len(out) >= 8:
            k = draw(st.integers(0, max(min(out[3], (len(out) - 4) // 4) - 1, 0)))
            out[4 + 4 * k : 8 + 4 * k] = draw(HUGE).to_bytes(4, "big")
        elif op == "magic" and len(out) >= 4:
            out[2] = draw(st.sampled_from([*TYPE_CODES.values(), 0x0A, 0x00, 0xFF]))
            out[3] = draw(st.integers(0, 18))
    return bytes(out)


@st.composite
def mutated_idx_files(draw) -> bytes:
    """A valid IDX file, raw or gzip, edited in its content and then in its bytes."""
    content = mutate(draw, idx_bytes(draw(small_arrays())), header_ops=True)
    if draw(st.booleans()):
        data = gzip.compress(content, compresslevel=draw(st.integers(0, 9)), mtime=0)
        return mutate(draw, data, header_ops=False)
    return mutate(draw, content, header_ops=True)


@st.composite
def random_inputs(draw) -> bytes:
    """Random bytes, alone or behind a gzip magic, an IDX header, or inside a valid gzip stream."""
    noise = draw(st.binary(max_size=4096))
    kind = draw(st.sampled_from(["bytes", "gzip magic", "idx header", "gzipped"]))
    if kind == "gzip magic":
        return GZIP_MAGIC + noise
    if kind == "idx header":
        code = draw(st.sampled_from(list(TYPE_CODES.values())))
        dims = draw(st.lists(HUGE, min_size=1, max_size=4))
        return idx_header(code, tuple(dims)) + noise
    if kind == "gzipped":
        return gzip.compress(noise, mtime=0)
    return noise


MAGICS = st.sampled_from([None, IMAGES_MAGIC, LABELS_MAGIC])


@fuzz(250)
@given(data=random_inputs(), expect_magic=MAGICS)
def test_fuzz_reader_with_random_bytes(data, expect_magic):
    check_reader(data, expect_magic)


@fuzz(400)
@given(data=mutated_idx_files(), expect_magic=MAGICS)
def test_fuzz_reader_with_mutated_valid_files(data, expect_magic):
    check_reader(data, expect_magic)


@fuzz(150)
@given(array=small_arrays(min_side=1), compress=st.booleans(), data=st.data())
def test_fuzz_huge_header_dims_fail_at_offset_4_without_allocating(array, compress, data):
    content = bytearray(idx_bytes(array))
    k = data.draw(st.integers(0, array.ndim - 1), label="dimension")
    huge = st.one_of(st.sampled_from([2**24, 10**9, 2**31, 2**32 - 1]), st.integers(2**24, 2**32 - 1))
    size = data.draw(huge, label="size")
    content[4 + 4 * k : 8 + 4 * k] = size.to_bytes(4, "big")
    shape = list(array.shape)
    shape[k] = size
    file = gzip.compress(bytes(content), mtime=0) if compress else bytes(content)
    result = check_reader(file, peak_limit=256 * 1024)
    assert isinstance(result, DataError)
    where = "decompressed byte offset 4" if compress else "byte offset 4"
    assert f": {where}: header declares shape {tuple(shape)}" in str(result)


@fuzz(100)
@given(array=small_arrays(), compress=st.booleans(), level=st.integers(0, 9))
def test_fuzz_round_trip_of_valid_files(array, compress, level):
    content = idx_bytes(array)
    assert content == expected_content(array)
    data = gzip.compress(content, compresslevel=level, mtime=0) if compress else content
    result = check_reader(data)
    assert not isinstance(result, DataError), result
    assert result.array.shape == array.shape
    assert result.array.tobytes() == array.tobytes()
