"""The embedded store's file is a real GeoPackage, and other connections' writes are seen."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from poi_service.models import KeyRole, Point
from poi_service.store import Near, PlaceFilter, Query, open_store
from poi_service.store.base import SCHEMA_VERSION
from poi_service.store.gpkg import register_functions
from poi_service.store.sqlite import SqliteStore
from tests.conftest import DATA_DIR
from tests.factories import random_places


def test_file_is_a_geopackage_that_geopandas_reads(tmp_path: Path) -> None:
    path = tmp_path / "poi.gpkg"
    store = open_store(f"sqlite:///{path}", DATA_DIR)
    rows = random_places(50)
    store.places.add_many(rows)
    store.close()
    raw = path.read_bytes()[:100]
    assert raw[68:72] == b"GPKG"  # application_id in the header, where GDAL looks
    layers = {name: geom for name, geom in pyogrio.list_layers(path)}
    assert layers["places"] == "Point" and layers["memberships"] == "Point"
    assert not any(name.endswith("_fts") for name in layers)
    frame = gpd.read_file(path, layer="places")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 50
    by_key = {r.external_key: r for r in rows}
    for _, row in frame.iterrows():
        want = by_key[row["external_key"]].point
        assert (row.geometry.x, row.geometry.y) == (want.lon, want.lat)
    info = pyogrio.read_info(path, layer="places")
    assert info["features"] == 50
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM rtree_places_geom").fetchone()[0] == 50
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_connection_sees_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "poi.gpkg")
    writer = open_store(path, DATA_DIR)
    reader = open_store(path, DATA_DIR)
    centre = Point(9.4, 54.8)
    query = Query(PlaceFilter(), near=Near(centre, 50_000))
    assert reader.places.search(query).total == 0  # builds the reader's index
    added = writer.places.add(random_places(1)[0])
    assert [h.record.id for h in reader.places.search(query).hits] == [added.id]
    writer.places.delete(added.id)
    assert reader.places.search(query).total == 0
    assert reader.places.nearest(centre, 3, PlaceFilter()) == []


def test_in_memory_state_follows_every_kind_of_commit(tmp_path: Path) -> None:
    """Index, record cache and area index are dropped after commits of this store, of another
    store on the file and of a plain connection (what another worker's write looks like)."""
    path = tmp_path / "poi.gpkg"
    store = open_store(str(path), DATA_DIR)
    other = open_store(str(path), DATA_DIR)
    centre = Point(9.4, 54.8)
    near = Query(PlaceFilter(), near=Near(centre, 50_000), limit=100)
    data = random_places(1)[0]
    assert data.address.ags is not None
    area = Query(PlaceFilter(), area=data.address.ags[:5], limit=100)  # its district
    added = store.places.add(dataclasses.replace(data, point=centre))

    def names() -> set[str]:
        return {h.record.name for h in store.places.search(near).hits}

    assert names() == {added.name}  # builds the index and caches the record
    assert store.places.nearest(centre, 1, PlaceFilter())[0].record.name == added.name
    assert [h.record.id for h in store.places.search(area).hits] == [added.id]
    store.places.update(added.id, dataclasses.replace(data, name="eigene", point=centre))
    assert names() == {"eigene"}
    assert store.places.nearest(centre, 1, PlaceFilter())[0].record.name == "eigene"
    other.places.update(added.id, dataclasses.replace(data, name="fremde", point=centre))
    assert names() == {"fremde"}
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE places SET name = 'roh' WHERE id = ?", (added.id,))
    raw.close()
    assert names() == {"roh"}
    assert [h.record.name for h in store.places.search(area).hits] == ["roh"]
    other.places.delete(added.id)
    assert names() == set()
    assert store.places.search(area).total == 0
    assert store.places.nearest(centre, 3, PlaceFilter()) == []
    other.close()
    store.close()


def test_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "poi.gpkg"
    open_store(str(path), DATA_DIR).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE poi_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(Exception, match="newer"):
        open_store(str(path), DATA_DIR)


def _drop_address_index(con: sqlite3.Connection) -> None:
    """Removes the tables of schema 4 (the OSM address index)."""
    for table in ("poi_addresses", "poi_addresses_rtree", "poi_streets"):
        con.execute(f"DROP TABLE {table}")


def _downgrade_to_v1(path: Path) -> None:
    """Turns a fresh file into the layout of schema 1 (before versions, history and keys)."""
    con = sqlite3.connect(path, isolation_level=None)
    for t in ("places", "memberships"):
        con.execute(f"DROP INDEX {t}_deleted")
        con.execute(f"ALTER TABLE {t} DROP COLUMN version")
        con.execute(f"ALTER TABLE {t} DROP COLUMN deleted_at")
    for column in ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp"):
        con.execute(f"ALTER TABLE places DROP COLUMN {column}")  # schema 3
    con.execute("DROP TABLE poi_history")
    con.execute("DROP TABLE poi_keys")
    _drop_address_index(con)
    con.execute("UPDATE poi_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()


def test_migrates_schema_2_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v2.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(5))
    before = sorted((p.id, p.name, p.version) for p in store.places.iter_all())
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    for column in ("opening_hours", "wheelchair", "names", "osm_version", "osm_timestamp"):
        con.execute(f"ALTER TABLE places DROP COLUMN {column}")
    _drop_address_index(con)
    con.execute("UPDATE poi_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    store = open_store(str(path), DATA_DIR)
    try:
        assert store.info()["schema_version"] == SCHEMA_VERSION
        places = list(store.places.iter_all())
        assert sorted((p.id, p.name, p.version) for p in places) == before
        assert {(p.opening_hours, p.wheelchair, p.names) for p in places} == {(None, None, ())}
        first = places[0]
        updated = store.places.update(first.id, dataclasses.replace(first, wheelchair="no"), actor="k")
        assert store.places.get(first.id).wheelchair == "no" == updated.wheelchair
    finally:
        store.close()


def test_migrates_schema_1_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(20))
    ids = sorted(p.id for p in store.places.iter_all())
    store.close()
    _downgrade_to_v1(path)
    store = open_store(str(path), DATA_DIR)
    try:
        assert store.info()["schema_version"] == SCHEMA_VERSION
        places = list(store.places.iter_all())
        assert sorted(p.id for p in places) == ids and {p.version for p in places} == {1}
        assert store.places.history(ids[0]) == []  # written before history existed
        store.places.delete(ids[0], expected_version=1, actor="k")
        assert store.places.count() == 19
        assert [c.action for c in store.places.history(ids[0])] == ["delete"]
        assert store.create_key("x", KeyRole.EDITOR)[0].name == "x"
    finally:
        store.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert pyogrio.read_info(path, layer="places")["features"] == 19  # the deleted place is not in the layer


def test_ready_never_waits_for_a_read_in_another_thread(tmp_path: Path) -> None:
    """The event loop asks ready(); while a worker thread reads (say, builds the index) it must
    answer False at once instead of queueing behind that read."""
    import threading
    import time

    store = open_store(str(tmp_path / "a.gpkg"), DATA_DIR)
    store.places.add_many(random_places(20), actor="t")
    store.places.warm()
    assert store.places.ready()
    holding, release = threading.Event(), threading.Event()

    def long_read() -> None:
        with store.reading():  # type: ignore[attr-defined]
            holding.set()
            release.wait(10)

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert not store.places.ready()
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        reader.join()
    assert store.places.ready()
    store.close()


def test_the_record_cache_stays_bounded_and_answers_stay_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poi_service.store import collection

    monkeypatch.setattr(collection, "CACHE_RECORDS", 16)
    store = open_store(str(tmp_path / "c.gpkg"), DATA_DIR)
    store.places.add_many(random_places(120))
    every = {p.id: p for p in store.places.iter_all()}
    for round_ in range(3):  # more records than the cache holds, evicted and read back again
        for place in every.values():
            hit = store.places.search(Query(PlaceFilter(), near=Near(place.point, 0.01), limit=1)).hits[0]
            assert hit.record == place, round_
            assert len(store.places._cache) <= 16
    store.close()


def _layer_ids(path: Path, layer: str) -> set[str]:
    return set(gpd.read_file(path, layer=layer)["id"])


def test_deleted_records_leave_the_geopackage_layers(tmp_path: Path) -> None:
    """QGIS and geopandas read the layers: a soft-deleted record vanishes there as from the API."""
    path = tmp_path / "poi.gpkg"
    store = open_store(str(path), DATA_DIR)
    rows = random_places(24)
    store.places.add_many(rows)
    victim, other, purged = sorted(p.id for p in store.places.iter_all())[:3]
    store.places.delete(victim, actor="k")
    store.places.delete(other, actor="k")
    store.places.delete(purged, actor="k")
    store.places.delete(purged, actor="k", purge=True)
    assert store.places.count() == 21
    live = {p.id for p in store.places.iter_all()}
    assert _layer_ids(path, "places") == live and pyogrio.read_info(path, layer="places")["features"] == 21
    assert {name for name, _ in pyogrio.list_layers(path)} == {"places", "memberships", "poi_meta"}
    # restore and a re-import bring records back into the layer, indexed as before
    store.places.restore(victim, actor="k")
    store.places.add_many(
        [r for r in rows if store.places.get(other, include_deleted=True).external_key == r.external_key]
    )
    assert {victim, other} <= {p.id for p in store.places.iter_all()}
    assert store.places.get(other).deleted_at is None and store.places.count() == 23
    back = store.places.get(other)
    near = store.places.search(Query(PlaceFilter(), near=Near(back.point, 10), limit=5))
    assert other in {h.record.id for h in near.hits}
    assert other in {
        h.record.id for h in store.places.search(Query(PlaceFilter(text=back.name), limit=50)).hits
    }
    assert [c.action for c in store.places.history(other)] == ["import", "delete", "import"]
    store.close()
    assert _layer_ids(path, "places") == {p for p in live | {victim, other}}
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM rtree_places_geom").fetchone()[0] == 23


def test_rows_deleted_in_place_by_an_older_version_move_out_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(10))
    victim = next(iter(store.places.iter_all())).id
    store.places.delete(victim, actor="k")
    store.close()
    con = sqlite3.connect(path)  # as the previous version left it: the deleted row in the layer
    register_functions(con)
    cols = ", ".join(r[1] for r in con.execute("PRAGMA table_info(places)"))
    con.execute(f"INSERT INTO places ({cols}) SELECT {cols} FROM deleted_places")
    con.execute("DROP TABLE deleted_places")
    con.commit()
    con.close()
    assert len(gpd.read_file(path, layer="places")) == 10
    store = open_store(str(path), DATA_DIR)
    try:
        assert (
            store.places.count() == 9
            and store.places.get(victim, include_deleted=True).deleted_at is not None
        )
        store.places.restore(victim, actor="k")
    finally:
        store.close()
    assert len(gpd.read_file(path, layer="places")) == 10


def test_info_does_not_wait_for_the_read_connection(tmp_path: Path) -> None:
    # /health asks info(); an index build holds the read connection for seconds at 1M places.
    import threading

    store = SqliteStore(tmp_path / "s.gpkg", DATA_DIR)
    store.places.add_many(random_places(5))
    held, release = threading.Event(), threading.Event()

    def build() -> None:
        with store.read_lock:
            held.set()
            release.wait(10)

    thread = threading.Thread(target=build)
    thread.start()
    held.wait(5)
    try:
        got: list[dict[str, object]] = []
        asking = threading.Thread(target=lambda: got.append(store.info()))
        asking.start()
        asking.join(3)  # the build holds the read connection for 10 s
        assert got and got[0]["places"] == 5, "info() waited for the read connection"
        store.places.add(random_places(1, seed=9)[0])  # a new change version: counted again
        assert store.info()["places"] == 6
    finally:
        release.set()
        thread.join()
        store.close()
