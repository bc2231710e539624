"""Planned OSM writes against the store: new, updated, unchanged, deleted, conflicts; then one transaction.

Only records whose external key starts with 'osm:' are ever read or written here. A record whose
last recorded write was not made by the OSM importer (an editor's update, delete or restore) is
the editor's: it is left as it is and reported as a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from poi_service.models import Place, PlaceData
from poi_service.store import Store
from poi_service.store.history import same_data
from poi_service.store.records import PLACES

OSM_ACTOR = "osm"  # the history actor of every write of the importer
KEY_PREFIX = "osm:"
MAX_LISTED = 50  # conflicting keys named in a report


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a run applies: inside geometry (None: everywhere)."""

    geometry: BaseGeometry | None = None

    def contains(self, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
        """Per point: inside the scope or on its border."""
        if self.geometry is None:
            return np.ones(len(lons), dtype=bool)
        inside = shapely.contains_xy(self.geometry, lons, lats) | shapely.intersects_xy(
            self.geometry.boundary, lons, lats
        )
        return np.asarray(inside, dtype=bool)


@dataclass(slots=True)
class Outcome:
    """What a run does (or, on a dry run, would do) to the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    unknown: int = 0  # deletes of objects the store does not hold
    conflict_keys: list[str] = field(default_factory=list)

    def conflict(self, key: str) -> None:
        """Counts a conflict, naming the first few."""
        self.conflicts += 1
        if len(self.conflict_keys) < MAX_LISTED:
            self.conflict_keys.append(key)


def live_osm(store: Store) -> dict[str, Place]:
    """Every live record from OSM, by key."""
    return {
        p.external_key: p
        for p in store.places.iter_all()
        if p.external_key is not None and p.external_key.startswith(KEY_PREFIX)
    }


def edited(store: Store, record: Place) -> bool:
    """True when the record's last write was not the importer's (an editor's)."""
    history = store.places.history(record.id)
    return bool(history) and history[-1].actor != OSM_ACTOR


def apply(
    store: Store,
    incoming: Mapping[str, PlaceData],
    gone: Iterable[str],
    *,
    dry_run: bool,
    live: dict[str, Place] | None = None,
    meta: Mapping[str, str] | None = None,
    stored: dict[str, Place] | None = None,
) -> Outcome:
    """Writes incoming places and deletes the records of `gone` keys, all in one transaction.

    meta: store metadata written in the same transaction (the replication state). live: the live
    OSM records to compare with (default: all); stored: records of the keys not live, if known.
    """
    out = Outcome()
    live = live_osm(store) if live is None else live
    writes: list[PlaceData] = []
    if stored is None:  # the soft-deleted records of incoming keys
        stored = store.places.find_keys(k for k in incoming if k not in live)
    for key, data in incoming.items():
        record = live.get(key)
        if record is None:
            dead = stored.get(key)
            if dead is None or dead.deleted_at is None:
                out.new += 1
            elif edited(store, dead):
                out.conflict(key)
                continue
            else:
                out.updated += 1  # deleted by an earlier run, back in OSM
            writes.append(data)
            continue
        if same_data(PLACES, PLACES.to_row(data), record):
            out.unchanged += 1
        elif edited(store, record):
            out.conflict(key)
        else:
            out.updated += 1
            writes.append(data)
    deletes: list[Place] = []
    for key in gone:
        record = live.get(key)
        if record is None:
            out.unknown += 1
        elif edited(store, record):
            out.conflict(key)
        else:
            deletes.append(record)
    out.deleted = len(deletes)
    if dry_run:
        return out
    with store.transaction():
        if writes:
            store.places.add_many(writes, actor=OSM_ACTOR)
        for record in deletes:
            store.places.delete(record.id, expected_version=record.version, actor=OSM_ACTOR)
        for name, value in (meta or {}).items():
            store.meta_put(name, value)
    return out
