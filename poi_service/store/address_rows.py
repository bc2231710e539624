"""Rows of the address index shared by both backends: values to write, rows read back, nearest refinement."""

from __future__ import annotations

import sqlite3

import numpy as np
import shapely

from poi_service.geo import geodesic_m
from poi_service.models import Point
from poi_service.store.base import AddressPoint, StreetLine

Row = sqlite3.Row | dict[str, object]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _float(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def address_row(row: Row) -> AddressPoint:
    """An AddressPoint from a row with the address columns (both backends)."""
    point = Point(_float(row["lon"]), _float(row["lat"]))
    street, key, number = str(row["street"]), str(row["street_key"]), str(row["housenumber"])
    return AddressPoint(
        street,
        key,
        number,
        point,
        _text(row["postcode"]),
        _text(row["city"]),
        _text(row["ags"]),
        str(row["osm"]),
    )


def street_row(row: Row) -> StreetLine:
    """A StreetLine from a row with the street columns (geom as WKB)."""
    wkb = row["geom"]
    assert isinstance(wkb, bytes | bytearray | memoryview)
    midpoint = Point(_float(row["mid_lon"]), _float(row["mid_lat"]))
    return StreetLine(
        str(row["name"]),
        str(row["street_key"]),
        shapely.from_wkb(bytes(wkb)),
        midpoint,
        _float(row["length_m"]),
        _text(row["city"]),
        _text(row["ags"]),
    )


def address_values(area: str, a: AddressPoint) -> tuple[object, ...]:
    """The column values of one address (area first)."""
    return (
        area,
        a.street,
        a.street_key,
        a.housenumber,
        a.postcode,
        a.city,
        a.ags,
        a.point.lon,
        a.point.lat,
        a.osm,
    )


def street_values(area: str, s: StreetLine) -> tuple[object, ...]:
    """The column values of one street (area first, geometry as WKB)."""
    return (
        area,
        s.name,
        s.street_key,
        s.city,
        s.ags,
        s.midpoint.lon,
        s.midpoint.lat,
        s.length_m,
        shapely.to_wkb(s.geometry),
    )


def nearest_of(point: Point, radius_m: float, rows: list[AddressPoint]) -> tuple[AddressPoint, float] | None:
    """The closest candidate by WGS84 geodesic within radius_m (candidates from a box or a GiST index)."""
    if not rows:
        return None
    dist = geodesic_m(
        point.lon, point.lat, np.array([r.point.lon for r in rows]), np.array([r.point.lat for r in rows])
    )
    i = int(np.argmin(dist))
    return (rows[i], float(dist[i])) if dist[i] <= radius_m else None
