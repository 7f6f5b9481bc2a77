"""Checked downloads of declared datasets: pooch's HTTP downloader, a rich progress bar, sha256, one-line errors."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pooch
import requests
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from geo.errors import SourceError

if TYPE_CHECKING:
    from geo.sources import Dataset

#: Test-only: an http://host:port base that replaces the scheme and host of every upstream address, so a test
#: can serve the mirror's files on loopback at their upstream paths. Never set it for real use.
TEST_UPSTREAM = "TERRITOIRES_TEST_UPSTREAM"
TIMEOUT_S = 60


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upstream_url(url: str) -> str:
    """The address a dataset is downloaded from: its declared one, unless the test-only override is set."""
    base = os.environ.get(TEST_UPSTREAM)
    if not base:
        return url
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


class RichBar:
    """The progress object pooch's downloader drives (``total``, ``update``, ``reset``, ``close``), drawn by rich on stderr.

    It appears once the server has answered (pooch sets ``total``), so a refused connection shows no empty bar.
    """

    def __init__(self, label: str):
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                  console=Console(stderr=True), transient=False)
        self._task = self._progress.add_task(label, total=None)

    @property
    def total(self) -> float | None:
        return self._progress.tasks[0].total

    @total.setter
    def total(self, value: int) -> None:
        self._progress.update(self._task, total=value or None)  # 0: the server sent no Content-Length
        self._progress.start()

    def update(self, n: int) -> None:
        self._progress.advance(self._task, n)

    def reset(self) -> None:
        self._progress.reset(self._task, total=self.total)

    def close(self) -> None:
        if self._progress.live.is_started:  # a bar that never appeared leaves no line
            self._progress.stop()


def download(dataset: Dataset, target_dir: Path, progress: bool = False) -> Path:
    """The dataset's file in ``target_dir``, downloaded first unless a copy with the declared sha256 is there.

    The bytes go to a temporary file that is checked, then renamed into place: a failed or corrupt download
    leaves nothing behind. Every failure is one SourceError naming the dataset, the address and the fix.
    """
    url = upstream_url(dataset.url or "")
    final = target_dir / dataset.file.replace("/", "__")
    if final.is_file() and sha256_of(final) == dataset.sha256:
        return final
    target_dir.mkdir(parents=True, exist_ok=True)
    part = final.with_name(f".{final.name}.{os.getpid()}.part")
    mirror_fix = f"or set TERRITOIRES_MIRROR to a mirror directory holding {dataset.file}"
    bar = RichBar(dataset.id) if progress else None
    try:
        pooch.HTTPDownloader(progressbar=bar or False, timeout=TIMEOUT_S)(url, str(part), None)
        actual = sha256_of(part)
        if actual != dataset.sha256:
            raise SourceError(f"dataset {dataset.id}: the file downloaded from {url} has sha256 {actual}, not the declared "
                              f"{dataset.sha256}; it was not kept. Fix: run the command again (the transfer may have been "
                              f"corrupted); if the upstream file changed, check it and declare its sha256 in "
                              f"boundaries/sources.yaml, {mirror_fix}.")
        os.replace(part, final)
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        reason = exc.response.reason if exc.response is not None else ""
        fix = ("the file is no longer at this address: declare its new url (and sha256) in boundaries/sources.yaml"
               if status in (404, 410) else "try again later")
        raise SourceError(f"dataset {dataset.id}: {url} answered HTTP {status} {reason}. Fix: {fix}, {mirror_fix}.") from exc
    except requests.RequestException as exc:
        raise SourceError(f"dataset {dataset.id}: cannot download {url} ({type(exc).__name__}). Fix: check the network "
                          f"(and HTTPS_PROXY behind a proxy), {mirror_fix}.") from exc
    except OSError as exc:
        raise SourceError(f"dataset {dataset.id}: cannot write the download of {url} into {target_dir} ({exc.strerror or exc}). "
                          f"Fix: free disk space or set TERRITOIRES_CACHE to a writable directory, {mirror_fix}.") from exc
    finally:
        if bar is not None:
            bar.close()
        part.unlink(missing_ok=True)
    return final
