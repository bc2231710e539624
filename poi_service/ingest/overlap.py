"""A large places import writes the rows checked so far while it checks the next ones.

Still one transaction, so still all or nothing: the writer thread holds it open, takes the checked rows
chunk by chunk, and rolls everything back when a later row fails (the refusal names the same rows, in
the same order, as when nothing was written before checking). The store's drivers leave the GIL while
a statement runs (SQLite's R*Tree, full-text and history work), so checking and writing share the two
cores of a small machine instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.geocode.addresses import AddressGeocoder
from poi_service.geocode.base import Geocoder
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.ingest.build import Progress, RawRow, place_chunks
from poi_service.models import PlaceData
from poi_service.store import ImportPlan, Store

CHUNK = 50_000  # rows checked per hand-over to the writer
MIN_ROWS = 2 * CHUNK  # fewer: nothing worth overlapping


class _Abort(Exception):
    """Raised inside the writer's transaction to roll it back."""


_DONE = object()
_ABORT = object()


def can_overlap(rows: Sequence[RawRow], geocoder: Geocoder) -> bool:
    """Large enough, and a geocoder that never writes to the store (an online one caches its answers
    there, which would wait for the writer's transaction while the writer waits for rows)."""
    return len(rows) >= MIN_ROWS and isinstance(geocoder, OfflineGeocoder | AddressGeocoder)


def import_places(
    store: Store,
    rows: Sequence[RawRow],
    geocoder: Geocoder,
    vocabulary: Vocabulary,
    data_dir: Path,
    *,
    at: datetime,
    what: str,
    progress: Progress,
    actor: str | None,
) -> tuple[list[PlaceData], ImportPlan]:
    """Checks and writes the rows (as build_places, then write_places); returns them and their plan."""
    chunks: queue.Queue[object] = queue.Queue()
    failed: list[BaseException] = []
    total = len(rows)

    def checked() -> Iterator[PlaceData]:
        done = 0
        while (chunk := chunks.get()) is not _DONE:
            if chunk is _ABORT:
                raise _Abort
            assert isinstance(chunk, list)
            for data in chunk:
                yield data
                done += 1
                progress("write", done, total)

    def write() -> None:
        try:
            with store.transaction():
                store.places.add_many(checked(), actor=actor)
        except _Abort:
            pass
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    writer = threading.Thread(target=write, name="import-writer", daemon=True)
    writer.start()
    places: list[PlaceData] = []
    plans: list[ImportPlan] = []
    try:
        for chunk in place_chunks(
            rows, geocoder, vocabulary, data_dir, at=at, what=what, progress=progress, size=CHUNK
        ):
            plans.append(store.places.plan(chunk))  # the store as it was: the writer has not committed
            places.extend(chunk)
            chunks.put(chunk)
    except BaseException:
        chunks.put(_ABORT)
        writer.join()
        raise
    chunks.put(_DONE)
    writer.join()
    if failed:
        raise failed[0]
    plan = ImportPlan(
        sum(p.new for p in plans), sum(p.updated for p in plans), sum(p.unchanged for p in plans)
    )
    return places, plan
