"""Prepared map payloads (JSON, gzip, ETag) kept per app: a 100k-place payload takes seconds to read
from the store, so it is built once and refreshed in the background.

An entry is fresh while the record count is unchanged and it is younger than `ttl_s`; a changed count
rebuilds at once (new and deleted records show immediately), an old entry is served while a background
thread rebuilds it (edits show within ttl_s).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import orjson

log = logging.getLogger("poi_service.maps")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A JSON body ready to send."""

    body: bytes
    body_gz: bytes
    etag: str
    built_at: float
    token: int


def prepare(value: object, token: int) -> Prepared:
    """Serialises and compresses a payload once."""
    return prepare_bytes(orjson.dumps(value), token)


def prepare_bytes(body: bytes, token: int = 0) -> Prepared:
    """Compresses a serialised body once."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Prepared(body, gzip.compress(body, 5), etag, time.monotonic(), token)


class PayloadCache:
    """Small LRU of prepared payloads with stale-while-revalidate refreshes."""

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 16) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[Hashable, Prepared] = {}
        self._lock = threading.Lock()
        self._building: set[Hashable] = set()
        self._build_lock = threading.Lock()  # one build at a time: two cold requests share one build

    def get(self, key: Hashable, token: int, build: Callable[[], object]) -> Prepared:
        """The payload for key; `token` (e.g. the record count) must match, `build` makes the value."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = self._entries.pop(key)  # most recently used last
        if entry is None or entry.token != token:
            return self._build(key, token, build)
        if time.monotonic() - entry.built_at > self.ttl_s:
            self._refresh_later(key, token, build)
        return entry

    def _build(self, key: Hashable, token: int, build: Callable[[], object]) -> Prepared:
        since = time.monotonic()
        with self._build_lock:
            with self._lock:
                done = self._entries.get(key)
            if done is not None and done.token == token and done.built_at >= since:
                return done  # built by another request while this one waited
            prepared = prepare(build(), token)
        with self._lock:
            self._entries[key] = prepared
            while len(self._entries) > self.max_entries:
                self._entries.pop(next(iter(self._entries)))
        return prepared

    def _refresh_later(self, key: Hashable, token: int, build: Callable[[], object]) -> None:
        with self._lock:
            if key in self._building:
                return
            self._building.add(key)

        def run() -> None:
            try:
                self._build(key, token, build)
            except Exception:  # the store may be closing; the old entry stays
                log.exception("map payload refresh failed")
            finally:
                with self._lock:
                    self._building.discard(key)

        threading.Thread(target=run, name="poi-maps-refresh", daemon=True).start()

    def warm(self, key: Hashable, token: Callable[[], int], build: Callable[[], object]) -> threading.Thread:
        """Builds an entry in a background thread (at startup), so the first visitor finds it ready."""

        def run() -> None:
            try:
                self.get(key, token(), build)
            except Exception:
                log.warning("map payload warm-up failed", exc_info=True)

        thread = threading.Thread(target=run, name="poi-maps-warm", daemon=True)
        thread.start()
        return thread
