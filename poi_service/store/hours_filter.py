"""The open_at condition of a place search, decided in Python by poi_service.hours for both backends.

SQL narrows to places with hours (RecordSpec.where); whether they are open at a time needs the
opening_hours parser and the place's time zone, so the backends fetch (fid, lon, lat, hours) of
their candidates and keep what this module says, before counting and paging: totals stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from poi_service.hours import is_open


def open_mask(
    rows: Sequence[Sequence[Any]], at: datetime, lon: int = 1, lat: int = 2, hours: int = 3
) -> npt.NDArray[np.bool_]:
    """True for each row whose hours (column `hours`) say open at `at` at its (lon, lat)."""
    return np.fromiter((is_open(r[hours], r[lon], r[lat], at) for r in rows), np.bool_, len(rows))
