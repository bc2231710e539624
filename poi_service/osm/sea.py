"""The sea of an extract from its own coastline ways, and the clipped parts of lakes that cross the extract's
edge, as a shapefile for tilemaker's "ocean" layer (tilemaker's example reads worldwide water polygons, which
are not available offline; lakes with nodes outside the extract are dropped from the cleaned copy)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmium.filter
import shapely
from shapely.geometry import LinearRing, LineString, MultiLineString, box
from shapely.ops import linemerge, nearest_points, polygonize, unary_union

EPS_DEG = 1e-7  # test points this far right/left of a coastline segment (~1 cm)


def _runs(way: osmium.osm.Way) -> list[list[tuple[float, float]]]:
    """Lines of consecutive nodes of the way that are present in the extract."""
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for ref in way.nodes:
        if ref.location.valid():
            run.append((ref.location.lon, ref.location.lat))
            continue
        if len(run) > 1:
            runs.append(run)
        run = []
    if len(run) > 1:
        runs.append(run)
    return runs


def _is_water_area(tags: osmium.osm.TagList) -> bool:
    return (
        tags.get("natural") in ("water", "bay")
        or tags.get("waterway") == "riverbank"
        or tags.get("landuse") in ("reservoir", "basin")
    ) and tags.get("covered") != "yes"


class WaterRuns:
    """The coastline's runs, and per lake (closed water way) cut by the extract's edge its runs, oriented so
    that the water lies on their right as on a coastline; fed way by way (ways with node locations)."""

    def __init__(self) -> None:
        self.coast: list[LineString] = []
        self.lakes: list[list[LineString]] = []

    def add(self, way: osmium.osm.Way, complete: bool) -> None:
        """Takes the way if it is coastline, or a water area with nodes outside the extract."""
        if way.tags.get("natural") == "coastline":
            self.coast.extend(LineString(r) for r in _runs(way))
            return
        if complete or not (_is_water_area(way.tags) and way.is_closed()):
            return  # tilemaker draws complete areas itself
        runs = _runs(way)
        present = [c for r in runs for c in r]
        if len(present) < 3:
            return
        # The ring's turning sense, from the nodes that are here; water is inside, so on the left of a
        # counter-clockwise ring: reversed, it lies on the right as the sea does of a coastline.
        ccw = LinearRing(present).is_ccw
        self.lakes.append([LineString(r[::-1] if ccw else r) for r in runs])


def water_runs(src: Path) -> WaterRuns:
    """WaterRuns of every way of the extract."""
    found = WaterRuns()
    fp = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for way in fp.with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)):
        if isinstance(way, osmium.osm.Way):
            found.add(way, all(r.location.valid() for r in way.nodes))
    return found


def coastline_runs(src: Path) -> list[LineString]:
    """The coastline as lines of consecutive nodes present in the extract (clipped ways stop at the edge)."""
    return water_runs(src).coast


def sea_polygons(runs: list[LineString], bbox: tuple[float, float, float, float]) -> list[shapely.Polygon]:
    """The faces of the bbox cut by the coastline that lie on its right side (OSM: land left, water right)."""
    frame = box(*bbox)
    merged = linemerge(runs)
    lines = list(merged.geoms) if isinstance(merged, MultiLineString) else [merged]
    cut = []
    for line in lines:
        coords = list(line.coords)
        if coords[0] != coords[-1]:  # an open end was clipped: continue it straight to the frame
            start = nearest_points(frame.exterior, shapely.Point(coords[0]))[0]
            end = nearest_points(frame.exterior, shapely.Point(coords[-1]))[0]
            coords = [(start.x, start.y), *coords, (end.x, end.y)]
        cut.append(LineString(coords))
    faces = list(polygonize(unary_union([*cut, frame.exterior])))
    starts = np.concatenate([np.asarray(line.coords)[:-1] for line in lines])
    ends = np.concatenate([np.asarray(line.coords)[1:] for line in lines])
    mid = (starts + ends) / 2
    d = ends - starts
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 0
    right = np.stack([d[ok, 1], -d[ok, 0]], axis=1) / length[ok, None] * EPS_DEG
    water_pts, land_pts = mid[ok] + right, mid[ok] - right
    sea = []
    for face in faces:
        wet = int(np.count_nonzero(shapely.contains_xy(face, water_pts[:, 0], water_pts[:, 1])))
        dry = int(np.count_nonzero(shapely.contains_xy(face, land_pts[:, 0], land_pts[:, 1])))
        if wet > dry:
            sea.append(face)
    return sea


def write_sea(
    water: WaterRuns, bbox: tuple[float, float, float, float], folder: Path
) -> tuple[Path | None, int]:
    """Writes folder/water_polygons.shp with the extract's sea and clipped lakes; (None, 0) without either."""
    coast, lakes = water.coast, water.lakes
    polygons = sea_polygons(coast, bbox) if coast else []
    kinds = ["sea"] * len(polygons)
    for runs in lakes:
        found = sea_polygons(runs, bbox)
        polygons.extend(found)
        kinds.extend(["lake"] * len(found))
    if not polygons:
        return None, 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "water_polygons.shp"
    gpd.GeoDataFrame({"kind": kinds}, geometry=polygons, crs="EPSG:4326").to_file(path)
    return path, len(polygons)
