"""The sea from coastline ways: OpenStreetMap draws coastlines with the land on the left, the water on the
right; clipped ends are continued to the frame."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point

from poi_service.osm.sea import coastline_runs, sea_polygons
from tests.tiles.data import HELSINKI

FRAME = (0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("coords", "wet", "dry"),
    [
        ([(0.2, 0.5), (0.5, 0.52), (0.8, 0.5)], (0.5, 0.2), (0.5, 0.8)),  # eastward: water south
        ([(0.8, 0.5), (0.5, 0.52), (0.2, 0.5)], (0.5, 0.8), (0.5, 0.2)),  # westward: water north
    ],
)
def test_water_lies_right_of_the_coastline(
    coords: list[tuple[float, float]], wet: tuple[float, float], dry: tuple[float, float]
) -> None:
    sea = sea_polygons([LineString(coords)], FRAME)
    assert len(sea) == 1
    assert sea[0].contains(Point(wet)) and not sea[0].contains(Point(dry))
    assert sea[0].area == pytest.approx(0.5, abs=0.02)


def test_an_island_ring_is_land_in_the_sea() -> None:
    # A closed coastline drawn counter-clockwise: land inside (left), water outside (right).
    ring = LineString([(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.3)])
    sea = sea_polygons([ring], FRAME)
    assert len(sea) == 1 and sea[0].contains(Point(0.1, 0.1)) and not sea[0].contains(Point(0.5, 0.5))


def test_helsinki_coastline_runs_are_real_pieces() -> None:
    runs = coastline_runs(HELSINKI)
    assert runs and all(len(r.coords) >= 2 for r in runs)
    assert all(24.93 < x < 24.96 and 60.16 < y < 60.18 for r in runs for x, y in r.coords)
