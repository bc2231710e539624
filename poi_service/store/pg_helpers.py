"""Small helpers of the PostGIS collection: exact polygon test, bulk COPY, AGS ranges."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np
import shapely
from psycopg import Connection
from psycopg.rows import DictRow
from shapely.geometry.base import BaseGeometry

POLYGON_GROW_DEG = 1e-9  # the SQL polygon prefilter is grown by this, so no covered point is lost


def grown(polygon: BaseGeometry) -> BaseGeometry | None:
    """The polygon grown by POLYGON_GROW_DEG for the SQL prefilter; None if it is not valid."""
    if not polygon.is_valid or polygon.is_empty:
        return None
    return polygon.buffer(POLYGON_GROW_DEG, quad_segs=1)


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
