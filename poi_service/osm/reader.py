"""OSM files (PBF extracts, .osc change files) to candidate places, with pyosmium.

Only objects carrying a key the mapping starts with reach Python (osmium's KeyFilter runs in C++
after the node-location cache has seen every node). Nodes are placed where they are; closed ways at
shapely's point_on_surface of their polygon (inside it, never outside); open ways at the middle of
their line; multipolygon relations at the point_on_surface of the area osmium assembles. Ways with
node references outside the file (a clipped extract) and relations osmium cannot assemble are
reported as incomplete geometry, not an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium
import shapely

from poi_service.errors import ImportFailed
from poi_service.osm.mapping import TagMapping

KINDS = {"n": "node", "w": "way", "r": "relation"}


@dataclass(slots=True)
class Candidate:
    """One OSM object that may become (or stop being) a place."""

    kind: str  # node, way, relation
    id: int
    version: int | None
    timestamp: str | None  # RFC 3339 UTC
    tags: dict[str, str]
    point: tuple[float, float] | None  # (lon, lat); None when the geometry is incomplete
    deleted: bool = False  # a delete in a change file

    @property
    def key(self) -> str:
        """The external key of its place: 'osm:node/123'."""
        return f"osm:{self.kind}/{self.id}"


@dataclass(slots=True)
class Header:
    """What an extract's header says: its bounding boxes and replication state."""

    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    sequence: int | None = None
    timestamp: str | None = None
    url: str | None = None


@dataclass(slots=True)
class ReadStats:
    """Objects seen in Python per kind (those with a mapped key) and unsupported geometries."""

    seen: Counter[str] = field(default_factory=Counter)
    unsupported: int = 0  # tagged relations that are no multipolygon


def read_header(path: Path) -> Header:
    """The header of an OSM file; ImportFailed when osmium cannot read it."""
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.NOTHING)
        try:
            h = reader.header()
            header = Header()
            box = h.box()
            if box.valid():
                header.boxes.append(
                    (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
                )
            seq = h.get("osmosis_replication_sequence_number", "")
            header.sequence = int(seq) if seq.isdigit() else None
            header.timestamp = str(h.get("osmosis_replication_timestamp", "")) or None
            header.url = str(h.get("osmosis_replication_base_url", "")) or None
        finally:
            reader.close()
    except RuntimeError as exc:
        raise ImportFailed(f"{path.name}: not a readable OSM file ({exc})") from exc
    return header


def _timestamp(obj: Any) -> str | None:
    ts = obj.timestamp
    if ts is None or ts.year < 2000:  # files without metadata carry the epoch
        return None
    return str(ts.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _version(obj: Any) -> int | None:
    return int(obj.version) if obj.version > 0 else None


def _way_point(way: Any) -> tuple[float, float] | None:
    coords = []
    for n in way.nodes:
        loc = n.location
        if not loc.valid():
            return None
        coords.append((loc.lon, loc.lat))
    if len(coords) < 2:
        return None
    if way.is_closed() and len(coords) >= 4:
        geom = shapely.Polygon(coords)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if not geom.is_empty and geom.area > 0:
            p = geom.point_on_surface()
            return (p.x, p.y)
    line = shapely.LineString(coords)
    p = line.interpolate(0.5, normalized=True)
    return (p.x, p.y)


def read_objects(
    path: Path, mapping: TagMapping, stats: ReadStats, *, changes: bool = False
) -> Iterator[Candidate]:
    """Candidates of every object with a mapped key (and, in a change file, every delete).

    Relations come last, once osmium has assembled their areas. ImportFailed when the file is not
    an OSM file or breaks off (a truncated PBF).
    """
    wkb = osmium.geom.WKBFactory()
    keys = sorted(mapping.keys)
    # A native filter for extracts (millions of objects); deletes carry no tags, so change files
    # (small) go through a Python one that also lets deletes pass.
    keep: Any = _Changes(keys) if changes else osmium.filter.KeyFilter(*keys)
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*keys))
        .with_filter(keep)
    )
    relations: list[Candidate] = []
    area_points: dict[int, tuple[float, float]] = {}
    try:
        obj: Any
        for obj in processor:
            if obj.is_area():
                if not obj.from_way():  # closed ways are placed from their own nodes
                    point = _area_point(wkb, obj)
                    if point is not None:
                        area_points[obj.orig_id()] = point
                continue
            kind = "node" if obj.is_node() else "way" if obj.is_way() else "relation"
            stats.seen[kind] += 1
            tags = {t.k: t.v for t in obj.tags}
            cand = Candidate(kind, obj.id, _version(obj), _timestamp(obj), tags, None, obj.deleted)
            if obj.deleted:
                yield cand
            elif kind == "node":
                loc = obj.location
                cand.point = (loc.lon, loc.lat) if loc.valid() else None
                yield cand
            elif kind == "way":
                cand.point = _way_point(obj)
                yield cand
            elif tags.get("type") in ("multipolygon", "boundary"):
                relations.append(cand)
            else:
                stats.unsupported += 1
    except RuntimeError as exc:
        raise ImportFailed(f"{path.name}: cannot read the OSM data ({exc})") from exc
    for rel in relations:  # without an assembled area: incomplete geometry
        rel.point = area_points.get(rel.id)
        yield rel


def _area_point(wkb: Any, area: Any) -> tuple[float, float] | None:
    try:
        geom = shapely.from_wkb(wkb.create_multipolygon(area))
    except (RuntimeError, shapely.errors.GEOSException):
        return None
    if geom.is_empty:
        return None
    p = geom.point_on_surface()
    return (p.x, p.y)


class _Changes:
    """Passes objects with a mapped key, every delete of a change file (deletes carry no tags) and
    every object with a placeholder id."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = frozenset(keys)

    def _keep(self, obj: Any) -> bool:
        if obj.deleted or obj.id <= 0:  # placeholder ids are refused by the caller
            return False
        return not any(t.k in self._keys for t in obj.tags)

    def node(self, n: Any) -> bool:
        """True drops the node."""
        return self._keep(n)

    def way(self, w: Any) -> bool:
        """True drops the way."""
        return self._keep(w)

    def relation(self, r: Any) -> bool:
        """True drops the relation."""
        return self._keep(r)

    def area(self, a: Any) -> bool:
        """True drops the area."""
        return not any(t.k in self._keys for t in a.tags)
