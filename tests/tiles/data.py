"""The street tiles of the real Helsinki extract, built once per test session with tilemaker."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from poi_service.osm.tiles import TilesReport, build_tiles

HELSINKI = Path(__file__).resolve().parent.parent / "data" / "osm" / "helsinki_centre.osm.pbf"
CENTRE = (24.944, 60.171)  # lon, lat: Helsinki railway station square, inside the extract


def require_tilemaker() -> None:
    """Skip without tilemaker locally; fail in CI (scripts/tiles-install.sh installs it)."""
    if shutil.which("tilemaker"):
        return
    reason = "tilemaker is missing: run scripts/tiles-install.sh (apt-get install tilemaker)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@cache
def _built() -> TilesReport:
    folder = Path(tempfile.mkdtemp(prefix="poi-test-tiles-"))
    atexit.register(shutil.rmtree, folder, True)
    return build_tiles(HELSINKI, folder / "helsinki.mbtiles")


def helsinki_tiles() -> TilesReport:
    """The build report of the Helsinki tiles (the file is shared: copy it before changing it)."""
    require_tilemaker()
    return _built()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile column and row holding a point (Web Mercator, slippy-map numbering)."""
    import math

    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
