"""`osm import` and `osm update`: an extract or a change file to places, atomically.

An import reads the whole extract first (nothing is written while reading, so a broken file
leaves the store as it was), then writes every change in one transaction together with the
extract's replication state and the imported area (the scope that later updates keep to).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from poi_service.boundaries import Boundaries
from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed, invalid
from poi_service.models import BBox, Place, PlaceData
from poi_service.osm.mapping import load_mapping
from poi_service.osm.places import INCOMPLETE, Builder
from poi_service.osm.reader import Candidate, Header, ReadStats, read_header, read_objects
from poi_service.osm.sync import Outcome, Scope, apply, live_osm
from poi_service.store import Store

REPLICATION_META = "osm.replication"  # {"sequence", "timestamp", "url"} of the data applied last
# The areas imported so far, a list of {"area": AGS or null, "bbox": [minx, miny, maxx, maxy] or null,
# "boxes": [the extract's bounds]}: updates keep to their union.
SCOPE_META = "osm.scope"


@dataclass(slots=True)
class OsmReport:
    """What an import or update did (or, on a dry run, would do)."""

    path: str
    dry_run: bool
    outcome: Outcome
    read: dict[str, int]  # objects with a mapped key, per kind
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> objects
    invalid_fields: Counter[str] = field(default_factory=Counter)  # field -> values dropped
    outside: int = 0  # places outside the area or bbox (not imported)
    replication: dict[str, object] | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (for --json)."""
        o = self.outcome
        return {
            "path": self.path,
            "dry_run": self.dry_run,
            "new": o.new,
            "updated": o.updated,
            "unchanged": o.unchanged,
            "deleted": o.deleted,
            "conflicts": o.conflicts,
            "conflict_keys": o.conflict_keys,
            "unknown": o.unknown,
            "skipped": dict(self.skipped),
            "invalid_fields": dict(self.invalid_fields),
            "outside": self.outside,
            "read": self.read,
            "replication": self.replication,
        }


@dataclass(frozen=True, slots=True)
class Options:
    """What every run needs besides its file."""

    vocabulary: Vocabulary
    data_dir: Path
    mapping_files: tuple[Path, ...] = ()
    dry_run: bool = False


def parse_bbox(text: str) -> BBox:
    """'minx,miny,maxx,maxy' in degrees."""
    try:
        parts = [float(p) for p in text.split(",")]
        if len(parts) != 4:
            raise ValueError("four numbers")
        return BBox(*parts)
    except ValueError as exc:
        raise invalid("bbox", f"give minx,miny,maxx,maxy in degrees ({exc})") from exc


def _clip(
    opts: Options, area: str | None, bbox: BBox | None
) -> tuple[BaseGeometry | None, dict[str, object]]:
    """The clip geometry of --area and --bbox (both: their intersection) and its description."""
    geom: BaseGeometry | None = None
    described: dict[str, object] = {"area": None, "bbox": None}
    if area is not None:
        found = Boundaries.load(opts.data_dir).resolve(area)
        geom = found.geometry
        described["area"] = found.ags
    if bbox is not None:
        box = shapely.box(bbox.minx, bbox.miny, bbox.maxx, bbox.maxy)
        geom = box if geom is None else geom.intersection(box)
        described["bbox"] = [bbox.minx, bbox.miny, bbox.maxx, bbox.maxy]
    return geom, described


def scope_geometry(described: dict[str, object], data_dir: Path) -> BaseGeometry | None:
    """The geometry a stored scope describes (None: everywhere)."""
    geom: BaseGeometry | None = None
    area, bbox, boxes = described.get("area"), described.get("bbox"), described.get("boxes")
    if isinstance(area, str):
        found = Boundaries.load(data_dir).get(area)
        geom = found.geometry if found else None
    if isinstance(bbox, list) and len(bbox) == 4:
        box = shapely.box(*bbox)
        geom = box if geom is None else geom.intersection(box)
    if geom is None and isinstance(boxes, list) and boxes:
        geom = shapely.union_all([shapely.box(*b) for b in boxes])
    return geom


def _with_ags(places: list[PlaceData], data_dir: Path) -> list[PlaceData]:
    """Places with the municipality key of their point (None outside Germany)."""
    if not places:
        return []
    lons = np.array([p.point.lon for p in places])
    lats = np.array([p.point.lat for p in places])
    keys = Boundaries.load(data_dir).municipality_ags(lons, lats)
    return [replace(p, address=replace(p.address, ags=a)) for p, a in zip(places, keys, strict=True)]


def _inside(geom: BaseGeometry | None, point: tuple[float, float]) -> bool:
    if geom is None:
        return True
    return bool(shapely.intersects_xy(geom, point[0], point[1]))


def _replication(header: Header) -> dict[str, object]:
    return {"sequence": header.sequence, "timestamp": header.timestamp, "url": header.url}


