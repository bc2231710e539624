"""Street basemap tiles: an OpenStreetMap extract to vector tiles (OpenMapTiles schema) in an MBTiles file,
built by Debian's tilemaker with the config and Lua profile shipped in poi_service/osm/tilemaker/."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import osmium
from osmium.filter import EntityFilter, IdFilter

from poi_service.errors import InvalidInput, PoiError
from poi_service.osm.sea import WaterRuns, write_sea

PROFILE = Path(__file__).with_name("tilemaker")
INSTALL_HINT = "install it with `apt-get install tilemaker` (Debian/Ubuntu) or run scripts/tiles-install.sh"
Bbox = tuple[float, float, float, float]  # minx, miny, maxx, maxy


class TilesFailed(PoiError):
    """The tile build could not run or failed; nothing was written."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 422, "tiles-failed", "Tile build failed")


@dataclass(frozen=True, slots=True)
class CleanStats:
    """What the cleaned copy kept and dropped, and the extent of its ways' nodes (when measured)."""

    ways: int
    relations: int
    dropped_ways: int
    dropped_relations: int
    bbox: Bbox | None


@dataclass(frozen=True, slots=True)
class TilesReport:
    """The result of a build: the MBTiles file, its size, what was cleaned, and the time taken."""

    out: Path
    size_bytes: int
    tiles: int
    bbox: Bbox
    clean: CleanStats
    sea_polygons: int
    seconds: float
    phases: dict[str, float]  # seconds of clean, sea and tilemaker


def tilemaker_path() -> str:
    """The tilemaker executable, or TilesFailed saying how to install it."""
    found = shutil.which("tilemaker")
    if found is None:
        raise TilesFailed(f"tilemaker is not installed; {INSTALL_HINT}")
    return found


def clean_extract(
    src: Path, dst: Path, water: WaterRuns | None = None, need_bbox: bool = False
) -> CleanStats:
    """Copies src to dst without ways that miss nodes and relations that miss members (tilemaker stops on
    them; clipped extracts always have some); feeds every way to `water`; with need_bbox measures the
    extent of the ways' nodes. Nodes stay in libosmium (C++): only ways and relations reach Python."""
    ways: set[int] = set()
    dropped_ways = 0
    bounds = [180.0, 90.0, -180.0, -90.0]
    fp = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    for w in fp.with_filter(EntityFilter(osmium.osm.WAY)):
        if not isinstance(w, osmium.osm.Way):
            continue
        complete = all(r.location.valid() for r in w.nodes)
        if water is not None:
            water.add(w, complete)
        if not complete:
            dropped_ways += 1
            continue
        ways.add(w.id)
        if need_bbox:
            for r in w.nodes:
                lon, lat = r.location.lon, r.location.lat
                bounds = [min(bounds[0], lon), min(bounds[1], lat), max(bounds[2], lon), max(bounds[3], lat)]
    candidates: list[tuple[int, list[int]]] = []  # relations whose ways are all here, with their nodes
    total_relations = 0
    for rel in osmium.FileProcessor(str(src), osmium.osm.RELATION):
        if not isinstance(rel, osmium.osm.Relation):
            continue
        total_relations += 1
        if all(m.ref in ways for m in rel.members if m.type == "w"):  # relation members: kept
            candidates.append((rel.id, [m.ref for m in rel.members if m.type == "n"]))
    wanted = {n for _, nodes in candidates for n in nodes}
    present: set[int] = set()
    if wanted:
        present = {
            n.id for n in osmium.FileProcessor(str(src), osmium.osm.NODE).with_filter(IdFilter(wanted))
        }
    relations = {rid for rid, nodes in candidates if all(n in present for n in nodes)}
    if not ways and not relations and not any(True for _ in osmium.FileProcessor(str(src), osmium.osm.NODE)):
        raise InvalidInput(f"{src.name} holds no OpenStreetMap data: nothing to draw")
    way_filter, relation_filter = IdFilter(ways), IdFilter(relations)
    way_filter.enable_for(osmium.osm.WAY)
    relation_filter.enable_for(osmium.osm.RELATION)
    writer = osmium.SimpleWriter(str(dst), overwrite=True)
    try:  # filtered and written in C++
        osmium.apply(str(src), way_filter, relation_filter, writer)
    finally:
        writer.close()
    bbox = (bounds[0], bounds[1], bounds[2], bounds[3]) if need_bbox and ways else None
    return CleanStats(len(ways), len(relations), dropped_ways, total_relations - len(relations), bbox)


