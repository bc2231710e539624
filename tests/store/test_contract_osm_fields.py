"""Schema 3 on every backend: opening hours, wheelchair, localized names, OSM provenance, metadata."""

from __future__ import annotations

import dataclasses

from poi_service.models import PlaceData, Point
from poi_service.store import Near, PlaceFilter, Query, Store
from poi_service.store.history import snapshot
from poi_service.store.records import PLACES
from tests.factories import random_places


def osm_place(base: PlaceData) -> PlaceData:
    """A place with every schema-3 field set (a name with a quote and non-ASCII letters)."""
    return dataclasses.replace(
        base,
        opening_hours="Mo-Fr 09:00-18:00; Sa 10:00-14:00; PH off",
        wheelchair="limited",
        names=(("da", 'Møllen "gamle"'), ("de", "Alte Mühle")),
        osm_version=7,
        osm_timestamp="2024-05-01T10:20:30Z",
        external_key="osm:node/42",
    )


def test_fields_round_trip_on_every_read_path(store: Store) -> None:
    plain, base = random_places(2)
    data = osm_place(base)
    store.places.add_many([plain, data], actor="osm")
    got = next(p for p in store.places.iter_all() if p.external_key == "osm:node/42")
    fields = ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp")
    assert {f: getattr(got, f) for f in fields} == {f: getattr(data, f) for f in fields}
    assert got.name_in("da") == 'Møllen "gamle"' and got.name_in("en") is None
    assert store.places.get(got.id) == got
    near = store.places.search(Query(PlaceFilter(), near=Near(data.point, 10), limit=5)).hits
    assert got in [h.record for h in near]
    assert got in [h.record for h in store.places.nearest(data.point, 2, PlaceFilter())]
    other = next(p for p in store.places.iter_all() if p.external_key == plain.external_key)
    assert (other.opening_hours, other.wheelchair, other.names, other.osm_version) == (None, None, (), None)
    # The history snapshot written set-wise (SQL) equals the one built from the record (Python).
    assert store.places.history(got.id)[0].after == snapshot(PLACES, got)


def test_reimport_unchanged_and_changed(store: Store) -> None:
    data = osm_place(random_places(1)[0])
    store.places.add_many([data], actor="osm")
    record_id = store.places.iter_all().__next__().id
    store.places.add_many([data], actor="osm")
    assert len(store.places.history(record_id)) == 1  # same data: nothing written
    store.places.add_many([dataclasses.replace(data, wheelchair="yes", osm_version=8)], actor="osm")
    history = store.places.history(record_id)
    assert [c.action for c in history] == ["import", "import"]
    assert (history[1].before or {})["wheelchair"] == "limited" and (history[1].after or {})[
        "wheelchair"
    ] == "yes"
    assert store.places.get(record_id).osm_version == 8
    moved = store.places.update(record_id, dataclasses.replace(data, point=Point(9.41, 54.81), names=()))
    assert moved.names == () and (store.places.history(record_id)[-1].after or {})["names"] is None


def test_metadata(store: Store) -> None:
    assert store.meta_get("osm.replication") is None
    store.meta_put("osm.replication", '{"sequence": 5}')
    store.meta_put("osm.replication", '{"sequence": 6}')
    assert store.meta_get("osm.replication") == '{"sequence": 6}'
    try:
        with store.transaction():
            store.meta_put("osm.replication", '{"sequence": 7}')
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert store.meta_get("osm.replication") == '{"sequence": 6}'
    store.meta_put("osm.replication", None)
    assert store.meta_get("osm.replication") is None


def test_find_keys_includes_deleted(store: Store) -> None:
    first, second, third = random_places(3)
    store.places.add_many([first, second, third])
    gone = next(p for p in store.places.iter_all() if p.external_key == second.external_key)
    store.places.delete(gone.id)
    keys = [first.external_key or "", second.external_key or "", "osm:node/404"]
    found = store.places.find_keys(iter(keys))
    assert set(found) == set(keys[:2]) and found[keys[1]].deleted_at is not None
    assert found[keys[0]] == store.places.get(found[keys[0]].id)
