"""The unfiltered places payload built once for all workers (poi_service/child.py) and kept in the store
(maps/persist.py), where every worker takes it. Each worker used to build it on start in a thread of its
own: at 1M places ~40 s of CPU and ~900 MB each, holding the GIL against its requests (p99 1.6 s in the
first minute of random nearby queries)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.child import once_in_child
from poi_service.config import Settings
from poi_service.maps import persist
from poi_service.maps.cache import prepare
from poi_service.maps.data import places_payload, select_places
from poi_service.memory import release_free_memory
from poi_service.store import PlaceFilter, open_store

log = logging.getLogger("poi_service.maps")


def lock_path(identity: str) -> Path:
    """The lock file of one store's payload builds (identity: a stable key of the store)."""
    name = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"poi-maps-{name}.lock"


def build_once(url: str, settings: Settings, identity: str, kept: Callable[[], bool]) -> bool:
    """Builds and keeps the payload unless `kept()` says it is there; True when it is kept now."""
    return once_in_child(lock_path(identity), kept, _build_child, url, settings)


def _build_child(url: str, settings: Settings) -> None:
    store = open_store(url, settings.data_dir)
    try:
        token = store.places.data_version()
        payload = places_payload(select_places(store, PlaceFilter()), Vocabulary.from_settings(settings))
        prepared = prepare(payload, token)
        del payload
        release_free_memory()
        persist.save(store, persist.places_key(), prepared)
        log.info("map payload built in a child process (token %s)", token)
    finally:
        store.close()
