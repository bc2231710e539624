"""Rendered place features of the embedded store, one file per data version, shared by every worker.

A random nearby query at 1M places almost never meets a feature a worker has rendered before, so each
answer read 10 records from SQLite, decoded and rendered them: about half of the request's CPU time
(bench/http_random.py). Here the features of every live place are rendered once per data version, by
the plain path's own code (FeatureCache.head), into a file next to the store's snapshots; a request
whose filter the point index answers alone (store/key_reads.py) takes its page's keys from the index
and slices the features out of the mapped file. Until the file of the current version exists (a
child at nice 19 builds it: poi_service/child.py) requests take the plain path; their bytes are the
same either way (tests/api/test_shared_features.py).

Layout: MAGIC, header length, JSON header (version, fingerprint, where the offsets are) within the
first HEADER_BYTES; the blob from HEADER_BYTES; then the offsets (int64, max fid + 2: the feature of
fid f is blob[offsets[f]:offsets[f + 1]], empty for no live record).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from poi_service import __version__
from poi_service.categories import Vocabulary
from poi_service.child import once_in_child
from poi_service.config import Settings
from poi_service.features import cache, geojson
from poi_service.features.cache import FeatureCache, finish
from poi_service.models import Point
from poi_service.store import open_store
from poi_service.store.base import KeyedReads, KeyPage, Near, PlaceFilter

log = logging.getLogger(__name__)

MAGIC = b"POIFEAT1"
ALIGN = 64
HEADER_BYTES = 4096
MIN_ROWS = 20_000  # smaller stores: the plain path and the per-worker cache are enough


def fingerprint(vocabulary: Vocabulary) -> str:
    """What the rendered bytes depend on besides the records: the labels and the rendering code."""
    digest = hashlib.sha256(__version__.encode())
    for module in (geojson, cache):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(repr(vocabulary.categories).encode())
    return digest.hexdigest()[:16]


def file_name(version: int, print_: str) -> str:
    return f"features-{version}-{print_}.bin"


class SharedFeatures:
    """One worker's view of the rendered-features files of one store directory."""

    def __init__(
        self,
        reads: KeyedReads,
        directory: Path,
        vocabulary: Vocabulary,
        build: Callable[[int, str], None],
    ) -> None:
        self.reads = reads
        self.directory = directory
        self.print = fingerprint(vocabulary)
        self._build = build  # build(version, fingerprint): makes the file (in a child)
        self._mapped: tuple[int, memoryview, mmap.mmap] | None = None
        self._asked: set[int] = set()
        self._lock = threading.Lock()

    def near(self, near: Near, flt: PlaceFilter, offset: int, limit: int) -> tuple[int, list[bytes]] | None:
        """(total, features) of a nearby page, or None: the plain path answers then."""
        page = self.reads.near_keys(near, flt, offset, limit)
        features = None if page is None else self.features(page)
        return None if page is None or features is None else (page.total, features)

    def nearest(self, point: Point, k: int, flt: PlaceFilter) -> list[bytes] | None:
        """The features of the k nearest places, or None: the plain path answers then."""
        page = self.reads.nearest_keys(point, k, flt)
        return None if page is None else self.features(page)

    def prepare(self) -> None:
        """Maps the file of the current data version, or has it built (in the background)."""
        self._map(self.reads.data_version())

    def ready(self) -> bool:
        """Always: the calls above never wait (they answer None when the index needs a check or a build)."""
        return True

    def features(self, page: KeyPage) -> list[bytes] | None:
        """The page's features (with distance_m), or None while the file of its version is missing."""
        mapped = self._mapped
        if mapped is None or mapped[0] != page.version:
            mapped = self._map(page.version)
            if mapped is None:
                return None
        _, offsets, mm = mapped
        if page.fids and max(page.fids) + 1 >= len(offsets):  # not this file's rows: never so at one version
            return None
        out = []
        for fid, distance in zip(page.fids, page.distances_m, strict=True):
            out.append(finish(mm[HEADER_BYTES + offsets[fid] : HEADER_BYTES + offsets[fid + 1]], distance))
        return out

    def _map(self, version: int) -> tuple[int, memoryview, mmap.mmap] | None:
        path = self.directory / file_name(version, self.print)
        try:
            with open(path, "rb") as handle:
                mm = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            self._ask(version)
            return None
        try:
            if mm[: len(MAGIC)] != MAGIC:
                raise ValueError("not a features file")
            size = int.from_bytes(mm[len(MAGIC) : len(MAGIC) + 8], "little")
            header = json.loads(mm[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
            if header["version"] != version or header["print"] != self.print:
                raise ValueError("foreign file")
            at, count = int(header["offsets_at"]), int(header["offsets"])
            if at + 8 * count > len(mm):
                raise ValueError("truncated")
            offsets = memoryview(mm)[at : at + 8 * count].cast("q")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring rendered features %s: %s", path, exc)
            return None
        mapped = (version, offsets, mm)
        self._mapped = mapped
        return mapped

    def _ask(self, version: int) -> None:
        """Starts the build of this version's file once per worker (the child lock makes it once in all)."""
        with self._lock:
            if version in self._asked:
                return
            self._asked.add(version)
        threading.Thread(
            target=self._build, args=(version, self.print), name="poi-features-build", daemon=True
        ).start()


def build_in_child(
    url: str, settings: Settings, directory: Path, version: int, print_: str, min_rows: int
) -> None:
    """Renders every live place of the store at `url` into directory (the child's work)."""
    store = open_store(url, settings.data_dir)
    try:
        places: Any = store.places
        if places.count() < min_rows:
            return
        path = directory / file_name(version, print_)
        directory.mkdir(exist_ok=True)
        with Writer(path, version, print_) as writer:
            render = FeatureCache(Vocabulary.from_settings(settings)).head
            seen = places.each_keyed(lambda fid, place: writer.add(fid, render(place)))
            if seen != version:  # the data moved on: whoever needs the new version asks for it
                writer.abandon()
    finally:
        store.close()


class Writer:
    """Writes a features file as the records come (fids ascending): the blob from HEADER_BYTES, then the
    offsets, then the header; renamed into place when complete, other versions removed."""

    def __init__(self, path: Path, version: int, print_: str) -> None:
        self.path, self.version, self.print = path, version, print_
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._out = open(self._tmp, "wb")  # noqa: SIM115 (closed in __exit__)
        self._out.seek(HEADER_BYTES)
        self._ends: list[int] = [0]  # _ends[f + 1]: blob end after fid f
        self._size = 0
        self._keep = True

    def add(self, fid: int, head: bytes) -> None:
        ends = self._ends
        if fid + 1 < len(ends):
            raise ValueError("fids must ascend")
        ends.extend([self._size] * (fid + 1 - len(ends)))  # fids without a live record: empty
        self._out.write(head)
        self._size += len(head)
        ends.append(self._size)

    def abandon(self) -> None:
        self._keep = False

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        out = self._out
        try:
            if self._keep and exc[0] is None:
                ends = np.array([*self._ends, self._size], np.int64)  # one past the last fid too
                at = _aligned(HEADER_BYTES + self._size)
                out.seek(at)
                out.write(ends.data)
                header = json.dumps(
                    {"version": self.version, "print": self.print, "offsets_at": at, "offsets": len(ends)}
                ).encode()
                if len(MAGIC) + 8 + len(header) > HEADER_BYTES:
                    raise ValueError("header too long")
                out.seek(0)
                out.write(MAGIC + len(header).to_bytes(8, "little") + header)
                out.close()
                os.replace(self._tmp, self.path)
                for old in self.path.parent.glob("features-*.bin"):
                    if old != self.path:
                        old.unlink(missing_ok=True)
        finally:
            out.close()
            self._tmp.unlink(missing_ok=True)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def starter(
    url: str, settings: Settings, directory: Path, count: Callable[[], int], min_rows: int
) -> Callable[[int, str], None]:
    """build(version, fingerprint) for SharedFeatures: the file made once for all workers, in a child,
    when the store holds at least min_rows records (count())."""

    def build(version: int, print_: str) -> None:
        path = directory / file_name(version, print_)
        try:
            if count() < min_rows:
                return
            directory.mkdir(exist_ok=True)
            once_in_child(
                directory / "features.lock",
                path.exists,
                build_in_child,
                url,
                settings,
                directory,
                version,
                print_,
                min_rows,
            )
        except Exception:  # requests keep taking the plain path
            log.warning("could not build the rendered features", exc_info=True)

    return build


def shared_features(settings: Settings, store: Any, vocabulary: Vocabulary) -> SharedFeatures | None:
    """Rendered features for a store that answers keyed reads (the embedded one), else None."""
    directory, places = getattr(store, "snapshots", None), store.places
    if directory is None or not hasattr(places, "near_keys"):
        return None
    return SharedFeatures(
        places, directory, vocabulary, starter(str(store.path), settings, directory, places.count, MIN_ROWS)
    )
