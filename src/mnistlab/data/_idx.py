"""Reading and writing IDX files (the format MNIST, Fashion-MNIST and KMNIST ship in).

Layout: two zero bytes, a type code, the number of dimensions ``d``; then ``d`` big-endian
uint32 sizes; then the values, big-endian, in C order. Files may be gzip-compressed.

The reader trusts nothing in the file: it checks the magic number and every size against the
bytes that actually exist *before* it allocates the array, so a tiny file whose header claims a
billion images fails at once. Every failure is a :class:`DataError` that names the file, the byte
offset (of the decompressed stream, for gzip files) and what was expected.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._fs import atomic_write_bytes

# type code -> (big-endian dtype, name)
_TYPES: dict[int, tuple[np.dtype, str]] = {
    0x08: (np.dtype("u1"), "uint8"),
    0x09: (np.dtype("i1"), "int8"),
    0x0B: (np.dtype(">i2"), "int16"),
    0x0C: (np.dtype(">i4"), "int32"),
    0x0D: (np.dtype(">f4"), "float32"),
    0x0E: (np.dtype(">f8"), "float64"),
}

IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions: count, rows, cols
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension: count

_MAX_DIMS = 16
# Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes cannot hold
# more than this many decompressed bytes. Used to refuse absurd headers before decompressing.
_MAX_DEFLATE_RATIO = 1032
_CHUNK = 1 << 20


@dataclass(frozen=True)
class IdxContent:
    """An IDX file's array with the checksums that verification needs."""

    array: np.ndarray
    compressed: bool
    file_size: int
    file_sha256: str
    file_md5: str
    content_size: int
    content_sha256: str


def describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    name = _TYPES[code][1] if code in _TYPES else f"unknown type 0x{code:02x}"
    return f"0x{magic:08x} ({name}, {ndim} dimension{'s' if ndim != 1 else ''})"


class _Reader:
    """Reads exact byte counts from raw or gzip data, tracking the decompressed offset."""

    def __init__(self, name: str, data: bytes):
        self.name = name
        self.compressed = data[:2] == b"\x1f\x8b"
        self.stream = gzip.GzipFile(fileobj=io.BytesIO(data)) if self.compressed else io.BytesIO(data)
        self.offset = 0
        self.where = "decompressed byte offset" if self.compressed else "byte offset"

    def fail(self, message: str, offset: int | None = None) -> DataError:
        at = self.offset if offset is None else offset
        return DataError(f"{self.name}: {self.where} {at}: {message}")

    def read(self, n: int, what: str) -> bytearray:
        # Chunked reads: the size comes from the file, and a single read(n) would allocate n bytes
        # up front. Growing a buffer only as data arrives bounds memory by the real content.
        # read1 returns what one read decompressed, so bytes that arrived before a gzip error
        # count toward the offset reported (read would drop them with the exception).
        out = bytearray()
        while len(out) < n:
            try:
                chunk = self.stream.read1(min(_CHUNK, n - len(out)))
            except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
                raise self.fail(
                    f"corrupt gzip data while reading {what} ({exc})", self.offset + len(out)
                ) from None
            if not chunk:
                kind = "gzip stream" if self.compressed else "file"
                raise self.fail(
                    f"{kind} ends early (truncated?): {what} needs {n} bytes, only {len(out)} are present",
                    self.offset + len(out),
                )
            out += chunk
        self.offset += n
        return out

    def end_problem(self, what: str) -> str | None:
        """None if the data ends after ``what`` (for gzip: with a valid trailer), else the problem."""
        try:
            return f"unexpected data after {what}" if self.stream.read(1) else None
        except (OSError, EOFError, zlib.error) as exc:  # a bad CRC or trailer, or non-gzip bytes
            return f"corrupt gzip data after {what} ({exc})"


def _shape_problem(dims: tuple[int, ...], expect_shape) -> str | None:
    """Why ``dims`` is not ``expect_shape`` (``None`` entries match any size), or None if it is."""
    if expect_shape is None:
        return None
    expected = tuple(expect_shape)
    if len(dims) == len(expected) and all(e is None or d == e for d, e in zip(dims, expected, strict=True)):
        return None
    shown = (
        "("
        + ", ".join("any" if e is None else str(e) for e in expected)
        + ("," if len(expected) == 1 else "")
        + ")"
    )
    return f"header declares shape {dims}, expected {shown}; refused before reading the data"


