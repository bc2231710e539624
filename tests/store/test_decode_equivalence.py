"""The embedded store's positional decoder (store/decode.py) against the plain one (RecordSpec.from_row):
the fast path exists only as long as both give equal records for every stored row."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

from poi_service.models import Alliance, DatePrecision, Role
from poi_service.store import open_store
from poi_service.store.decode import row_decoder
from poi_service.store.records import MEMBERSHIPS, PLACES
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places


def test_both_decoders_give_equal_records(tmp_path: Path) -> None:
    path = tmp_path / "s.gpkg"
    store = open_store(str(path), DATA_DIR)
    try:
        places = random_places(40)
        places[0] = replace(places[0], phone="+494618520", website="https://example.org/", source="test")
        store.places.add_many(places, actor="test")
        store.places.delete(next(store.places.iter_all()).id, actor="test")  # deleted rows decode too
        store.memberships.add(membership("Kiel", Alliance.BUENDNIS, 10.13, 54.32), actor="test")
        palermo = membership(
            "Palermo",
            Alliance.INTERNATIONAL,
            13.36,
            38.12,
            joined=date(2019, 1, 1),
            joined_precision=DatePrecision.YEAR,
            role=Role.MEMBER,
            country="IT",
        )
        store.memberships.add(palermo, actor="test")
    finally:
        store.close()
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        for spec, rows in ((PLACES, 40), (MEMBERSHIPS, 2)):
            # The columns the embedded collection selects (collection.py), in its order.
            columns = ("fid", "id", *spec.columns, "created_at", "updated_at", "version", "deleted_at")
            # Live rows, and the soft-deleted one kept outside the layer (store/archive.py).
            found = conn.execute(
                f"SELECT {', '.join(columns)} FROM {spec.table} "
                f"UNION ALL SELECT {', '.join(columns)} FROM deleted_{spec.table}"
            ).fetchall()
            assert len(found) == rows
            decode = row_decoder(spec.table, columns)
            for row in found:
                assert decode(tuple(row)) == spec.from_row(row)
    finally:
        conn.close()
