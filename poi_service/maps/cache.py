"""Prepared map payloads (JSON, gzip, ETag) kept per app: a 100k-place payload takes seconds to read
from the store, so it is built once and refreshed in the background (and, for the default payload,
kept in the store between restarts: maps/persist.py).

An entry is fresh while its token, the collection's `data_version()` (which moves with every committed
write, from any worker or host), is unchanged: a changed token rebuilds at once, so every edit shows on
the next request. Entries older than `ttl_s` are also rebuilt in the background (a safety net).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
import threading
import time
import zlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

import orjson

log = logging.getLogger("poi_service.maps")
Hours = tuple[int, tuple[tuple[int, str, float, float], ...]]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A JSON body ready to send, kept gzipped only: at 1M places the plain body is ~45 MB per worker,
    and nearly every client accepts gzip (the others get it decompressed per request)."""

    body_gz: bytes
    etag: str
    built_at: float
    token: int
    # A places payload's row count and (row, opening_hours, lat, lon) of its rows with hours, taken when
    # it was built: the open state (maps/open_state.py) need not parse the whole body (~45 MB at 1M
    # places, ~0.5 s of GIL and millions of objects for the garbage collector).
    hours: Hours | None = None

    @property
    def body(self) -> bytes:
        """The plain JSON body."""
        return gzip.decompress(self.body_gz)


def gunzip_chunks(body_gz: bytes, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The plain body of a gzipped one, piece by piece."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for start in range(0, len(body_gz), chunk):
        if out := inflate.decompress(body_gz[start : start + chunk]):
            yield out
    if tail := inflate.flush():
        yield tail


def prepare(value: object, token: int) -> Prepared:
    """Serialises and compresses a payload once."""
    prepared = prepare_bytes(orjson.dumps(value), token)
    if isinstance(value, dict) and "oh" in value and "n" in value:
        lon, lat = value["lon"], value["lat"]
        rows = tuple((int(i), str(text), float(lat[i]), float(lon[i])) for i, text in value["oh"])
        prepared = dataclasses.replace(prepared, hours=(int(value["n"]), rows))
    return prepared


def etag_of(body: bytes) -> str:
    """A strong ETag from the body's content."""
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def prepare_bytes(body: bytes, token: int = 0) -> Prepared:
    """Compresses a serialised body once."""
    return Prepared(gzip.compress(body, 5), etag_of(body), time.monotonic(), token)


@dataclass(frozen=True, slots=True)
class Keeper:
    """Where a payload is kept between restarts: load(token) gives the kept one or None, save keeps one."""

    load: Callable[[int], Prepared | None]
    save: Callable[[Prepared], None]


class PayloadCache:
    """Small LRU of prepared payloads with stale-while-revalidate refreshes."""

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 16) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[Hashable, Prepared] = {}
        self._lock = threading.Lock()
        self._building: set[Hashable] = set()
        self._build_lock = threading.Lock()  # one build at a time: two cold requests share one build
        self._keepers: dict[Hashable, Keeper] = {}

    def keep(self, key: Hashable, keeper: Keeper) -> None:
        """A process without an entry for key starts from the kept payload; changed builds are saved."""
        self._keepers[key] = keeper

    def restore(self, key: Hashable, token: int) -> bool:
        """Takes the kept payload for key and token if there is no entry yet (no build); True if there is one."""
        keeper = self._keepers.get(key)
        with self._build_lock:
            with self._lock:
                if key in self._entries:
                    return True
            kept = keeper.load(token) if keeper is not None else None
            if kept is not None:
                self._put(key, kept)
        return kept is not None

    def get(self, key: Hashable, token: int, build: Callable[[], object]) -> Prepared:
        """The payload for key; `token` (the collection's data_version) must match, `build` makes the value."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = self._entries.pop(key)  # most recently used last
        if entry is None or entry.token != token:
            return self._build(key, token, build, entry)
        if time.monotonic() - entry.built_at > self.ttl_s:
            self._refresh_later(key, token, build, entry)
        return entry

    def _build(
        self, key: Hashable, token: int, build: Callable[[], object], seen: Prepared | None
    ) -> Prepared:
        keeper = self._keepers.get(key)
        with self._build_lock:
            with self._lock:
                old = self._entries.get(key)
            if old is not seen and old is not None and old.token == token:
                return old  # made by another request while this one waited
            # a kept payload only stands in for a first build: a refresh must read the store
            kept = keeper.load(token) if keeper is not None and old is None else None
            prepared = kept or prepare(build(), token)
        self._put(key, prepared)
        if keeper is not None and kept is None and (old is None or old.etag != prepared.etag):
            threading.Thread(target=keeper.save, args=(prepared,), name="poi-maps-keep", daemon=True).start()
        return prepared

    def _put(self, key: Hashable, prepared: Prepared) -> None:
        with self._lock:
            self._entries[key] = prepared
            while len(self._entries) > self.max_entries:
                self._entries.pop(next(iter(self._entries)))

    def _refresh_later(self, key: Hashable, token: int, build: Callable[[], object], seen: Prepared) -> None:
        with self._lock:
            if key in self._building:
                return
            self._building.add(key)

        def run() -> None:
            try:
                self._build(key, token, build, seen)
            except Exception:  # the store may be closing; the old entry stays
                log.exception("map payload refresh failed")
            finally:
                with self._lock:
                    self._building.discard(key)

        threading.Thread(target=run, name="poi-maps-refresh", daemon=True).start()
