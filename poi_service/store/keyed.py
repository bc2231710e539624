"""Distance queries as row keys (the embedded store's KeyedReads, store/key_reads.py), for callers that
keep something per record and data version (features/shared.py: rendered features)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from poi_service.models import Place, Point
from poi_service.store.base import Near, PlaceFilter


@dataclass(frozen=True, slots=True)
class KeyPage:
    """A page of a distance query as row keys (the embedded store's fids) and distances, with the exact
    total and the data version of the snapshot that answered it (store/key_reads.py)."""

    version: int
    total: int
    fids: list[int]
    distances_m: list[float]


class KeyedReads(Protocol):
    """Distance queries answered by the embedded store's point index alone, without reading records.

    A caller that keeps something per record and data version (features/shared.py: rendered features)
    turns keys into answers itself. None means the filter needs more than the index (text, attributes,
    opening hours) or the store is inside a write: ask the Collection instead."""

    def near_keys(
        self, near: Near, filter: PlaceFilter, offset: int, limit: int, wait: bool = False
    ) -> KeyPage | None:
        """wait=False never waits (None when the index is busy or a change must be taken in first);
        wait=True waits and checks like a record query (for worker threads)."""
        ...

    def nearest_keys(
        self, point: Point, k: int, filter: PlaceFilter, wait: bool = False
    ) -> KeyPage | None: ...

    def each_keyed(self, visit: Callable[[int, Place], None], fids: Sequence[int] | None = None) -> int:
        """visit(fid, place) for every live place (or those of fids) in fid order, all from one read
        snapshot; returns that snapshot's data version."""
        ...

    def row_stamps(self) -> tuple[int, Any, Any]:
        """(data version, fids, stamps) of every live place in fid order (int64 arrays), one snapshot;
        a stamp changes whenever its record does."""
        ...

    def data_version(self) -> int: ...

    def latest_version(self) -> int:
        """The committed data version, read without waiting for an index build."""
        ...

    def index_only(self, filter: PlaceFilter) -> bool: ...
