"""The open_at condition of a place search, decided in Python by poi_service.hours for both backends.

SQL narrows to places with hours (RecordSpec.where); whether they are open at a time needs the
opening_hours parser and the place's time zone, so the backends fetch (fid, lon, lat, hours) of
their candidates and keep what this module says, before counting and paging: totals stay exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from poi_service.hours import is_open
from poi_service.store.index import IntArray, Neighbours, PointIndex

Row = TypeVar("Row", bound=Sequence[Any])


def open_mask(
    rows: Sequence[Sequence[Any]], at: datetime, lon: int = 1, lat: int = 2, hours: int = 3
) -> npt.NDArray[np.bool_]:
    """True for each row whose hours (column `hours`) say open at `at` at its (lon, lat)."""
    return np.fromiter((is_open(r[hours], r[lon], r[lat], at) for r in rows), np.bool_, len(rows))


def open_rows(rows: list[Row], at: datetime | None) -> list[Row]:
    """The candidate rows (fid, lon, lat, opening_hours) open at `at`; all of them without a time."""
    if at is None or not rows:
        return rows
    return [r for r, keep in zip(rows, open_mask(rows, at).tolist(), strict=True) if keep]


def nearest_open(
    index: PointIndex,
    lon: float,
    lat: float,
    k: int,
    codes: tuple[int, ...],
    at: datetime,
    hours_of: Callable[[IntArray], list[Row]],
) -> Neighbours:
    """The k nearest rows of the index open at `at`: the nearest `want` rows in exact order, filtered,
    `want` growing until k are open or the index has no more (every row past them is farther).
    `hours_of(fids)` gives their (fid, lon, lat, opening_hours) rows."""
    want = max(4 * k, 32)
    while True:
        nb = index.nearest(lon, lat, want, codes)
        found = {int(r[0]) for r in open_rows(hours_of(nb.fids), at)}
        keep = np.fromiter((f in found for f in nb.fids.tolist()), np.bool_, len(nb.fids))
        if int(keep.sum()) >= k or len(nb.fids) < want:
            return Neighbours(nb.fids[keep][:k], nb.distances_m[keep][:k])
        want *= 4
