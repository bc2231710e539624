"""The PostGIS store's address index: tables with GiST indexes, rows written with COPY."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from poi_service.models import Point
from poi_service.store.address_rows import (
    address_row,
    address_values,
    nearest_of,
    street_row,
    street_values,
)
from poi_service.store.base import AddressCounts, AddressPoint, StreetLine

if TYPE_CHECKING:
    from poi_service.store.postgis import PostgisStore

# Schema step of the address index (pg_schema.STEPS).
ADDRESS_DDL = """
CREATE TABLE poi_addresses (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, area text COLLATE "C" NOT NULL,
  street text NOT NULL, street_key text COLLATE "C" NOT NULL, housenumber text NOT NULL,
  postcode text, city text, ags text COLLATE "C", lon double precision NOT NULL, lat double precision NOT NULL,
  geog geography(Point, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
  osm text NOT NULL DEFAULT '');
CREATE INDEX poi_addresses_street ON poi_addresses (street_key);
CREATE INDEX poi_addresses_area ON poi_addresses (area);
CREATE INDEX poi_addresses_geog ON poi_addresses USING gist (geog);
CREATE TABLE poi_streets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, area text COLLATE "C" NOT NULL, name text NOT NULL,
  street_key text COLLATE "C" NOT NULL, city text, ags text COLLATE "C", mid_lon double precision NOT NULL,
  mid_lat double precision NOT NULL, length_m double precision NOT NULL, geom geometry(Geometry, 4326) NOT NULL);
CREATE INDEX poi_streets_key ON poi_streets (street_key);
CREATE INDEX poi_streets_area ON poi_streets (area);
CREATE INDEX poi_streets_geom ON poi_streets USING gist (geom);
"""


_COPY_ADDRESSES = "COPY poi_addresses (area, street, street_key, housenumber, postcode, city, ags, lon, lat, osm) FROM STDIN"
_ON_STREET = "SELECT street, street_key, housenumber, postcode, city, ags, lon, lat, osm FROM poi_addresses WHERE street_key = %s"
_NUMBERED = " AND (housenumber LIKE %s OR strpos(housenumber, '-') > 0)"
_STREETS = "SELECT name, street_key, city, ags, mid_lon, mid_lat, length_m, ST_AsBinary(geom) AS geom FROM poi_streets WHERE street_key = %s"
_NEAR = (
    "SELECT street, street_key, housenumber, postcode, city, ags, lon, lat, osm FROM poi_addresses WHERE ST_DWithin(geog, "
    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)"
)


class PgAddresses:
    """AddressIndex over PostGIS."""

    def __init__(self, store: PostgisStore) -> None:
        self.store = store

    def replace_area(
        self, area: str, addresses: Iterable[AddressPoint], streets: Iterable[StreetLine]
    ) -> None:
        """Replaces the area's rows in one transaction (COPY for the new ones)."""
        with self.store.writing() as conn:
            conn.execute("DELETE FROM poi_addresses WHERE area = %s", (area,))
            conn.execute("DELETE FROM poi_streets WHERE area = %s", (area,))
            with conn.cursor().copy(_COPY_ADDRESSES) as copy:
                for a in addresses:
                    copy.write_row(address_values(area, a))
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS poi_stage_streets (area text, name text, street_key text, city text, "
                "ags text, mid_lon float8, mid_lat float8, length_m float8, wkb bytea) ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY poi_stage_streets FROM STDIN") as copy:
                for s in streets:
                    copy.write_row(street_values(area, s))
            conn.execute(
                "INSERT INTO poi_streets (area, name, street_key, city, ags, mid_lon, mid_lat, length_m, geom) "
                "SELECT area, name, street_key, city, ags, mid_lon, mid_lat, length_m, "
                "ST_SetSRID(ST_GeomFromWKB(wkb), 4326) FROM poi_stage_streets"
            )
            conn.execute("DROP TABLE poi_stage_streets")

    def on_street(self, street_key: str, number: int | None = None) -> list[AddressPoint]:
        """Addresses with this street key (starting with number, or ranges)."""
        if number is None:
            rows = self.store._rows(_ON_STREET, (street_key,))
        else:
            rows = self.store._rows(_ON_STREET + _NUMBERED, (street_key, f"{number}%"))
        return [address_row(r) for r in rows]

    def streets(self, street_key: str) -> list[StreetLine]:
        """Streets with this key."""
        rows = self.store._rows(_STREETS, (street_key,))
        return [street_row(r) for r in rows]

    def nearest(self, point: Point, radius_m: float) -> tuple[AddressPoint, float] | None:
        """Candidates by ST_DWithin on the sphere (widened by 1 %), refined by the WGS84 geodesic."""
        rows = self.store._rows(
            _NEAR,
            (point.lon, point.lat, radius_m * 1.01 + 1.0),
        )
        return nearest_of(point, radius_m, [address_row(r) for r in rows])

    def counts(self) -> AddressCounts:
        """Numbers of addresses and streets, addresses per area."""
        rows = self.store._rows("SELECT area, count(*) AS n FROM poi_addresses GROUP BY 1")
        areas = {str(r["area"]): int(r["n"]) for r in rows}
        streets = int(self.store._rows("SELECT count(*) AS n FROM poi_streets")[0]["n"])
        return AddressCounts(sum(areas.values()), streets, areas)
