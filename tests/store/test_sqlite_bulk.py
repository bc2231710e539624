"""The embedded store's bulk import path: indexes dropped and rebuilt, history built in SQL."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from poi_service.models import PlaceData
from poi_service.store import open_store, sqlite_bulk
from poi_service.store.history import snapshot
from poi_service.store.sqlite import SqliteStore
from tests.browser.data import hostile_places
from tests.conftest import DATA_DIR
from tests.factories import random_places


def _schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


@pytest.fixture
def bulk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SqliteStore]:
    """A store whose imports take the bulk path after 50 rows."""
    monkeypatch.setattr(sqlite_bulk, "BULK_ROWS", 50)
    monkeypatch.setattr("poi_service.store.sqlite_write.BATCH", 40)
    store = open_store(str(tmp_path / "poi.gpkg"), DATA_DIR)
    assert isinstance(store, SqliteStore)
    yield store
    store.close()


def test_bulk_import_keeps_schema_history_and_repeated_keys(bulk: SqliteStore) -> None:
    schema = _schema(bulk.path)
    rows = [*random_places(200), *hostile_places()]
    first = dataclasses.replace(rows[10], name="first of a repeated key")
    rows.insert(120, dataclasses.replace(rows[10], name="second of a repeated key"))
    rows[10] = first
    assert bulk.places.add_many(rows, actor="imp") == len(rows)
    assert _schema(bulk.path) == schema  # indexes, triggers; no staging table left
    assert bulk.conn.execute("PRAGMA cache_size").fetchone()[0] == -65536
    n = len(rows) - 1
    assert bulk.conn.execute("SELECT count(*) FROM rtree_places_geom").fetchone()[0] == n
    assert bulk.conn.execute("SELECT count(*) FROM places_fts").fetchone()[0] == n
    # the repeated key's update found its first row's full-text entry (a 'delete' of a missing one corrupts FTS5)
    bulk.conn.execute("INSERT INTO places_fts (places_fts) VALUES ('integrity-check')")
    for record in bulk.places.iter_all():
        changes = bulk.places.history(record.id)
        assert changes[-1].after is not None
        # the JSON the API shows: same keys, order and values as a snapshot of the stored record
        assert orjson.dumps(changes[-1].after) == orjson.dumps(snapshot(bulk.places.spec, record))
        if record.external_key == first.external_key:
            assert [(c.version, c.after and c.after["name"]) for c in changes] == [
                (1, "first of a repeated key"),
                (2, "second of a repeated key"),
            ]
            assert changes[1].before == changes[0].after
        else:
            assert [(c.action, c.actor, c.version, c.before) for c in changes] == [("import", "imp", 1, None)]


def test_bulk_reimport_updates_and_failure_changes_nothing(bulk: SqliteStore) -> None:
    rows = random_places(120)
    bulk.places.add_many(rows)
    schema = _schema(bulk.path)
    renamed = [dataclasses.replace(r, name=r.name + " neu") if i % 2 else r for i, r in enumerate(rows)]
    assert bulk.places.add_many(renamed, actor="again") == len(rows)
    history = [h for r in bulk.places.iter_all() for h in bulk.places.history(r.id) if h.actor == "again"]
    assert len(history) == 60 and all(h.version == 2 and h.before is not None for h in history)
    bulk.conn.execute("INSERT INTO places_fts (places_fts) VALUES ('integrity-check')")

    def failing() -> Iterator[PlaceData]:
        yield from random_places(100, seed=11)
        raise RuntimeError("source broke")

    before = bulk.places.count()
    with pytest.raises(RuntimeError):
        bulk.places.add_many(failing())
    assert bulk.places.count() == before and _schema(bulk.path) == schema
    assert bulk.conn.execute("PRAGMA cache_size").fetchone()[0] == -65536


def test_small_import_with_a_repeated_key(tmp_path: Path) -> None:
    """Below the bulk size too: the second row of a key updates the first one, text index intact."""
    store = open_store(str(tmp_path / "poi.gpkg"), DATA_DIR)
    assert isinstance(store, SqliteStore)
    rows = random_places(20)
    rows.append(dataclasses.replace(rows[3], name="Zweitname"))
    assert store.places.add_many(rows) == 21
    store.conn.execute("INSERT INTO places_fts (places_fts) VALUES ('integrity-check')")
    assert store.places.count() == 20
    store.close()
