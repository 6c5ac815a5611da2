"""Test-wide safety: no test reaches the internet, and no test touches the user's cache."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if isinstance(address, str | bytes):  # AF_UNIX path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(real):
    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise OSError(f"tests must not reach the network: connection to {address!r} refused")
        return real(self, address)

    return connect


@pytest.fixture(autouse=True)
def _no_network_and_private_cache(monkeypatch, tmp_path_factory):
    """Refuse non-loopback connections; point the cache at a fresh folder; forbid downloads.

    Tests that exercise downloads clear MNISTLAB_OFFLINE themselves and use a server on 127.0.0.1.
    """
    monkeypatch.setattr(socket.socket, "connect", _guarded(_real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(_real_connect_ex))
    monkeypatch.setenv("MNISTLAB_DATA_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("MNISTLAB_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # Tests compile afresh and write nothing to the user's cache (test_compile_cache turns it on).
    monkeypatch.setenv("MNISTLAB_COMPILE_CACHE", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The full-size datasets folder (``../shared/data``), named by MNISTLAB_TEST_DATA.

    Tests using it skip, saying why, when it is absent.
    """
    env = os.environ.get("MNISTLAB_TEST_DATA")
    # When set, it is the only place looked: a wrong path should show up as skips naming it.
    path = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if (path / "fashion-mnist").is_dir() and (path / "mnist-test").is_dir():
        return path.resolve()
    pytest.skip(
        f"full-size test data not found at {path} (from "
        f"{'MNISTLAB_TEST_DATA' if env else 'the default ../shared/data'}): set MNISTLAB_TEST_DATA to "
        "the folder holding fashion-mnist/ and mnist-test/"
    )


@pytest.fixture(scope="session")
def full_mnist(shared_data) -> Path:
    """The full MNIST folder of the shared data (all four files); tests using it skip without it."""
    folder = shared_data / "mnist"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"the full MNIST training set is not at {folder}")
    return folder


@pytest.fixture(scope="module")
def cheap_compiles():
    """Skip most XLA optimisation: for modules of tiny programs that are compiled once and run a few times.

    The flag is part of the compilation cache key, so nothing compiled here leaks elsewhere.
    """
    from helpers import cheap_compilation

    with cheap_compilation():
        yield


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    """A persistent compilation cache private to this test session, so that runs of one program
    (the same config twice, a resumed run, a refit on equally shaped data, a subprocess given the
    folder) compile it once. Yields its folder; the previous settings come back afterwards.

    Modules that want it everywhere use ``pytestmark = pytest.mark.usefixtures("compilation_cache")``.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    names = (
        "jax_compilation_cache_dir",
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    )
    old = {name: getattr(jax.config, name) for name in names}
    folder = tmp_path_factory.getbasetemp() / "jax-compilation-cache"
    cc.reset_cache()
    jax.config.update(names[0], str(folder))
    jax.config.update(names[1], 0)
    jax.config.update(names[2], 0)
    yield folder
    for name, value in old.items():
        jax.config.update(name, value)
    cc.reset_cache()


@pytest.fixture
def x64():
    """float64 for the finite-difference checks, switched back so other tests see the default."""
    import jax

    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


# The files that take longest, longest first. With `--dist loadfile` each worker takes whole files
# in collection order, so a long file collected last would run alone at the end while the other
# worker idles; starting the long ones first lets the short ones fill in around them.
LONGEST_FIRST = (
    "test_readme.py",
    "test_report.py",
    "test_study_quick.py",
    "test_resume.py",
    "test_serve.py",
    "test_study_backprop.py",
    "test_distributed.py",
    "test_byo_dataset.py",
    "test_sharding.py",
    "test_train_cli.py",
    "test_evaluate.py",
    "test_export.py",
    "test_sweep.py",
    "test_speedrun.py",
    "test_progress.py",
    "test_conv.py",
    "test_compile_cache.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file stays in order
