"""OSM import benchmark: a generated (SYNTHETIC) extract of >= 2 million nodes into a fresh embedded store.

    PYTHONPATH=$PWD python bench/osm_import_bench.py [--nodes 2000000] [--out bench/results/osm_DATE.md]

Prints and writes a table: OSM objects read per second, places written per second, peak RSS, the
re-import (0 changes) and a daily-size change file, and a projection for a German state extract
(Schleswig-Holstein: ~150 MB of PBF). The projection's object counts are assumptions stated in the
output, not measurements. Keep it to one run: it takes a few minutes on two shared cores.
"""

from __future__ import annotations

import argparse
import gzip
import random
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

from poi_service.boundaries import Boundaries
from poi_service.categories import Vocabulary
from poi_service.config import DEFAULT_DATA_DIR
from poi_service.osm.importer import Options, apply_changes, import_extract
from poi_service.osm.mapping import load_mapping
from poi_service.osm.reader import ReadStats, read_objects
from poi_service.store import open_store

# Around Harrislee/Flensburg; every name says SYNTHETIC.
AREA = (9.20, 54.70, 9.60, 54.90)
POI_EVERY = 40  # one named POI node per this many nodes (real extracts: ~1-3 %)
NODES_PER_WAY = 8
# Assumed size of a Schleswig-Holstein extract (~150 MB PBF): order of magnitude, not measured here.
STATE_NODES = 22_000_000
STATE_WAYS = 3_200_000
STATE_PLACES = 200_000
SHOPS = ("bakery", "supermarket", "books", "hairdresser", "clothes")
AMENITIES = ("cafe", "restaurant", "pharmacy", "bank", "school", "toilets")


def generate(path: Path, nodes: int, seed: int = 1) -> dict[str, int]:
    """Nodes on a jittered grid, closed building ways over the untagged ones, POIs among them."""
    rng = random.Random(seed)
    counts = {"nodes": 0, "ways": 0, "poi_nodes": 0, "poi_ways": 0}
    side = int(nodes**0.5) + 1
    dx, dy = (AREA[2] - AREA[0]) / side, (AREA[3] - AREA[1]) / side
    meta = {"version": 1, "timestamp": "2024-01-01T00:00:00Z", "changeset": 1, "uid": 1, "user": "synthetic"}
    with osmium.SimpleWriter(str(path)) as w:
        for i in range(1, nodes + 1):
            r, c = divmod(i, side)
            loc = (AREA[0] + c * dx + rng.random() * dx * 0.5, AREA[1] + r * dy + rng.random() * dy * 0.5)
            tags: dict[str, str] = {}
            if i % POI_EVERY == 0:
                if rng.random() < 0.5:
                    tags = {"shop": rng.choice(SHOPS)}
                else:
                    tags = {"amenity": rng.choice(AMENITIES)}
                tags |= {
                    "name": f"SYNTHETIC {i}",
                    "opening_hours": "Mo-Fr 09:00-18:00",
                    "wheelchair": "yes",
                    "addr:street": "Synthetische Straße",
                    "addr:housenumber": str(i % 200 + 1),
                }
                counts["poi_nodes"] += 1
            w.add_node(Node(id=i, location=loc, tags=tags, **meta))
            counts["nodes"] += 1
        way_id = 1
        for start in range(1, nodes - NODES_PER_WAY, NODES_PER_WAY * 2):
            refs = [*range(start, start + NODES_PER_WAY), start]
            tags = {"building": "yes"}
            if way_id % 50 == 0:
                tags = {"amenity": "school", "name": f"SYNTHETIC Schule {way_id}"}
                counts["poi_ways"] += 1
            elif way_id % 3 == 0:
                tags = {"highway": "residential", "name": f"SYNTHETIC Weg {way_id}"}
                refs = refs[:-1]
            w.add_way(Way(id=way_id, nodes=refs, tags=tags, **meta))
            way_id += 1
            counts["ways"] += 1
    return counts


