"""The sea of an extract from its own coastline ways, as a shapefile for tilemaker's "ocean" layer (tilemaker's
example reads worldwide water polygons, which are not available offline)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely
from shapely.geometry import LineString, MultiLineString, box
from shapely.ops import linemerge, nearest_points, polygonize, unary_union

EPS_DEG = 1e-7  # test points this far right/left of a coastline segment (~1 cm)


def coastline_runs(src: Path) -> list[LineString]:
    """The coastline as lines of consecutive nodes present in the extract (clipped ways stop at the edge)."""
    runs: list[LineString] = []
    fp = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for obj in fp:
        if not isinstance(obj, osmium.osm.Way) or obj.tags.get("natural") != "coastline":
            continue
        run: list[tuple[float, float]] = []
        for ref in obj.nodes:
            if ref.location.valid():
                run.append((ref.location.lon, ref.location.lat))
                continue
            if len(run) > 1:
                runs.append(LineString(run))
            run = []
        if len(run) > 1:
            runs.append(LineString(run))
    return runs


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


def write_sea(src: Path, bbox: tuple[float, float, float, float], folder: Path) -> tuple[Path | None, int]:
    """Writes folder/water_polygons.shp with the extract's sea; (None, 0) when it has no coastline."""
    runs = coastline_runs(src)
    if not runs:
        return None, 0
    polygons = sea_polygons(runs, bbox)
    if not polygons:
        return None, 0
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "water_polygons.shp"
    gpd.GeoDataFrame({"kind": ["sea"] * len(polygons)}, geometry=polygons, crs="EPSG:4326").to_file(path)
    return path, len(polygons)