def import_extract(
    store: Store, path: Path, opts: Options, *, area: str | None = None, bbox: BBox | None = None
) -> OsmReport:
    """Imports the places of an extract (within --area / --bbox); one transaction."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    header = read_header(path)
    clip, described = _clip(opts, area, bbox)
    if clip is not None:
        shapely.prepare(clip)
    # Deletions apply where this import looked: the clip, else the extract's own bounds.
    described["boxes"] = [list(b) for b in header.boxes]
    scope = Scope(clip if clip is not None else scope_geometry({"boxes": described["boxes"]}, opts.data_dir))
    builder = Builder(load_mapping(opts.vocabulary, opts.mapping_files), opts.vocabulary, datetime.now(UTC))
    stats = ReadStats()
    report = OsmReport(str(path), opts.dry_run, Outcome(), {})
    built: list[PlaceData] = []
    keep: set[str] = set()  # objects that exist but could not be placed: never deleted for that
    for cand in read_objects(path, builder.mapping, stats):
        if cand.point is not None and not _inside(clip, cand.point):
            report.outside += builder.category(cand) is not None
            continue
        result = builder.build(cand, report.invalid_fields)
        if isinstance(result, str):
            report.skipped[result] += 1
            if result == INCOMPLETE:
                keep.add(cand.key)
            continue
        built.append(result)
    if stats.unsupported:
        report.skipped["unsupported geometry"] += stats.unsupported
    report.read = dict(stats.seen)
    incoming = {p.external_key: p for p in _with_ags(built, opts.data_dir) if p.external_key}
    live = live_osm(store)
    gone = _gone(live, incoming.keys() | keep, scope)
    report.replication = _replication(header)
    scopes = [d for d in _scopes(store) if d != described] + [described]
    meta = {REPLICATION_META: json.dumps(report.replication), SCOPE_META: json.dumps(scopes)}
    report.outcome = apply(store, incoming, gone, dry_run=opts.dry_run, live=live, meta=meta)
    return report


def _gone(live: dict[str, Place], present: Iterable[str], scope: Scope) -> list[str]:
    """Live OSM records inside the scope that the extract no longer has as places."""
    present = set(present)
    missing = [(k, r) for k, r in live.items() if k not in present]
    if not missing:
        return []
    lons = np.array([r.point.lon for _, r in missing])
    lats = np.array([r.point.lat for _, r in missing])
    inside = scope.contains(lons, lats)
    return [k for (k, _), yes in zip(missing, inside.tolist(), strict=True) if yes]


def _scopes(store: Store) -> list[dict[str, object]]:
    text = store.meta_get(SCOPE_META)
    value = json.loads(text) if text else []
    return [value] if isinstance(value, dict) else [v for v in value if isinstance(v, dict)]


def stored_scope(store: Store, data_dir: Path) -> BaseGeometry | None:
    """The union of the areas imported so far (None: everywhere, or nothing imported yet)."""
    parts = [scope_geometry(d, data_dir) for d in _scopes(store)]
    if not parts or any(p is None for p in parts):
        return None
    geom = shapely.union_all(parts)
    shapely.prepare(geom)
    return geom


def apply_changes(
    store: Store, path: Path, opts: Options, *, replication: Mapping[str, object] | None = None
) -> OsmReport:
    """Applies an OSM change file (.osc, .osc.gz) in one transaction, within the imported area.

    Creates and modifies become places (or stop being places); deletes remove the records; deletes
    of objects the store does not hold are counted as unknown. Ways whose nodes the change file
    does not carry keep their stored point (their tags still apply). replication: the state to
    record with the changes (replication runs).
    """
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    builder = Builder(load_mapping(opts.vocabulary, opts.mapping_files), opts.vocabulary, datetime.now(UTC))
    stats = ReadStats()
    latest: dict[str, Candidate] = {}
    for cand in read_objects(path, builder.mapping, stats, changes=True):
        if cand.id <= 0:
            raise ImportFailed(
                f"{path.name}: {cand.kind} {cand.id} has a placeholder id (not uploaded to OpenStreetMap): "
                "apply only change files of OpenStreetMap's own data"
            )
        known = latest.get(cand.key)
        if known is None or (cand.version or 0) >= (known.version or 0):
            latest[cand.key] = cand
    scope = stored_scope(store, opts.data_dir)
    # Only the records the file names (a diff touches a few of many thousands).
    stored_all = store.places.find_keys(latest)
    live = {k: r for k, r in stored_all.items() if r.deleted_at is None}
    report = OsmReport(str(path), opts.dry_run, Outcome(), dict(stats.seen))
    built: list[PlaceData] = []
    gone: list[str] = []
    for key, cand in latest.items():
        stored = live.get(key)
        if cand.deleted:
            gone.append(key)
            continue
        if cand.point is None and stored is not None:
            cand.point = (stored.point.lon, stored.point.lat)
        if cand.point is not None and not _inside(scope, cand.point):
            if stored is not None:
                gone.append(key)  # moved out of the imported area
            else:
                report.outside += builder.category(cand) is not None
            continue
        result = builder.build(cand, report.invalid_fields)
        if isinstance(result, str):
            report.skipped[result] += 1
            if stored is not None and result != INCOMPLETE:
                gone.append(key)  # no longer a place
            continue
        built.append(result)
    incoming = {p.external_key: p for p in _with_ags(built, opts.data_dir) if p.external_key}
    meta = {REPLICATION_META: json.dumps(replication)} if replication is not None else None
    report.replication = dict(replication) if replication is not None else None
    report.outcome = apply(
        store, incoming, gone, dry_run=opts.dry_run, live=live, meta=meta, stored=stored_all
    )
    return report
