"""The offline vector basemap: the shipped state, district and municipality boundaries as compact GeoJSON
(simplified to about a pixel at the zoom levels each is shown at, coordinates rounded, two properties)."""

from __future__ import annotations

import gzip
import logging
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import shapely

from poi_service.boundaries import Level, level_areas

# (simplification tolerance in degrees, decimals kept): states are drawn below zoom 7, districts at
# 7-9, municipalities from zoom 10 (where one pixel is about 100 m).
DETAIL: dict[Level, tuple[float, int]] = {
    Level.STATE: (0.01, 3),
    Level.DISTRICT: (0.004, 3),
    Level.MUNICIPALITY: (0.001, 3),
}
MAX_MUNICIPALITY_BOX_DEG2 = 6.0  # a bbox query larger than this is refused (zoom in instead)


@dataclass(frozen=True)
class Layer:
    """Compact features of one level (each already serialised), with their bounds for bbox queries."""

    features: list[bytes]
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy
    body: bytes
    body_gz: bytes


def collection(features: list[bytes]) -> bytes:
    """A FeatureCollection of serialised features."""
    return b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]}"


_lock = threading.Lock()


@cache
def _layer(data_dir: Path, level: Level) -> Layer:
    tolerance, decimals = DETAIL[level]
    areas = level_areas(data_dir, level)
    simple = shapely.simplify(
        np.array([a.geometry for a in areas], dtype=object), tolerance, preserve_topology=True
    )
    rounded = shapely.transform(simple, lambda c: np.round(c, decimals))
    geojson = shapely.to_geojson(rounded)
    labels = shapely.point_on_surface(simple)
    lx, ly = np.round(shapely.get_x(labels), 4).tolist(), np.round(shapely.get_y(labels), 4).tolist()
    area = np.round(shapely.area(simple), 5).tolist()
    features = []
    for i, a in enumerate(areas):
        # lp: where the name label goes; a: area in square degrees (bigger areas win label collisions)
        props = orjson.dumps({"ags": a.ags, "name": a.name, "lp": [lx[i], ly[i]], "a": area[i]})
        features.append(
            b'{"type":"Feature","properties":' + props + b',"geometry":' + geojson[i].encode() + b"}"
        )
    body = collection(features)
    return Layer(features, shapely.bounds(simple), body, gzip.compress(body, 6))


def layer(data_dir: Path, level: Level) -> Layer:
    """The compact layer of one level (computed once per process, under a second after the boundaries)."""
    with _lock:
        return _layer(data_dir.resolve(), level)


def within(data_dir: Path, level: Level, bbox: tuple[float, float, float, float]) -> tuple[bytes, int]:
    """A FeatureCollection of the features whose bounds meet bbox (minx, miny, maxx, maxy), and their count."""
    lay = layer(data_dir, level)
    b = lay.bounds
    hit = (b[:, 0] <= bbox[2]) & (b[:, 2] >= bbox[0]) & (b[:, 1] <= bbox[3]) & (b[:, 3] >= bbox[1])
    picked = [lay.features[i] for i in np.flatnonzero(hit).tolist()]
    return collection(picked), len(picked)


_warming: set[tuple[Path, Level]] = set()
_warming_lock = threading.Lock()  # not _lock: that one is held while a layer is computed


def warm(data_dir: Path, levels: tuple[Level, ...]) -> None:
    """Computes levels in a background thread, each once per process, so no visitor waits for them.
    The server warms states at startup (50 ms), districts when states are first asked for and
    municipalities (1.5 s of CPU, drawn from zoom 10) when districts are: all three at startup would
    compete with the first visitor's requests for the interpreter."""
    with _warming_lock:
        todo = tuple(level for level in levels if (data_dir, level) not in _warming)
        _warming.update((data_dir, level) for level in todo)
    if not todo:
        return

    def run() -> None:
        try:
            for level in todo:
                layer(data_dir, level)
        except Exception:
            logging.getLogger("poi_service.maps").warning("basemap warm-up failed", exc_info=True)

    threading.Thread(target=run, name="poi-maps-basemap", daemon=True).start()
