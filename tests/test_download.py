"""Verified downloads against a real HTTP server on 127.0.0.1 (the machine has no internet).

Every test starts its own ``ThreadingHTTPServer``; a mirror is a path prefix on it, and the prefix
says how that mirror misbehaves (404, 500, a truncated body, wrong content, silence, ...).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from mnistlab import data
from mnistlab._errors import DataError
from mnistlab.data import DatasetInfo, IdxFile, download_file, write_idx
from mnistlab.data._registry import MNIST

TIMEOUT = 0.5  # seconds; the slow mirrors never answer within it
HOLD = 10.0  # how long a slow mirror holds a connection at most (released at teardown)
PART = ".part"

# --------------------------------------------------------------------------------- the server

# What a mirror prefix can do. "good", "gzip-encoded" and "wrong" answer 200 with the bytes registered
# for that prefix (404 for a file not registered); the others misbehave: "truncated" promises more
# bytes than it sends and hangs up, "slow" never answers, "stall" sends half the body and goes silent.
BEHAVIOURS = ("good", "gzip-encoded", "wrong", "404", "500", "truncated", "slow", "stall")


@dataclass
class Route:
    behaviour: str
    files: dict[str, bytes] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append(self.path)
        prefix, _, name = self.path.lstrip("/").partition("/")
        route = srv.routes.get(prefix)
        if route is None or route.behaviour == "404":
            self.send_error(404)
            return
        if route.behaviour == "500":
            self.send_error(500)
            return
        if route.behaviour == "slow":  # accept the connection, never answer
            srv.release.wait(HOLD)
            self.close_connection = True
            return
        body = route.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if route.behaviour == "truncated":  # promise more than we send, then hang up
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if route.behaviour == "gzip-encoded":  # a misconfigured server: the .gz as a transfer encoding
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if route.behaviour == "stall":  # headers and half the body, then silence
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            srv.release.wait(HOLD)
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def handle_error(self, request, client_address):
        pass  # a client that gave up on a slow mirror makes the late write fail; that is expected

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def mirror(self, prefix: str, behaviour: str, files: dict[str, bytes] | None = None) -> str:
        """Register mirror ``prefix`` behaving as ``behaviour``; return its base URL."""
        assert behaviour in BEHAVIOURS
        self.routes[prefix] = Route(behaviour, dict(files or {}))
        return f"{self.base}/{prefix}/"


@pytest.fixture
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("MNISTLAB_OFFLINE")
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


# ---------------------------------------------------------------------------- synthetic dataset

N_TEST = 10


@dataclass(frozen=True)
class Tiny:
    info: DatasetInfo
    spec: IdxFile  # test images, verified by content SHA-256
    array: np.ndarray
    gz: bytes  # the served .gz
    recompressed: bytes  # same content, other gzip bytes
    wrong: bytes  # a valid gzip IDX of the right shape holding other pixels
    wrong_shape: bytes  # a valid gzip IDX of images, one too few

    @property
    def name(self) -> str:
        return self.spec.gz_name


def _gz(tmp: Path, array: np.ndarray) -> bytes:
    return write_idx(tmp / "x.gz", array).read_bytes()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Tiny:
    tmp = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)
    gz = _gz(tmp, images)
    raw = gzip.decompress(gz)
    spec = IdxFile(
        split="test",
        kind="images",
        filename="t10k-images-idx3-ubyte",
        content_size=len(raw),
        content_sha256=hashlib.sha256(raw).hexdigest(),
        gz_md5=hashlib.md5(gz, usedforsecurity=False).hexdigest(),
    )
    info = dataclasses.replace(
        MNIST,
        name="tiny",
        title="Tiny",
        split_sizes=MappingProxyType({"train": 20, "test": N_TEST}),
        mirrors=("http://192.0.2.1/never-used/",),  # TEST-NET: must never be contacted
        files=(spec,),
    )
    recompressed = gzip.compress(raw, compresslevel=1, mtime=123)
    wrong = _gz(tmp, 255 - images)
    wrong_shape = _gz(tmp, images[:-1])
    assert len({gz, recompressed, wrong, wrong_shape}) == 4
    assert gzip.decompress(recompressed) == raw
    return Tiny(info, spec, images, gz, recompressed, wrong, wrong_shape)


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _assert_verified_cache(folder: Path, name: str, served: bytes, source: str, verified_by: str):
    """The cache holds the verified file, its manifest, maybe the lock: nothing else."""
    files = _listing(folder)
    assert not [f for f in files if f.endswith(PART)], files
    assert {name, "manifest.json"} <= files <= {name, "manifest.json", ".lock"}
    assert (folder / name).read_bytes() == served
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {name}
    entry = manifest["files"][name]
    assert entry["source"] == source
    assert entry["verified_by"] == verified_by
    assert entry["sha256"] == hashlib.sha256(served).hexdigest()
    assert entry["content_sha256"] == hashlib.sha256(gzip.decompress(served)).hexdigest()
    assert entry["content_size"] == len(gzip.decompress(served))


# ------------------------------------------------------------------ one bad mirror, then good


def _bad_mirror(server: _Server, tiny: Tiny, behaviour: str) -> str:
    files = {
        "wrong": {tiny.name: tiny.wrong},
        "wrong_shape": {tiny.name: tiny.wrong_shape},
        "garbage": {tiny.name: b"<html>mirror moved</html>\n"},
        "truncated": {tiny.name: tiny.gz},
        "stall": {tiny.name: tiny.gz},
    }.get(behaviour, {})
    kind = "wrong" if behaviour in ("wrong_shape", "garbage") else behaviour
    return server.mirror(f"bad-{behaviour}", kind, files)


@pytest.mark.parametrize(
    "behaviour", ["404", "500", "truncated", "wrong", "wrong_shape", "garbage", "slow", "stall"]
)
def test_bad_first_mirror_then_good_mirror(server, online, tiny, tmp_path, behaviour):
    bad = _bad_mirror(server, tiny, behaviour)
    good = server.mirror("good", "good", {tiny.name: tiny.gz})
    start = time.monotonic()
    content, record = download_file(
        tiny.info, tiny.spec, tmp_path, mirrors=[bad, good], timeout=TIMEOUT, progress=False
    )
    assert time.monotonic() - start < 5 * TIMEOUT + 2
    np.testing.assert_array_equal(content.array, tiny.array)
    url = good + tiny.name
    assert server.requests == [f"/bad-{behaviour}/{tiny.name}", f"/good/{tiny.name}"]
    assert record.source == url
    assert record.verified_by == "content-sha256"
    assert record.path == str(tmp_path / "tiny" / tiny.name)
    assert record.sha256 == hashlib.sha256(tiny.gz).hexdigest()
    assert record.content_sha256 == tiny.spec.content_sha256
    assert _listing(tmp_path) == {"tiny"}
    _assert_verified_cache(tmp_path / "tiny", tiny.name, tiny.gz, url, "content-sha256")


def test_recompressed_copy_is_accepted_by_content_checksum(server, online, tiny, tmp_path):
    good = server.mirror("re", "good", {tiny.name: tiny.recompressed})
    _, record = download_file(tiny.info, tiny.spec, tmp_path, mirrors=[good], timeout=TIMEOUT, progress=False)
    assert hashlib.md5(tiny.recompressed, usedforsecurity=False).hexdigest() != tiny.spec.gz_md5
    assert record.verified_by == "content-sha256"
    _assert_verified_cache(
        tmp_path / "tiny", tiny.name, tiny.recompressed, good + tiny.name, "content-sha256"
    )


def test_mirror_without_trailing_slash(server, online, tiny, tmp_path):
    good = server.mirror("good", "good", {tiny.name: tiny.gz}).rstrip("/")
    _, record = download_file(tiny.info, tiny.spec, tmp_path, mirrors=[good], timeout=TIMEOUT, progress=False)
    assert record.source == f"{good}/{tiny.name}"
    assert server.requests == [f"/good/{tiny.name}"]


@pytest.mark.parametrize("how", ["raw", "gzip-encoded"])
def test_uncompressed_download_is_stored_under_the_uncompressed_name(server, online, tiny, tmp_path, how):
    """A mirror serving the raw IDX (or a .gz that requests decodes) is verified by content."""
    raw = gzip.decompress(tiny.gz)
    if how == "raw":
        good = server.mirror("good", "good", {tiny.name: raw})
    else:
        good = server.mirror("good", "gzip-encoded", {tiny.name: tiny.gz})
    content, record = download_file(
        tiny.info, tiny.spec, tmp_path, mirrors=[good], timeout=TIMEOUT, progress=False
    )
    np.testing.assert_array_equal(content.array, tiny.array)
    folder = tmp_path / "tiny"
    assert record.path == str(folder / tiny.spec.filename)  # not a raw file named .gz
    assert record.verified_by == "content-sha256"
    assert (folder / tiny.spec.filename).read_bytes() == raw
    assert _listing(folder) <= {tiny.spec.filename, "manifest.json", ".lock"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"][tiny.spec.filename]["source"] == good + tiny.name
    # a later download of the .gz replaces it: one copy per file, in the folder and the manifest
    gz_mirror = server.mirror("gz", "good", {tiny.name: tiny.gz})
    download_file(tiny.info, tiny.spec, tmp_path, mirrors=[gz_mirror], timeout=TIMEOUT, progress=False)
    _assert_verified_cache(folder, tiny.name, tiny.gz, gz_mirror + tiny.name, "content-sha256")


# -------------------------------------------------------------------------- every mirror bad

# behaviour -> a pattern the reason given for that mirror must match
REASONS = {
    "404": r"HTTP 404\b",
    "500": r"HTTP 500\b",
    "truncated": r"broke off",
    "wrong": r"rejected: .*SHA-256",
    "wrong_shape": r"rejected: .*shape \(9, 28, 28\)",
    "garbage": r"rejected: .*magic",
    "slow": rf"no answer within {TIMEOUT:g} s",
    "stall": rf"the transfer stalled \(no data within {TIMEOUT:g} s\)",
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_mirror_bad_names_each_and_leaves_nothing(server, online, tiny, tmp_path):
    mirrors = {b: _bad_mirror(server, tiny, b) for b in REASONS}
    refused = f"http://127.0.0.1:{_closed_port()}/gone/"
    start = time.monotonic()
    with pytest.raises(DataError) as err:
        download_file(
            tiny.info,
            tiny.spec,
            tmp_path,
            mirrors=[*mirrors.values(), refused],
            timeout=TIMEOUT,
            progress=False,
        )
    # two silent mirrors cost a timeout each; nothing waits longer than that
    assert time.monotonic() - start < 2 * TIMEOUT + 3
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"could not download tiny/{tiny.name} from any mirror: ")
    for behaviour, mirror in mirrors.items():
        url = re.escape(mirror + tiny.name)
        assert re.search(rf"{url}: [^;]*{REASONS[behaviour]}", msg), (behaviour, msg)
        assert msg.count(mirror + tiny.name) == 1, msg  # named once, not again inside its reason
    assert re.search(re.escape(refused + tiny.name) + r": could not connect", msg), msg
    assert "mnistlab data import" in msg
    assert "--data-dir" in msg
    assert "MNISTLAB_DATA_DIR" in msg
    assert ".part" not in msg  # temporary names are replaced by the URL
    assert len(server.requests) == len(mirrors)
    assert _listing(tmp_path / "tiny") == set()


def test_failed_download_keeps_what_the_cache_already_held(server, online, tiny, tmp_path):
    """A verified file already in the cache survives a failed download of another file."""
    labels_spec = dataclasses.replace(
        tiny.spec, kind="labels", filename="t10k-labels-idx1-ubyte", content_sha256=None, gz_md5=None
    )
    labels_gz = _gz(tmp_path, np.arange(N_TEST, dtype=np.uint8))
    info = dataclasses.replace(tiny.info, files=(tiny.spec, labels_spec))
    first = server.mirror("labels", "good", {labels_spec.gz_name: labels_gz})
    # no checksum published at all: a download cannot be verified and is refused
    with pytest.raises(DataError, match="MD5"):
        download_file(info, labels_spec, tmp_path, mirrors=[first], timeout=TIMEOUT, progress=False)
    labels_spec = dataclasses.replace(
        labels_spec, gz_md5=hashlib.md5(labels_gz, usedforsecurity=False).hexdigest()
    )
    info = dataclasses.replace(tiny.info, files=(tiny.spec, labels_spec))
    download_file(info, labels_spec, tmp_path, mirrors=[first], timeout=TIMEOUT, progress=False)
    folder = tmp_path / "tiny"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    bad = server.mirror("bad", "wrong", {tiny.name: tiny.wrong})
    with pytest.raises(DataError, match="rejected"):
        download_file(info, tiny.spec, tmp_path, mirrors=[bad], timeout=TIMEOUT, progress=False)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --------------------------------------------------------------------------------- gz md5 only


@pytest.fixture
def md5_only(tiny) -> tuple[DatasetInfo, IdxFile]:
    spec = dataclasses.replace(tiny.spec, content_sha256=None)
    return dataclasses.replace(tiny.info, files=(spec,)), spec


def test_gz_md5_verified_download(server, online, tiny, md5_only, tmp_path):
    info, spec = md5_only
    good = server.mirror("good", "good", {tiny.name: tiny.gz})
    content, record = download_file(info, spec, tmp_path, mirrors=[good], timeout=TIMEOUT, progress=False)
    np.testing.assert_array_equal(content.array, tiny.array)
    assert record.verified_by == "gz-md5"
    assert record.source == good + tiny.name
    _assert_verified_cache(tmp_path / "tiny", tiny.name, tiny.gz, good + tiny.name, "gz-md5")


@pytest.mark.parametrize("served", ["recompressed", "wrong"])
def test_gz_md5_mismatch_is_rejected(server, online, tiny, md5_only, tmp_path, served):
    """Without a content checksum, only the published .gz bytes are trusted for a download."""
    info, spec = md5_only
    body = getattr(tiny, served)
    bad = server.mirror("bad", "wrong", {tiny.name: body})
    with pytest.raises(DataError) as err:
        download_file(info, spec, tmp_path, mirrors=[bad], timeout=TIMEOUT, progress=False)
    msg = str(err.value)
    md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    assert re.search(rf"{re.escape(bad + tiny.name)}: rejected: .*MD5 of the file is {md5}", msg), msg
    assert spec.gz_md5 in msg
    assert "\n" not in msg
    assert _listing(tmp_path / "tiny") == set()
    # ... and the next mirror with the published bytes is used
    good = server.mirror("good", "good", {tiny.name: tiny.gz})
    _, record = download_file(info, spec, tmp_path, mirrors=[bad, good], timeout=TIMEOUT, progress=False)
    assert record.verified_by == "gz-md5"
    _assert_verified_cache(tmp_path / "tiny", tiny.name, tiny.gz, good + tiny.name, "gz-md5")


# --------------------------------------------------------------------------------------- offline


def test_offline_never_touches_the_network(server, tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTLAB_OFFLINE", "1")
    good = server.mirror("good", "good", {tiny.name: tiny.gz})
    with pytest.raises(DataError) as err:
        download_file(tiny.info, tiny.spec, tmp_path, mirrors=[good], timeout=TIMEOUT, progress=False)
    msg = str(err.value)
    assert "MNISTLAB_OFFLINE=1" in msg
    assert tiny.spec.filename in msg
    assert "mnistlab data import" in msg
    assert "\n" not in msg
    assert not (tmp_path / "tiny").exists()
    # the public entry points too, even when asked to download
    for download in (None, True):
        with pytest.raises(DataError, match="MNISTLAB_OFFLINE=1"):
            data.load("mnist", "test", mirrors=[good], data_dir=tmp_path, download=download, progress=False)
    with pytest.raises(DataError, match="MNISTLAB_OFFLINE=1"):
        data.fetch("mnist", splits=["test"], mirrors=[good], data_dir=tmp_path, progress=False)
    assert server.requests == []
    assert not (tmp_path / "mnist").exists()


# -------------------------------------------------------------------------------------- progress


def test_progress_bar_without_a_tty(server, online, tiny, tmp_path, monkeypatch):
    stderr = io.StringIO()  # not a TTY, whatever runs the tests
    monkeypatch.setattr(sys, "stderr", stderr)
    bad = server.mirror("bad", "404")
    good = server.mirror("good", "good", {tiny.name: tiny.gz})
    _, record = download_file(
        tiny.info, tiny.spec, tmp_path, mirrors=[bad, good], timeout=TIMEOUT, progress=True
    )
    assert record.source == good + tiny.name
    assert record.verified_by == "content-sha256"
    with pytest.raises(DataError, match="HTTP 404"):
        download_file(tiny.info, tiny.spec, tmp_path / "other", mirrors=[bad], timeout=TIMEOUT, progress=True)
    assert "Traceback" not in stderr.getvalue()
    assert "\x1b[" not in stderr.getvalue()  # no cursor control written to a file or pipe
    # every bar was stopped: each refresh thread of rich's live display has been told to end
    refresh = [t for t in threading.enumerate() if type(t).__name__ == "_RefreshThread"]
    assert all(t.done.is_set() for t in refresh)


# ----------------------------------------------------------------------- the real MNIST registry


@pytest.mark.full_data
def test_load_real_mnist_test_split_from_a_local_mirror(server, online, shared_data, tmp_path, monkeypatch):
    folder = shared_data / "mnist-test"
    info = data.get_info("mnist")
    specs = [info.file("test", kind) for kind in ("images", "labels")]
    files = {}
    for spec in specs:
        path = folder / spec.gz_name
        if not path.is_file():
            pytest.skip(f"{path} not found")
        files[spec.gz_name] = path.read_bytes()
        # re-compressed: the published .gz MD5 would reject it; the content SHA-256 accepts it
        assert hashlib.md5(files[spec.gz_name], usedforsecurity=False).hexdigest() != spec.gz_md5
    bad = server.mirror("bad", "500")
    good = server.mirror("good", "good", files).rstrip("/")
    cache = tmp_path / "cache"
    ds = data.load("mnist", "test", mirrors=[bad, good], data_dir=cache, timeout=5, progress=False)
    assert ds.images.shape == (10_000, 28, 28)
    assert ds.labels.shape == (10_000,)
    assert ds.provenance.origin == "download"
    by_name = {Path(r.path).name: r for r in ds.provenance.files}
    assert set(by_name) == set(files)
    for name, record in by_name.items():
        assert record.verified_by == "content-sha256"
        assert record.source == f"{good}/{name}"
        assert record.sha256 == hashlib.sha256(files[name]).hexdigest()
    assert server.requests == [f"/{m}/{s.gz_name}" for s in specs for m in ("bad", "good")]
    listing = _listing(cache / "mnist")
    assert not [f for f in listing if f.endswith(PART)]
    assert set(files) | {"manifest.json"} <= listing <= set(files) | {"manifest.json", ".lock"}
    manifest = json.loads((cache / "mnist" / "manifest.json").read_text())
    assert {n: e["source"] for n, e in manifest["files"].items()} == {n: f"{good}/{n}" for n in files}

    # offline again: the cache answers, and still knows where the files came from
    monkeypatch.setenv("MNISTLAB_OFFLINE", "1")
    n_requests = len(server.requests)
    again = data.load("mnist", "test", data_dir=cache, progress=False)
    assert again.provenance.origin == "cache"
    assert {r.source for r in again.provenance.files} == {f"{good}/{n}" for n in files}
    np.testing.assert_array_equal(again.images, ds.images)
    assert len(server.requests) == n_requests


# ------------------------------------------------------------------------------------ the CLI


def _cli(capsys, *args) -> tuple[int, str, str]:
    cli = pytest.importorskip("mnistlab.cli")
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.full_data
def test_cli_fetch_from_local_mirrors(server, online, shared_data, tmp_path, capsys):
    """`mnistlab data fetch fashion-mnist --mirror ...`: Debian's re-compressed copies, verified."""
    info = data.get_info("fashion-mnist")
    if any(Path(d).is_dir() for d in info.system_dirs):
        pytest.skip(f"{info.system_dirs} exists here, so fetch would not download")
    files = {s.gz_name: (shared_data / "fashion-mnist" / s.gz_name).read_bytes() for s in info.files}
    bad = server.mirror("bad", "404")
    good = server.mirror("good", "good", files)
    cache = tmp_path / "cache"
    code, out, err = _cli(
        capsys, "data", "fetch", "fashion-mnist", "--mirror", bad, "--mirror", good,
        "--data-dir", cache, "--timeout", 5,
    )  # fmt: skip
    assert code == 0, err
    assert "Traceback" not in err
    out = " ".join(out.split())  # rich wraps long lines
    for name in files:
        assert f"{name}: verified by content-sha256 ({good}{name})" in out
    assert "Fashion-MNIST: 4 files present and verified." in out
    assert sorted(server.requests) == sorted(f"/{m}/{n}" for n in files for m in ("bad", "good"))
    listing = _listing(cache / "fashion-mnist")
    assert set(files) | {"manifest.json"} <= listing <= set(files) | {"manifest.json", ".lock"}


