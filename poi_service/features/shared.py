"""Rendered place features of the embedded store, one file per data version, shared by every worker.

A random nearby query at 1M places almost never meets a feature a worker has rendered before, so each
answer read 10 records from SQLite, decoded and rendered them: about half of the request's CPU time
(bench/http_random.py). Here the features of every live place are rendered once per data version, by
the plain path's own code (FeatureCache.head), into a file next to the store's snapshots
(features/shared_file.py; built by a child at nice 19, features/shared_build.py, reusing the heads of
unchanged records from the previous version); a request whose filter the point index answers alone
(store/key_reads.py) takes its page's keys from the index and slices the features out of the mapped
file. Until the file of the current version exists requests take the plain path; their bytes are the
same either way (tests/api/test_shared_features.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from poi_service import __version__
from poi_service.categories import Vocabulary
from poi_service.child import once_in_child
from poi_service.config import Settings
from poi_service.features import cache, geojson
from poi_service.features.cache import finish
from poi_service.features.shared_build import build_in_child, file_name
from poi_service.features.shared_file import Mapped, open_mapped
from poi_service.models import Point
from poi_service.store.base import Near, PlaceFilter
from poi_service.store.keyed import KeyedReads, KeyPage

log = logging.getLogger(__name__)

MIN_ROWS = 20_000  # smaller stores: the plain path and the per-worker cache are enough
NUDGE_S = 0.25
# Not the lowest priority: under full load a nice-19 build got no CPU for tens of seconds while every
# request took the plain path, twice the CPU per request; the build after an edit takes ~2 s at 1M.
FEATURES_NICE = 0


def fingerprint(vocabulary: Vocabulary) -> str:
    """What the rendered bytes depend on besides the records: the labels and the rendering code."""
    digest = hashlib.sha256(__version__.encode())
    for module in (geojson, cache):
        digest.update(Path(str(module.__file__)).read_bytes())
    digest.update(repr(vocabulary.categories).encode())
    return digest.hexdigest()[:16]


class Busy:
    """The answer of a call that would have had to wait (SharedFeatures.near/nearest)."""


BUSY = Busy()


class SharedFeatures:
    """One worker's view of the rendered-features files of one store directory."""

    def __init__(
        self,
        reads: KeyedReads,
        directory: Path,
        vocabulary: Vocabulary,
        ident: str,
        build: Callable[[int, str], None],
    ) -> None:
        self.reads = reads
        self.directory = directory
        self.print = fingerprint(vocabulary)
        self.ident = ident  # the store file's identity: a file made for another store is never used
        self._build = build  # build(version, fingerprint): makes the file (in a child)
        self._mapped: tuple[int, Mapped] | None = None
        self._asked: set[int] = set()
        self._lock = threading.Lock()
        self._nudged = 0.0

    def near(
        self, near: Near, flt: PlaceFilter, offset: int, limit: int, wait: bool = False
    ) -> tuple[int, list[bytes]] | Busy | None:
        """(total, features) of a nearby page; None: the plain path answers; BUSY (without wait): the
        index could not be checked without waiting, ask again with wait=True from a worker thread."""
        page = self.reads.near_keys(near, flt, offset, limit, wait)
        if page is None:
            return self._why_not(flt, wait)
        features = self.features(page)
        return None if features is None else (page.total, features)

    def nearest(
        self, point: Point, k: int, flt: PlaceFilter, wait: bool = False
    ) -> list[bytes] | Busy | None:
        """The features of the k nearest places; None and BUSY as for near()."""
        page = self.reads.nearest_keys(point, k, flt, wait)
        if page is None:
            return self._why_not(flt, wait)
        return self.features(page)

    def _why_not(self, flt: PlaceFilter, waited: bool) -> Busy | None:
        if waited or not self.reads.index_only(flt):
            return None
        self._early(flt)
        return BUSY

    def _early(self, flt: PlaceFilter) -> None:
        """The index cannot answer now (a change is being taken in, maybe an index build of seconds):
        have the new version's file built meanwhile, not only once the index is rebuilt. Checked in a
        thread, at most every NUDGE_S: the version is read on a connection that may be busy."""
        now = time.monotonic()
        if now - self._nudged < NUDGE_S or not self.reads.index_only(flt):
            return
        self._nudged = now
        threading.Thread(target=self._nudge, name="poi-features-nudge", daemon=True).start()

    def _nudge(self) -> None:
        try:
            version = self.reads.latest_version()
            current = self._mapped
            if current is None or current[0] != version:
                self._map(version)
        except Exception:  # the next request's own path tells
            log.debug("features nudge failed", exc_info=True)

    def prepare(self) -> None:
        """Maps the file of the current data version, or has it built (in the background)."""
        self._map(self.reads.data_version())

    def features(self, page: KeyPage) -> list[bytes] | None:
        """The page's features (with distance_m), or None while the file of its version is missing."""
        current = self._mapped
        mapped = current[1] if current is not None and current[0] == page.version else self._map(page.version)
        if mapped is None:
            return None
        if page.fids and max(page.fids) + 1 >= len(mapped.offsets):  # never so at one version
            return None
        head = mapped.head
        return [
            finish(head(fid), distance) for fid, distance in zip(page.fids, page.distances_m, strict=True)
        ]

    def _map(self, version: int) -> Mapped | None:
        mapped = current(self.directory / file_name(version, self.print), version, self.print, self.ident)
        if mapped is None:
            self._ask(version)
            return None
        self._mapped = (version, mapped)
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


def current(path: Path, version: int, print_: str, ident: str) -> Mapped | None:
    """The file at path mapped if it was made for this version, fingerprint and store file."""
    mapped = open_mapped(path)
    if mapped is None:
        return None
    header = mapped.header
    return (
        mapped
        if (header.get("version"), header.get("print"), header.get("ident")) == (version, print_, ident)
        else None
    )


def starter(
    url: str, settings: Settings, directory: Path, ident: str, count: Callable[[], int], min_rows: int
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
                lambda: current(path, version, print_, ident) is not None,
                build_in_child,
                url,
                settings,
                directory,
                version,
                print_,
                ident,
                min_rows,
                nice=FEATURES_NICE,
            )
        except Exception:  # requests keep taking the plain path
            log.warning("could not build the rendered features", exc_info=True)

    return build


def shared_features(settings: Settings, store: Any, vocabulary: Vocabulary) -> SharedFeatures | None:
    """Rendered features for a store that answers keyed reads (the embedded one), else None."""
    directory, places = getattr(store, "snapshots", None), store.places
    if directory is None or not hasattr(places, "near_keys"):
        return None
    stat = store.path.stat()
    ident = f"{store.store_id}:{stat.st_dev}:{stat.st_ino}"
    build = starter(str(store.path), settings, directory, ident, places.count, MIN_ROWS)
    return SharedFeatures(places, directory, vocabulary, ident, build)
