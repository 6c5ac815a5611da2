"""Atomic writes: all or nothing, with ordinary file permissions."""

from __future__ import annotations

import errno
import os

import pytest

from mnistlab._errors import ConfigError
from mnistlab._fs import atomic_write_bytes, check_writable, temp_beside


def umask_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def test_written_file_has_umask_permissions_not_mkstemp_private(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"payload")
    assert target.read_bytes() == b"payload"
    assert target.stat().st_mode & 0o777 == umask_mode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"new content that never lands")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_temp_beside_cleans_up_on_interrupt(tmp_path):
    seen = []

    def interrupted_write():
        with temp_beside(tmp_path / "x.png", suffix=".png") as tmp:
            seen.append(tmp)
            tmp.write_bytes(b"partial")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_write()
    assert seen[0].parent == tmp_path
    assert seen[0].suffix == ".png"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "folder", "says"),
    [
        ("/proc/mnistlab-x", True, "cannot be written"),
        ("/etc/hostname/run", True, "is a file, not a folder"),
        ("/proc/x.png", False, "cannot be written"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(path, folder, says):
    with pytest.raises(ConfigError, match=says) as e:
        check_writable(path, what="--out", folder=folder)
    assert str(e.value).startswith(f"--out {path} ")


def test_a_writable_output_path_is_accepted_and_nothing_is_left_behind(tmp_path):
    assert check_writable(tmp_path / "a" / "b", what="--out") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        check_writable(tmp_path, what="--figures", folder=False)


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.ENOSPC, "No space left on device"), (errno.EDQUOT, "Disk quota exceeded")]
)
def test_a_full_disk_is_a_one_line_error_naming_the_file_and_keeps_the_old_one(
    tmp_path, monkeypatch, code, reason
):
    from mnistlab import _fs
    from mnistlab._errors import DataError, NoSpaceError

    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")

    def full(path, payload):
        raise OSError(code, reason)

    monkeypatch.setattr(_fs, "_write_file", full)
    with pytest.raises(NoSpaceError) as caught:
        atomic_write_bytes(target, b"new")
    assert str(caught.value) == (
        f"no space left on device while writing {target} ({reason}); free space and run the command again"
    )
    assert isinstance(caught.value, DataError)  # exit 1 on the command line
    assert caught.value.errno == code  # still the operating system's error for code that catches it
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