def test_cli_fetch_every_mirror_bad(server, online, tmp_path, capsys):
    broken = server.mirror("broken", "500")
    empty = server.mirror("empty", "good", {})  # answers 404 for every file
    cache = tmp_path / "cache"
    code, _, err = _cli(
        capsys, "data", "fetch", "mnist", "--mirror", broken, "--mirror", empty,
        "--data-dir", cache, "--timeout", 1, "--quiet",
    )  # fmt: skip
    assert code == 1  # every mirror failing is a runtime failure, not a usage error
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("error: ")
    assert "Traceback" not in err
    first = "train-images-idx3-ubyte.gz"  # the first file fetched; the error stops there
    assert f"{broken}{first}: HTTP 500" in line
    assert f"{empty}{first}: HTTP 404" in line
    assert "mnistlab data import" in line
    assert "--data-dir" in line
    assert server.requests == [f"/broken/{first}", f"/empty/{first}"]
    assert _listing(cache / "mnist") == set()


def test_cli_fetch_offline_never_touches_the_network(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MNISTLAB_OFFLINE", "1")
    good = server.mirror("good", "good", {})
    code, _, err = _cli(capsys, "data", "fetch", "mnist", "--mirror", good, "--data-dir", tmp_path, "-q")
    assert code == 1  # offline and not cached: a runtime failure
    assert len(err.strip().splitlines()) == 1, err
    assert "MNISTLAB_OFFLINE=1" in err
    assert server.requests == []
