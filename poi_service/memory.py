"""Giving memory back to the operating system after large one-off loads.

Parsing the shipped boundaries and gazetteer (and the world cities, and building the map payload)
allocates far more on the C heap than what is kept: the JSON text, intermediate lists, GEOS
temporaries. glibc keeps such freed memory in its arenas, so a worker's RSS stays at the peak.
`malloc_trim(0)` returns those free pages; measured on a worker serving the shipped data: gazetteer and
boundaries loaded, +113 MB RSS before the trim and +68 MB after; a whole worker 296 -> 249 MB then
(tests/test_memory.py checks that the trim saves memory).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "malloc_trim") else None  # glibc only (not musl, not macOS)
    except OSError:
        return None


def release_free_memory() -> bool:
    """Collects garbage and returns the C heap's free pages to the OS; False where that is not possible."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def settle(freeze: bool) -> None:
    """After start-up's one-off loads: memory back to the OS, and everything alive now moved out of the
    garbage collector's way (gc.freeze). A full collection of a worker serving 1M places otherwise walks
    ~150k start-up objects (modules, gazetteer, boundaries) for 95-150 ms, stalling every request of
    that worker; after the freeze it walks only what requests keep (tests/test_memory.py). Only for
    server processes (freeze): objects frozen in a process that creates many apps (tests) stay."""
    release_free_memory()
    if freeze:
        gc.freeze()
