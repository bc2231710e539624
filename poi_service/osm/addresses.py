"""Addresses and named streets read from an OSM extract with pyosmium.

An address is an object with addr:housenumber and addr:street (or addr:place): a node is its own
point, a building (closed way or multipolygon) gets a point inside it (shapely point_on_surface),
an open way the middle of its line. Streets are highway ways with a name, merged per name and
municipality (osm/streets.py). Ways of a clipped extract whose nodes lie outside it have no
location for those nodes; they are counted and skipped, never guessed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import shapely
from shapely.geometry.base import BaseGeometry

from poi_service.errors import invalid
from poi_service.geocode.housenumbers import street_match_key
from poi_service.models import BBox, Point
from poi_service.osm.streets import RawAddress, RawStreet, complete, merge_streets
from poi_service.store.base import AddressPoint, Store, StreetLine

_ADDRESS_KEYS = ("addr:housenumber", "highway")
MAX_TAG_CHARS = 200  # longer addr:* values are vandalism or errors; they are cut


@dataclass
class AddressReport:
    """What an address import read, kept and skipped."""

    area: str
    addresses: int = 0
    streets: int = 0  # merged streets (name + municipality)
    street_ways: int = 0
    incomplete_ways: int = 0  # address or street ways with nodes missing from the extract: skipped
    outside: int = 0  # addresses and streets outside --bbox / --area
    filled_postcodes: int = 0  # postcodes taken from the shipped postcode gazetteer
    filled_cities: int = 0  # towns taken from the shipped boundaries (or the world gazetteer)
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)  # addresses from node / way / relation

    def lines(self) -> list[str]:
        """A human-readable summary."""
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items())) or "none"
        return [
            f"area {self.area}: {self.addresses} addresses ({kinds}), {self.streets} streets "
            f"from {self.street_ways} ways, in {self.seconds:.1f} s",
            f"  skipped: {self.incomplete_ways} incomplete ways (nodes outside the extract), "
            f"{self.outside} outside the area",
            f"  filled in: {self.filled_postcodes} postcodes, {self.filled_cities} towns (not tagged)",
        ]


@dataclass
class Extracted:
    """The raw content of one extract."""

    addresses: list[RawAddress] = field(default_factory=list)
    streets: list[RawStreet] = field(default_factory=list)
    # Closed address ways: their points are computed at the end, all at once (vectorised shapely).
    rings: list[list[tuple[float, float]]] = field(default_factory=list)
    ring_tags: list[tuple[str, str, str | None, str | None, str]] = field(default_factory=list)


def _clip(value: str | None) -> str | None:
    text = " ".join(value.split())[:MAX_TAG_CHARS] if value else ""
    return text or None


def _address_tags(tags: osmium.osm.TagList, osm: str) -> tuple[str, str, str | None, str | None, str] | None:
    """(street, number, postcode, city, osm) of an address, None without a usable street and number."""
    number = _clip(tags.get("addr:housenumber"))
    street = _clip(tags.get("addr:street")) or _clip(tags.get("addr:place"))
    if number is None or street is None or not street_match_key(street):
        return None
    return street, number, _clip(tags.get("addr:postcode")), _clip(tags.get("addr:city")), osm


def _raw_address(tags: osmium.osm.TagList, point: Point, osm: str) -> RawAddress | None:
    found = _address_tags(tags, osm)
    if found is None:
        return None
    street, number, postcode, city, _ = found
    return RawAddress(street, number, point, postcode, city, osm)


def _inside(geometry: BaseGeometry) -> Point:
    p = geometry.point_on_surface()
    return Point(p.x, p.y)


def read_extract(path: Path, report: AddressReport) -> Extracted:
    """Every address and named street way of the extract (locations resolved, incomplete ways counted)."""
    if not path.is_file():
        raise invalid("extract", f"no such file: {path}")
    out = Extracted()
    # Locations are kept for every node; only objects with these keys reach Python (most nodes have none).
    processor = osmium.FileProcessor(str(path)).with_locations().with_areas()
    processor = processor.with_filter(osmium.filter.KeyFilter(*_ADDRESS_KEYS))
    try:
        for obj in processor:
            if isinstance(obj, osmium.osm.Node):
                if "addr:housenumber" in obj.tags and obj.location.valid():
                    found = _raw_address(obj.tags, Point(obj.location.lon, obj.location.lat), f"n{obj.id}")
                    _keep(out, found)
            elif isinstance(obj, osmium.osm.Way):
                _way(obj, out, report)
            elif isinstance(obj, osmium.osm.Area) and not obj.from_way() and "addr:housenumber" in obj.tags:
                # Multipolygon buildings; closed ways are handled as ways (their incomplete ones counted).
                geom = shapely.from_wkb(_WKB.create_multipolygon(obj))
                _keep(out, _raw_address(obj.tags, _inside(geom), f"r{obj.orig_id()}"))
    except RuntimeError as exc:  # libosmium's message for a file that is not OSM data
        raise invalid("extract", f"cannot read {path.name} as an OSM extract: {exc}") from exc
    for (street, number, postcode, city, osm), point in zip(
        out.ring_tags, _inside_rings(out.rings), strict=True
    ):
        out.addresses.append(RawAddress(street, number, point, postcode, city, osm))
    out.rings, out.ring_tags = [], []
    return out


def _inside_rings(rings: list[list[tuple[float, float]]]) -> list[Point]:
    """A point inside each closed ring (point_on_surface; invalid rings made valid first), vectorised."""
    if not rings:
        return []
    ring_offsets = np.zeros(len(rings) + 1, dtype=np.int64)
    ring_offsets[1:] = np.cumsum([len(r) for r in rings])
    coords = np.array([c for r in rings for c in r], dtype=np.float64)
    polygons = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (ring_offsets, np.arange(len(rings) + 1, dtype=np.int64))
    )
    bad = ~shapely.is_valid(polygons)
    if bad.any():
        polygons[bad] = shapely.make_valid(polygons[bad])
    points = shapely.point_on_surface(polygons)
    return [
        Point(float(x), float(y)) for x, y in zip(shapely.get_x(points), shapely.get_y(points), strict=True)
    ]


_WKB = osmium.geom.WKBFactory()


def _keep(out: Extracted, found: RawAddress | None) -> None:
    if found is not None:
        out.addresses.append(found)


def _way(way: osmium.osm.Way, out: Extracted, report: AddressReport) -> None:
    tags = way.tags
    is_address = "addr:housenumber" in tags
    name = _clip(tags.get("name")) if "highway" in tags else None
    if not is_address and name is None:
        return
    if not all(n.location.valid() for n in way.nodes) or len(way.nodes) < 2:
        report.incomplete_ways += 1
        return
    coords = [(n.location.lon, n.location.lat) for n in way.nodes]
    if is_address:
        found = _address_tags(tags, f"w{way.id}")
        if found is not None and way.is_closed() and len(coords) >= 4:
            out.rings.append(coords)
            out.ring_tags.append(found)
        elif found is not None:
            _keep(out, _raw_address(tags, _middle(shapely.LineString(coords)), f"w{way.id}"))
    if name is not None and street_match_key(name):
        out.streets.append(RawStreet(name, shapely.LineString(coords)))
        report.street_ways += 1


def _middle(line: BaseGeometry) -> Point:
    p = line.interpolate(0.5, normalized=True)
    return Point(p.x, p.y)


def _parse_bbox(bbox: BBox | None) -> BaseGeometry | None:
    return shapely.box(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy) if bbox is not None else None


def build_index(
    path: Path, data_dir: Path, *, bbox: BBox | None = None, area: str | None = None
) -> tuple[list[AddressPoint], list[StreetLine], AddressReport]:
    """Reads, filters (bbox, area), completes (postcode, town, municipality) and merges an extract."""
    from poi_service.boundaries import Boundaries

    started = time.perf_counter()
    shape = _parse_bbox(bbox)
    label = path.name.removesuffix(".pbf").removesuffix(".osm").removesuffix(".o5m")
    if area is not None:
        found = Boundaries.load(data_dir).resolve(area)
        shape = found.geometry if shape is None else shape.intersection(found.geometry)
        label = found.ags
    report = AddressReport(label)
    raw = read_extract(path, report)
    if shape is not None:
        shapely.prepare(shape)
        kept = [a for a in raw.addresses if shape.covers(shapely.Point(a.point.lon, a.point.lat))]
        streets = [s for s in raw.streets if shape.intersects(s.line)]
        report.outside = len(raw.addresses) - len(kept) + len(raw.streets) - len(streets)
        raw = Extracted(kept, streets)
    for a in raw.addresses:
        kind = {"n": "node", "w": "way", "r": "relation"}[a.osm[0]]
        report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
    addresses = complete(raw.addresses, data_dir, report)
    streets_out = merge_streets(raw.streets, addresses, data_dir)
    report.addresses, report.streets = len(addresses), len(streets_out)
    report.seconds = time.perf_counter() - started
    return addresses, streets_out, report


def import_addresses(
    store: Store,
    path: Path,
    *,
    bbox: BBox | None = None,
    area: str | None = None,
    data_dir: Path | None = None,
) -> AddressReport:
    """Builds the address index of an extract (or of its part in bbox / area) and replaces that area's
    rows in the store in one transaction. The area key is the AGS of --area, else the file name."""
    started = time.perf_counter()
    directory = data_dir if data_dir is not None else Path(getattr(store, "data_dir", "data"))
    addresses, streets, report = build_index(path, directory, bbox=bbox, area=area)
    store.addresses.replace_area(report.area, addresses, streets)
    report.seconds = time.perf_counter() - started
    return report