def header_bbox(src: Path) -> Bbox | None:
    """The bounding box in the extract's header (Geofabrik and osmium extracts carry one), or None."""
    box = osmium.io.Reader(str(src), osmium.osm.osm_entity_bits.NOTHING).header().box()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def check_bbox(bbox: Bbox) -> Bbox:
    """A bbox in degrees with min < max, or InvalidInput."""
    minx, miny, maxx, maxy = bbox
    if not (-180 <= minx < maxx <= 180 and -85.06 <= miny < maxy <= 85.06):
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat with min < max, within Web Mercator")
    return bbox


def _config(work: Path, sea: Path | None) -> Path:
    config = json.loads((PROFILE / "config.json").read_text(encoding="utf-8"))
    if sea is not None:  # the extract's own sea, where tilemaker's example reads Natural Earth/OSMData
        config["layers"]["ocean"] = {
            "minzoom": 0,
            "maxzoom": 14,
            "source": str(sea),
            "write_to": "water",
            "source_columns": ["kind"],
            "simplify_below": 13,
            "simplify_level": 0.0001,
            "simplify_ratio": 2,
        }
    path = work / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def build_tiles(src: Path, out: Path, bbox: Bbox | None = None, threads: int = 0) -> TilesReport:
    """Builds out (MBTiles) from the extract src; the file appears only when the build succeeded."""
    started = time.perf_counter()
    exe = tilemaker_path()
    if not src.is_file():
        raise InvalidInput(f"no such extract: {src}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="poi-tiles-", dir=out.parent) as tmp:
        work = Path(tmp)
        cleaned = work / "clean.osm.pbf"
        try:  # libosmium's errors for unreadable or truncated files
            header = header_bbox(src)
            water = WaterRuns()
            stats = clean_extract(src, cleaned, water, need_bbox=bbox is None and header is None)
        except RuntimeError as exc:
            raise InvalidInput(f"{src.name} is not a readable OSM PBF/XML extract: {exc}") from None
        t_clean = time.perf_counter()
        box = check_bbox(bbox or header or stats.bbox or (0.0, 0.0, 0.0, 0.0))
        sea_file, sea_count = write_sea(water, box, work / "sea")
        t_sea = time.perf_counter()
        target = work / "tiles.mbtiles"
        cmd = [
            exe,
            "--input",
            str(cleaned),
            "--output",
            str(target),
            "--config",
            str(_config(work, sea_file)),
            "--process",
            str(PROFILE / "process.lua"),
            "--bbox",
            ",".join(f"{v:.7f}" for v in box),
        ]
        if threads:
            cmd += ["--threads", str(threads)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not target.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise TilesFailed(f"tilemaker failed (exit {proc.returncode}): {tail}")
        t_tiles = time.perf_counter()
        tiles = _finish(target, box)
        os.replace(target, out)  # same directory: atomic
    phases = {"clean": t_clean - started, "sea": t_sea - t_clean, "tilemaker": t_tiles - t_sea}
    return TilesReport(
        out, out.stat().st_size, tiles, box, stats, sea_count, time.perf_counter() - started, phases
    )


def _finish(mbtiles: Path, box: Bbox) -> int:
    """Writes the bounds and attribution into the metadata; returns the number of tiles."""
    with sqlite3.connect(mbtiles) as db:
        meta = {
            "bounds": ",".join(f"{v:.6f}" for v in box),
            "attribution": "© OpenStreetMap contributors",
            "center": f"{(box[0] + box[2]) / 2:.6f},{(box[1] + box[3]) / 2:.6f},14",
        }
        for name, value in meta.items():
            db.execute("DELETE FROM metadata WHERE name = ?", (name,))
            db.execute("INSERT INTO metadata (name, value) VALUES (?, ?)", (name, value))
        count = int(db.execute("SELECT count(*) FROM tiles").fetchone()[0])
    db.close()
    return count
