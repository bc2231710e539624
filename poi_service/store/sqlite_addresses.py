"""The embedded store's address index: two plain tables and an R*Tree over the address points.

The tables are not GeoPackage layers (nothing registers them in gpkg_contents), so GDAL and QGIS
keep listing only the places and memberships layers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from poi_service.models import Point
from poi_service.store.address_rows import address_row, address_values, nearest_of, street_row, street_values
from poi_service.store.base import AddressCounts, AddressPoint, StreetLine

if TYPE_CHECKING:
    from poi_service.store.sqlite import SqliteStore

# Schema 4 (the address index); created with a new file and by the migration step of older ones.
ADDRESS_DDL = (
    """CREATE TABLE poi_addresses (id INTEGER PRIMARY KEY, area TEXT NOT NULL, street TEXT NOT NULL,
  street_key TEXT NOT NULL, housenumber TEXT NOT NULL, postcode TEXT, city TEXT, ags TEXT,
  lon REAL NOT NULL, lat REAL NOT NULL, osm TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX poi_addresses_street ON poi_addresses (street_key)",
    "CREATE INDEX poi_addresses_area ON poi_addresses (area)",
    "CREATE VIRTUAL TABLE poi_addresses_rtree USING rtree(id, minx, maxx, miny, maxy)",
    """CREATE TABLE poi_streets (id INTEGER PRIMARY KEY, area TEXT NOT NULL, name TEXT NOT NULL,
  street_key TEXT NOT NULL, city TEXT, ags TEXT, mid_lon REAL NOT NULL, mid_lat REAL NOT NULL,
  length_m REAL NOT NULL, geom BLOB NOT NULL)""",
    "CREATE INDEX poi_streets_key ON poi_streets (street_key)",
    "CREATE INDEX poi_streets_area ON poi_streets (area)",
)
BATCH = 10_000
# Degrees of latitude per metre are at least this large everywhere (the meridian degree is < 111.7 km).
_DEG_PER_M = 1.0 / 110_500.0


def batches(rows: Iterable[tuple[object, ...]]) -> Iterator[list[tuple[object, ...]]]:
    """Rows in lists of BATCH."""
    it = iter(rows)
    while chunk := list(islice(it, BATCH)):
        yield chunk


_INSERT_ADDRESS = (
    "INSERT INTO poi_addresses (area, street, street_key, housenumber, postcode, city, ags, lon, lat, osm) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_STREET = "INSERT INTO poi_streets (area, name, street_key, city, ags, mid_lon, mid_lat, length_m, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_ON_STREET = "SELECT street, street_key, housenumber, postcode, city, ags, lon, lat, osm FROM poi_addresses WHERE street_key = ?"
_NUMBERED = " AND (housenumber GLOB ? OR instr(housenumber, '-') > 0)"
_STREETS = "SELECT name, street_key, city, ags, mid_lon, mid_lat, length_m, geom FROM poi_streets WHERE street_key = ?"
_NEAR = (
    "SELECT street, street_key, housenumber, postcode, city, ags, lon, lat, osm FROM poi_addresses WHERE id IN (SELECT id FROM poi_addresses_rtree "
    "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
)


class SqliteAddresses:
    """AddressIndex over the GeoPackage file."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def replace_area(
        self, area: str, addresses: Iterable[AddressPoint], streets: Iterable[StreetLine]
    ) -> None:
        """Replaces the area's rows in one write transaction."""
        with self.store.transaction():
            conn = self.store.conn
            conn.execute(
                "DELETE FROM poi_addresses_rtree WHERE id IN (SELECT id FROM poi_addresses WHERE area = ?)",
                (area,),
            )
            conn.execute("DELETE FROM poi_addresses WHERE area = ?", (area,))
            conn.execute("DELETE FROM poi_streets WHERE area = ?", (area,))
            top = conn.execute("SELECT coalesce(max(id), 0) FROM poi_addresses").fetchone()[0]
            for chunk in batches(address_values(area, a) for a in addresses):
                conn.executemany(_INSERT_ADDRESS, chunk)
            conn.execute(
                "INSERT INTO poi_addresses_rtree SELECT id, lon, lon, lat, lat FROM poi_addresses WHERE id > ?",
                (top,),
            )
            for chunk in batches(street_values(area, s) for s in streets):
                conn.executemany(_INSERT_STREET, chunk)

    def on_street(self, street_key: str, number: int | None = None) -> list[AddressPoint]:
        """Addresses with this street key (starting with number, or ranges)."""
        if number is None:
            rows = self.store.query(_ON_STREET, (street_key,))
        else:
            rows = self.store.query(_ON_STREET + _NUMBERED, (street_key, f"{number}*"))
        return [address_row(r) for r in rows]

    def streets(self, street_key: str) -> list[StreetLine]:
        """Streets with this key."""
        rows = self.store.query(_STREETS, (street_key,))
        return [street_row(r) for r in rows]

    def nearest(self, point: Point, radius_m: float) -> tuple[AddressPoint, float] | None:
        """Candidates from the R*Tree box around the circle, refined by geodesic distance."""
        dlat = radius_m * _DEG_PER_M
        dlon = min(180.0, dlat / max(math.cos(math.radians(min(89.9, abs(point.lat) + dlat))), 1e-6))
        rows = self.store.query(
            _NEAR,
            (point.lon - dlon, point.lon + dlon, point.lat - dlat, point.lat + dlat),
        )
        return nearest_of(point, radius_m, [address_row(r) for r in rows])

    def counts(self) -> AddressCounts:
        """Numbers of addresses and streets, addresses per area."""
        areas = {
            str(r[0]): int(r[1])
            for r in self.store.query("SELECT area, count(*) FROM poi_addresses GROUP BY 1")
        }
        streets = int(self.store.query("SELECT count(*) FROM poi_streets")[0][0])
        return AddressCounts(sum(areas.values()), streets, areas)
