"""Small helpers of the PostGIS collection: exact polygon test, radius box, bulk COPY."""

from __future__ import annotations

import math
from operator import itemgetter
from typing import Any

import numpy as np
import shapely
from psycopg import Connection
from psycopg.rows import DictRow
from shapely.geometry.base import BaseGeometry

from poi_service.geo import R_MIN_M

POLYGON_GROW_DEG = 1e-9  # the SQL polygon prefilter is grown by this, so no covered point is lost


def grown(polygon: BaseGeometry) -> BaseGeometry | None:
    """The polygon grown by POLYGON_GROW_DEG for the SQL prefilter; None if it is not valid."""
    if not polygon.is_valid or polygon.is_empty:
        return None
    return polygon.buffer(POLYGON_GROW_DEG, quad_segs=1)


def radius_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float] | None:
    """A lon/lat box holding every point within radius_m (geodesic) of (lon, lat); None when the
    circle reaches a pole or the antimeridian (the caller then asks the geography index).

    A geodesic d spans a sphere angle of at most d / R_MIN_M (poi_service.geo), and a spherical cap
    of angle t around latitude p spans at most asin(sin t / cos p) of longitude (it touches that
    meridian where the meridian is tangent to the cap). The box is padded for float rounding: it
    only narrows the candidates, the geodesic decides."""
    theta = radius_m / R_MIN_M * (1.0 + 1e-9) + 1e-12
    dlat = math.degrees(theta) * (1.0 + 1e-9) + 1e-9
    if not theta < math.pi / 2 or abs(lat) + dlat >= 89.0:
        return None
    ratio = math.sin(theta) / math.cos(math.radians(abs(lat) + 1e-9))
    if not ratio < 1.0:
        return None
    dlon = math.degrees(math.asin(ratio)) * (1.0 + 1e-9) + 1e-9
    if lon - dlon <= -180.0 or lon + dlon >= 180.0:
        return None
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def covers(polygon: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Inside or on the boundary, exactly as the embedded store decides it."""
    if len(lons) == 0:
        return np.zeros(0, dtype=bool)
    inside = shapely.contains_xy(polygon, lons, lats) | shapely.intersects_xy(polygon.boundary, lons, lats)
    return np.asarray(inside, dtype=bool)


def copy_rows(
    conn: Connection[DictRow], sql: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """COPYs rows (seq, *columns) into the staging table (outside the generic class: mypy checks
    methods once per constrained type and loses loop variables there)."""
    values = itemgetter(*columns)
    with conn.cursor().copy(sql) as copy:
        for seq, row in enumerate(rows):
            copy.write_row((seq, *values(row)))