def parse_idx(
    data: bytes,
    *,
    name: str = "<bytes>",
    expect_magic: int | None = None,
    expect_shape: tuple[int | None, ...] | None = None,
) -> tuple[np.ndarray, bool, bytes, bytes]:
    """Parse IDX ``data`` (raw or gzip).

    ``expect_shape`` (``None`` entries: any size) is checked against the header before a byte of
    the body is decompressed: a small gzip file whose header claims millions of images costs
    nothing when the caller knows how many there should be. Returns the array, whether ``data``
    was gzip, and the decompressed header and body bytes.
    """
    r = _Reader(name, data)
    head = r.read(4, "the 4-byte magic number")
    magic = int.from_bytes(head, "big")
    if expect_magic is not None and magic != expect_magic:
        raise r.fail(f"expected magic {describe_magic(expect_magic)}, found 0x{magic:08x}", 0)
    code, ndim = head[2], head[3]
    if head[:2] != b"\0\0" or code not in _TYPES:
        raise r.fail(
            f"expected an IDX magic number (00 00, a type code in "
            f"{{{', '.join(f'0x{c:02x}' for c in _TYPES)}}}, dimension count), found 0x{magic:08x}",
            0,
        )
    if not 1 <= ndim <= _MAX_DIMS:
        raise r.fail(f"expected 1 to {_MAX_DIMS} dimensions, the header says {ndim}", 3)
    dims_raw = r.read(4 * ndim, f"{ndim} dimension sizes")
    dims = tuple(int(d) for d in np.frombuffer(dims_raw, dtype=">u4"))
    if problem := _shape_problem(dims, expect_shape):
        raise r.fail(problem, 4)
    dtype = _TYPES[code][0]
    header = 4 + 4 * ndim
    payload = math.prod(dims) * dtype.itemsize
    total = header + payload
    if r.compressed:
        if total > _MAX_DEFLATE_RATIO * len(data) + 1024:
            raise r.fail(
                f"header declares shape {dims}, {total} bytes of data, more than a gzip file of "
                f"{len(data)} bytes can hold",
                4,
            )
    elif total != len(data):
        if total > len(data):
            raise r.fail(
                f"header declares shape {dims} ({total} bytes in all) but the file has only "
                f"{len(data)} bytes",
                4,
            )
        raise r.fail(f"{len(data) - total} unexpected bytes after the data declared by shape {dims}", total)
    if math.prod(d for d in dims if d) * dtype.itemsize > np.iinfo(np.intp).max:
        # Only an empty shape gets here; numpy still refuses one whose other sizes overflow.
        raise r.fail(f"header declares shape {dims}, too large for an array even though it is empty", 4)
    body = r.read(payload, f"shape {dims} of {_TYPES[code][1]}")
    if r.compressed and (problem := r.end_problem(f"the {payload} bytes declared by shape {dims}")):
        raise r.fail(problem, total)
    array = np.frombuffer(body, dtype=dtype).reshape(dims)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array, r.compressed, bytes(head) + bytes(dims_raw), body


def dims_bytes(dims) -> bytes:
    return b"".join(int(d).to_bytes(4, "big") for d in dims)


def read_idx_content(
    path: str | os.PathLike,
    *,
    expect_magic: int | None = None,
    expect_shape: tuple[int | None, ...] | None = None,
) -> IdxContent:
    """Read an IDX file (raw or gzip) with the checksums of the file and of its content.

    ``expect_shape`` refuses a file whose header declares another shape before its body is read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise DataError(f"{path}: expected an IDX file, found a directory") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    array, compressed, header, body = parse_idx(
        data, name=str(path), expect_magic=expect_magic, expect_shape=expect_shape
    )
    # The content checksum covers the whole decompressed file, header and body, so it matches
    # `sha256sum` of the gunzipped file whatever compressor produced the .gz.
    content = hashlib.sha256(header)
    content.update(body)
    array.flags.writeable = False
    return IdxContent(
        array=array,
        compressed=compressed,
        file_size=len(data),
        file_sha256=hashlib.sha256(data).hexdigest(),
        file_md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        content_size=len(header) + len(body),
        content_sha256=content.hexdigest(),
    )


def data_code(dtype: np.dtype, what: str = "array") -> int:
    """The IDX type code of ``dtype`` (either byte order)."""
    native = np.dtype(dtype).newbyteorder("=")
    for code, (dt, _) in _TYPES.items():
        if native == dt.newbyteorder("="):
            return code
    allowed = ", ".join(name for _, name in _TYPES.values())
    raise DataError(f"{what}: IDX stores {allowed}; got dtype {np.dtype(dtype)}")


def read_idx(
    path: str | os.PathLike,
    *,
    expect_magic: int | None = None,
    expect_shape: tuple[int | None, ...] | None = None,
) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, of any type and shape.

    ``expect_magic`` (e.g. :data:`IMAGES_MAGIC`) rejects files of another type or rank.
    Raises :class:`DataError` for anything that is not a well-formed IDX file.
    """
    return read_idx_content(path, expect_magic=expect_magic, expect_shape=expect_shape).array


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding (uncompressed) of ``array``."""
    array = np.asarray(array)
    if array.ndim < 1 or array.ndim > _MAX_DIMS:
        raise DataError(f"array: IDX holds 1 to {_MAX_DIMS} dimensions; got {array.ndim}")
    code = data_code(array.dtype)
    big = array.astype(_TYPES[code][0], copy=False)
    return bytes([0, 0, code, array.ndim]) + dims_bytes(array.shape) + np.ascontiguousarray(big).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzip when ``compress`` (default: name ends .gz)."""
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    payload = idx_bytes(array)
    if compress:
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    atomic_write_bytes(path, payload)
    return path
