"""Verified downloads: each mirror in turn, a checksum before a file is kept, atomic renames.

Transport is pooch's ``HTTPDownloader`` (requests underneath: timeouts, redirects, streaming);
mirror order, verification of the decompressed content, and the cache layout are ours, because
pooch verifies only the bytes as served, and re-compressed copies are legitimate here.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .._errors import DataError
from .._fs import temp_beside
from ._dataset import FileRecord
from ._idx import IdxContent, read_idx_content
from ._registry import DatasetInfo, IdxFile
from ._store import (
    ENV_DATA_DIR,
    ENV_OFFLINE,
    install_file,
    magic_for,
    offline,
    read_manifest,
    record_for,
    verify,
    writable_folder,
)

DEFAULT_TIMEOUT = 30.0


class _RichBar:
    """The tqdm-like object pooch drives (``total``, ``update``, ``reset``, ``close``).

    A context manager: the bar shows while the block runs and is stopped however it ends.
    """

    def __init__(self, description: str):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,  # callers report what arrived; a finished or failed bar is clutter
        )
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def total(self):
        return self._progress.tasks[0].total

    @total.setter
    def total(self, value):
        self._progress.update(self._task, total=value or None)

    def update(self, n):
        self._progress.advance(self._task, n)

    def reset(self):
        self._progress.reset(self._task, total=self.total)

    def close(self):
        self._progress.stop()


def _reason(exc: BaseException, timeout: float) -> str:
    """A short, one-line account of why one mirror failed."""
    import requests
    import urllib3

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason or ''}".strip()
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.ConnectionError) and any(
        isinstance(arg, urllib3.exceptions.ReadTimeoutError) for arg in exc.args
    ):  # requests reports a read timeout in the middle of the body as a ConnectionError
        return f"the transfer stalled (no data within {timeout:g} s)"
    if isinstance(exc, requests.ConnectionError) and not isinstance(
        exc, requests.exceptions.ChunkedEncodingError
    ):
        return "could not connect"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.RequestException):
        return "the transfer broke off (truncated body)"
    if isinstance(exc, DataError):
        return f"rejected: {exc}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"


def download_file(
    info: DatasetInfo,
    spec: IdxFile,
    root: Path,
    *,
    mirrors: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> tuple[IdxContent, FileRecord]:
    """Fetch ``spec`` from the first mirror that serves a verified copy; store it in the cache.

    Raises :class:`DataError` naming every mirror and what went wrong with it. Nothing is left in
    the cache unless it passed verification.
    """
    import pooch

    mirrors = tuple(mirrors) if mirrors else info.mirrors
    if offline():
        raise DataError(
            f"{info.name}: {spec.filename} is not available locally and {ENV_OFFLINE}=1 forbids "
            f"downloading; {offline_fix(info)}"
        )
    folder = writable_folder(root, info)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + spec.gz_name
        bar = _RichBar(f"{info.name}/{spec.gz_name}") if progress else contextlib.nullcontext(False)
        with temp_beside(folder / spec.gz_name) as tmp, bar as progressbar:
            try:
                downloader = pooch.HTTPDownloader(
                    progressbar=progressbar, timeout=timeout, headers={"User-Agent": "mnistlab"}
                )
                downloader(url, str(tmp), None)
                content = read_idx_content(tmp, expect_magic=magic_for(spec))
                verified_by = verify(content, spec, info, url, strict=True)
                # A server may serve the content uncompressed (or gzip-encoded, which requests undoes).
                name = spec.gz_name if content.compressed else spec.filename
                dest = install_file(tmp, folder, name, spec, content, verified_by, url)
                return content, record_for(dest, content, verified_by, read_manifest(folder))
            except Exception as exc:  # every failure of one mirror is a reason to try the next
                if isinstance(exc, DataError):
                    exc = DataError(str(exc).replace(str(tmp), url).removeprefix(f"{url}: "))
                failures.append(f"{url}: {_reason(exc, timeout)}")
                if progress and len(failures) < len(mirrors):
                    sys.stderr.write(f"{failures[-1]}; trying the next mirror\n")
    raise DataError(
        f"could not download {info.name}/{spec.gz_name} from any mirror: "
        + "; ".join(failures)
        + f". {offline_fix(info)}"
    )


def offline_fix(info: DatasetInfo) -> str:
    return (
        f"Offline? Put the IDX files in a folder and run `mnistlab data import DIR --name "
        f"{info.name}`, or point --data-dir (or {ENV_DATA_DIR}) at a folder holding "
        f"{info.name}/<file>.gz"
    )