def daily_changes(path: Path, nodes: int, changed: int, seed: int = 2) -> int:
    """An .osc.gz modifying `changed` nodes (every POI_EVERY-th a POI: renamed), as a day brings."""
    rng = random.Random(seed)
    parts = ['<?xml version="1.0"?>\n<osmChange version="0.6"><modify>']
    for n in range(changed):
        i = rng.randrange(1, nodes // POI_EVERY) * POI_EVERY if n % 10 == 0 else rng.randrange(1, nodes)
        tags = ""
        if i % POI_EVERY == 0:
            tags = f'<tag k="shop" v="bakery"/><tag k="name" v="SYNTHETIC {i} neu"/>'
        lon = AREA[0] + rng.random() * (AREA[2] - AREA[0])
        lat = AREA[1] + rng.random() * (AREA[3] - AREA[1])
        parts.append(
            f'<node id="{i}" version="2" timestamp="2024-01-02T00:00:00Z" changeset="2" uid="1" user="s" '
            f'lat="{lat:.7f}" lon="{lon:.7f}">{tags}</node>'
        )
    parts.append("</modify></osmChange>\n")
    path.write_bytes(gzip.compress("".join(parts).encode()))
    return changed


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Generates, imports, re-imports, applies a day of changes; prints the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=2_000_000)
    parser.add_argument("--daily", type=int, default=50_000, help="node changes in the daily file")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    opts = Options(Vocabulary.load(), DEFAULT_DATA_DIR)
    with tempfile.TemporaryDirectory(prefix="osm-bench-") as tmp:
        pbf = Path(tmp) / "synthetic.osm.pbf"
        t = time.perf_counter()
        counts = generate(pbf, args.nodes)
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        Boundaries.load(DEFAULT_DATA_DIR)  # once per process: not part of the per-object rates
        fixed_s = time.perf_counter() - t
        store = open_store(str(Path(tmp) / "bench.gpkg"), DEFAULT_DATA_DIR)
        rss_before = peak_rss_mb()
        t = time.perf_counter()
        stats = ReadStats()
        candidates = sum(1 for _ in read_objects(pbf, load_mapping(opts.vocabulary), stats))
        read_s = time.perf_counter() - t
        rss_read = peak_rss_mb()
        t = time.perf_counter()
        report = import_extract(store, pbf, opts)
        import_s = time.perf_counter() - t
        rss_import = peak_rss_mb()
        t = time.perf_counter()
        again = import_extract(store, pbf, opts)
        reimport_s = time.perf_counter() - t
        osc = Path(tmp) / "daily.osc.gz"
        daily_changes(osc, args.nodes, args.daily)
        t = time.perf_counter()
        day = apply_changes(store, osc, opts)
        daily_s = time.perf_counter() - t
        store.close()
        size_mb = pbf.stat().st_size / 1e6
    objects = counts["nodes"] + counts["ways"]
    places = report.outcome.new
    read_rate = objects / read_s  # reading alone: osmium, location cache, areas, candidates
    place_s = max(import_s - read_s, 0.0) / places  # building, comparing and writing one place
    write_rate = 1 / place_s if place_s else float("inf")
    projected_s = fixed_s + (STATE_NODES + STATE_WAYS) / read_rate + STATE_PLACES * place_s
    per_node = max(rss_read - rss_before, 0.0) / args.nodes
    per_place = max(rss_import - rss_read, 0.0) / places
    projected_rss = rss_before + per_node * STATE_NODES + per_place * STATE_PLACES
    rows = [
        (
            "generated extract",
            f"{counts['nodes']:,} nodes, {counts['ways']:,} ways, {size_mb:.1f} MB PBF ({gen_s:.0f} s to write)",
        ),
        ("import", f"{import_s:.1f} s: {places:,} places new, skipped {dict(report.skipped)}"),
        (
            "read pass alone",
            f"{read_s:.1f} s, {candidates:,} candidates (boundaries load once: {fixed_s:.1f} s)",
        ),
        ("OSM objects read / s", f"{read_rate:,.0f}"),
        ("places written / s", f"{write_rate:,.0f} (import time beyond the read pass, per place)"),
        (
            "peak RSS",
            f"{rss_import:,.0f} MB (store open: {rss_before:,.0f} MB, after the read pass: {rss_read:,.0f} MB)",
        ),
        (
            "re-import, same file",
            f"{reimport_s:.1f} s: {again.outcome.unchanged:,} unchanged, {again.outcome.updated} updated",
        ),
        (
            "daily change file",
            f"{args.daily:,} node changes applied in {daily_s:.1f} s (target <= 10 s): "
            f"{day.outcome.updated} updated, {day.outcome.deleted} deleted",
        ),
        (
            "projection: state extract",
            f"~{STATE_NODES / 1e6:.0f} M nodes, {STATE_WAYS / 1e6:.1f} M ways (assumed, ~150 MB PBF): "
            f"{projected_s / 60:.1f} min (target <= 5), ~{projected_rss:,.0f} MB RSS (target <= 2048)",
        ),
    ]
    lines = [f"# OSM import benchmark ({date.today().isoformat()})", "", "| measure | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += [
        "",
        "Projection: boundaries load + (nodes + ways) / objects read per second + places x time per place;",
        "RSS: the base plus this run's growth per node in the read pass (node-location cache) and per place",
        f"in the write (records, history). Assumed state extract: {STATE_PLACES:,} places.",
        f"Command: `PYTHONPATH=$PWD python bench/osm_import_bench.py --nodes {args.nodes} --daily {args.daily}`",
    ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
