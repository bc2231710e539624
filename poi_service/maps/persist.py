"""The resident map's default payload kept in the store between restarts.

Reading every place back from the store takes seconds at 100k places (about 40 µs a record, mostly
building the full models), so a restarted server would make its first visitor wait for that. Instead
the last build is kept in the store's key-value cache (the `cache_get`/`cache_put` pair of the store
protocol, so it works on every backend and travels with the data it was derived from) and served at
once when it was built at the store's current `data_version()` (so any write since, even one made while
the server was down, makes it stale). It counts as built when it is taken: the TTL refresh that reads
the store comes ttl_s later, not while the first visitors' browsers are busy rendering.
"""

from __future__ import annotations

import base64
import logging
import time
import zlib
from typing import Protocol

import orjson

from poi_service.maps import assets
from poi_service.maps.cache import Keeper, PayloadCache, Prepared

log = logging.getLogger("poi_service.maps")
PLACES_KEY = ("places", (), None, None)  # the unfiltered resident map: (kind, categories, text, near)
PROVIDER = "poi-maps"
FORMAT = "3"


def places_key() -> str:
    """The key of the unfiltered places payload: by script version, so a payload kept by an older release
    is never fed to newer scripts."""
    return "places:" + assets.packages()["poi-maps"].version


class KeyValue(Protocol):
    """The part of the store this module uses."""

    def cache_get(self, provider: str, key: str) -> str | None: ...

    def cache_put(self, provider: str, key: str, value: str) -> None: ...


def dump(prepared: Prepared) -> str:
    """One text value: format, token, ETag, the hours rows (JSON) and the gzipped body in base64."""
    hours = orjson.dumps(prepared.hours).decode()
    return f"{FORMAT}\n{prepared.token}\n{prepared.etag}\n{hours}\n" + base64.b64encode(
        prepared.body_gz
    ).decode("ascii")


def parse(value: str, token: int) -> Prepared | None:
    """The kept payload if it was built for this token. The body is checked (gzip's CRC) but not kept
    decompressed: at 1M places it is ~45 MB, and its ETag is kept beside it."""
    try:
        fmt, kept_token, etag, hours_json, body64 = value.split("\n", 4)
        if fmt != FORMAT or int(kept_token) != token or not etag.startswith('"'):
            return None
        body_gz = base64.b64decode(body64, validate=True)
        if not _gzip_ok(body_gz):
            return None
        raw = orjson.loads(hours_json)
        hours = (
            None
            if raw is None
            else (int(raw[0]), tuple((int(i), str(t), float(y), float(x)) for i, t, y, x in raw[1]))
        )
    except (ValueError, TypeError, IndexError, orjson.JSONDecodeError):
        return None
    return Prepared(body_gz, etag, time.monotonic(), token, hours)


def _gzip_ok(body_gz: bytes, chunk: int = 1 << 20) -> bool:
    """The gzip stream is complete and its CRC matches (decompressed piece by piece, output dropped)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for start in range(0, len(body_gz), chunk):
            inflate.decompress(body_gz[start : start + chunk], 1 << 16)
            while inflate.unconsumed_tail:
                inflate.decompress(inflate.unconsumed_tail, 1 << 16)
        inflate.flush()
    except zlib.error:
        return False
    return inflate.eof and not inflate.unused_data


def load(store: KeyValue, key: str, token: int) -> Prepared | None:
    """The payload kept under key for this token, or None."""
    value = store.cache_get(PROVIDER, key)
    return None if value is None else parse(value, token)


def save(store: KeyValue, key: str, prepared: Prepared) -> None:
    """Keeps a payload; failures (a read-only database, a closing store) only cost the next restart."""
    try:
        store.cache_put(PROVIDER, key, dump(prepared))
    except Exception:
        log.warning("could not keep the map payload in the store", exc_info=True)


def payload_cache(store: KeyValue) -> PayloadCache:
    """The map payload cache of one app, keeping the unfiltered places payload in `store`."""
    cache = PayloadCache()
    key = places_key()
    cache.keep(PLACES_KEY, Keeper(lambda token: load(store, key, token), lambda p: save(store, key, p)))
    return cache
