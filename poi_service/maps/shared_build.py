"""The unfiltered places payload built once for all workers, in a child process at the lowest CPU priority.

Every worker of `serve` used to build it on start in a thread of its own: at 1M places ~40 s of CPU
and ~900 MB each, holding the GIL against the worker's requests (bench/http_random.py: p99 1.6 s in
the first minute). Now the first worker to need it takes a lock file, a spawned child at nice 19 builds
it and keeps it in the store (maps/persist.py), and every worker takes the kept payload: the child only
gets the CPU time the workers leave idle, and its memory goes back to the system when it exits.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from poi_service.categories import Vocabulary
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
    """Builds and keeps the payload unless `kept()` says it is there (checked again under the lock, as
    another worker may have built it meanwhile); True when it is kept now."""
    with open(lock_path(identity), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if kept():
            return True
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            child.submit(_build_child, url, settings).result()
        return kept()


def _build_child(url: str, settings: Settings) -> None:
    os.nice(19)  # only what the workers leave idle
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
