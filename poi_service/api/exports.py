"""Downloads built once per data version and shared: a file cache with single-flight builds.

A download is a file in the cache directory named after the store, kind, format and the collection's
`data_version()`. Concurrent requests for one version wait on one build (an asyncio task per key in a
worker, an exclusive file lock across workers); a build runs in a thread, at most `max_builds` at once
per worker (503 with Retry-After beyond), and is shielded from client disconnects so that it finishes
once for the cache instead of being restarted by the next request. Responses stream from the file.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import logging
import multiprocessing
import os
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import anyio

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.errors import Unavailable
from poi_service.ingest.export import Format, export_records, store_file
from poi_service.ingest.importer import Kind
from poi_service.memory import release_free_memory
from poi_service.store import Store, open_store

log = logging.getLogger(__name__)
CHUNK = 256 * 1024
RETRY_AFTER_S = 10


def store_identity(store: Store) -> str:
    """A short key of the store: its URL, and for a file the inode (a recreated file is another store)."""
    ident = store.url
    path = store_file(store.url)
    if path is not None:
        try:
            st = path.stat()
            ident += f"#{st.st_dev}:{st.st_ino}"
        except OSError:
            pass
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


class ExportCache:
    """Built downloads of one store, shared by every request (and worker) asking for the same version."""

    def __init__(
        self,
        store: Store,
        vocabulary: Vocabulary,
        directory: Path,
        max_builds: int,
        settings: Settings | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.vocabulary = vocabulary
        self.directory = directory
        self.max_builds = max_builds
        self.builds = 0  # builds done by this worker (tests and logs)
        self._tasks: dict[str, asyncio.Task[Path]] = {}
        self._ident: str | None = None

    async def open(self, kind: Kind, fmt: Format, *, excel: bool = False) -> tuple[BinaryIO, int]:
        """An open handle on the current download of kind/fmt (excel: the CSV for Excel in German
        locales) and its size; builds it if needed."""
        try:
            return await self._open_current(kind, fmt, excel)
        except FileNotFoundError:  # superseded by a newer version between build and open: once more
            return await self._open_current(kind, fmt, excel)

    async def _open_current(self, kind: Kind, fmt: Format, excel: bool) -> tuple[BinaryIO, int]:
        collection = self.store.places if kind == "places" else self.store.memberships
        version = await anyio.to_thread.run_sync(collection.data_version)
        if self._ident is None:
            self._ident = await anyio.to_thread.run_sync(store_identity, self.store)
        name = f"{self._ident}-{kind}{'-excel' if excel else ''}-v{version}.{fmt}"
        task = self._tasks.get(name)
        if task is None:
            if len(self._tasks) >= self.max_builds:
                raise Unavailable(
                    f"{len(self._tasks)} downloads are being prepared; try again shortly",
                    RETRY_AFTER_S,
                    "busy",
                )
            task = asyncio.get_running_loop().create_task(self._build(name, kind, fmt, excel))
            self._tasks[name] = task
            task.add_done_callback(lambda t: self._done(name, t))
        # shield: a client leaving cancels its wait, not the one shared build.
        path = await asyncio.shield(task)
        return await anyio.to_thread.run_sync(_open, path)

    def _done(self, name: str, task: asyncio.Task[Path]) -> None:
        self._tasks.pop(name, None)
        if not task.cancelled() and task.exception() is not None:  # retrieved: the waiters report it
            log.warning("export %s failed: %s", name, task.exception())

    async def _build(self, name: str, kind: Kind, fmt: Format, excel: bool) -> Path:
        return await anyio.to_thread.run_sync(self._build_sync, name, kind, fmt, excel)

    def _build_sync(self, name: str, kind: Kind, fmt: Format, excel: bool = False) -> Path:
        """The file for name: already there, built by another worker meanwhile, or built now."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.directory / name
        if target.exists():
            return target
        with open(self.directory / f".{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker building the same file: wait for it
            if target.exists():
                return target
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".{fmt}", dir=self.directory)
            os.close(fd)
            os.unlink(tmp)  # the GeoPackage writer wants to create the file itself
            try:
                self._export(kind, fmt, Path(tmp), excel)
                os.replace(tmp, target)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                    raise Unavailable("no room to prepare the download right now", RETRY_AFTER_S) from exc
                raise
            finally:
                Path(tmp).unlink(missing_ok=True)
                release_free_memory()
            self.builds += 1
            log.info("export built: %s", name)
            self._drop_older(name)
        return target

    def _export(self, kind: Kind, fmt: Format, path: Path, excel: bool) -> None:
        """Writes the file in a child process when the store can be reopened there: its memory goes
        back to the system when it exits, and GDAL's long GIL-holding writes stall no worker (uvicorn
        kills a worker that misses its 5 s health pings). Otherwise in this thread."""
        url = self._child_url()
        if url is None or self.settings is None:
            export_records(self.store, kind, fmt, path, self.vocabulary, excel=excel)
            return
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            child.submit(_export_child, url, self.settings, kind, fmt, path, excel).result()

    def _child_url(self) -> str | None:
        return None if self.settings is None else child_url(self.store, self.settings)

    def _drop_older(self, name: str) -> None:
        """Removes superseded versions of the same download (open handles keep streaming them)."""
        prefix, _, rest = name.rpartition("-v")
        suffix = rest.partition(".")[2]
        for old in self.directory.glob(f"{prefix}-v*.{suffix}"):
            if old.name != name:
                old.unlink(missing_ok=True)
                Path(self.directory / f".{old.name}.lock").unlink(missing_ok=True)


def child_url(store: Store, settings: Settings) -> str | None:
    """The URL a child process opens this store by (the settings' one only if it is this store)."""
    path = store_file(store.url)
    if path is not None:
        return str(path)
    mine, theirs = urlsplit(store.url), urlsplit(settings.database_url)
    same = (mine.scheme, mine.hostname, mine.port, mine.username, mine.path) == (
        theirs.scheme,
        theirs.hostname,
        theirs.port,
        theirs.username,
        theirs.path,
    )  # the store's URL has its password redacted
    return settings.database_url if same else None


def _export_child(url: str, settings: Settings, kind: Kind, fmt: Format, path: Path, excel: bool) -> None:
    """The export in a child process, over its own connection to the store."""
    store = open_store(url, settings.data_dir)
    try:
        export_records(store, kind, fmt, path, Vocabulary.from_settings(settings), excel=excel)
    finally:
        store.close()


def _open(path: Path) -> tuple[BinaryIO, int]:
    handle = open(path, "rb")  # noqa: SIM115 - closed by stream()
    return handle, os.fstat(handle.fileno()).st_size


async def stream(handle: BinaryIO) -> AsyncIterator[bytes]:
    """The file's bytes in chunks read off the event loop; closes it at the end or on disconnect."""
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()
