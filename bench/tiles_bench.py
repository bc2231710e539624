"""Street basemap: build time and MBTiles size for the real Helsinki extract and a generated extract of
>= 2 million nodes, and tile requests/s of the service (uvicorn, 2 workers) driven by wrk on 127.0.0.1.

    .venv/bin/python -m bench.tiles_bench                     # 2.0M synthetic nodes, 10 s wrk runs
    .venv/bin/python -m bench.tiles_bench --nodes 4000000 --duration 20 --out /tmp/tiles.md

Builds run `poi-service osm tiles` (pyosmium cleaning, sea from the coastline, tilemaker) in this
process, timed as a whole. The synthetic extract is SYNTHETIC: a square street grid (one node every ~20 m,
a residential street per row and column, every tenth a primary road, names "Synthetic Street N") near
10.0 E, 53.5 N, generated with pyosmium; it stands for the node count, not for a real town. The wrk
runs ask for gzip (as browsers do) and rotate through every tile of the file; beside them, in the same
run, the service's current basemap request (municipality outlines by bbox, /maps/basemap/...) and
/health as the framework's floor. Runs are short by default: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import osmium

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_servers import Server, start_ours  # noqa: E402
from poi_service.osm.tiles import TilesReport, build_tiles  # noqa: E402

HELSINKI = ROOT / "tests" / "data" / "osm" / "helsinki_centre.osm.pbf"
LUA = ROOT / "bench" / "tiles_bench.lua"
STEP_DEG = 0.0003  # ~20 m of longitude at 53.5 N; latitude steps are 0.6 of it (~20 m too)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def synthetic_grid(path: Path, nodes: int) -> int:
    """Writes a street grid of at least `nodes` nodes (SYNTHETIC data); returns the node count."""
    side = math.ceil(math.sqrt(nodes))
    lon0, lat0 = 10.0, 53.5
    header = osmium.io.Header()  # a header box, as real (Geofabrik, osmium extract) files have
    top_right = osmium.osm.Location(lon0 + (side - 1) * STEP_DEG, lat0 + (side - 1) * STEP_DEG * 0.6)
    header.add_box(osmium.osm.Box(osmium.osm.Location(lon0, lat0), top_right))
    header.set("generator", "poi-service bench/tiles_bench.py (SYNTHETIC street grid)")
    writer = osmium.SimpleWriter(str(path), header=header, overwrite=True)
    try:
        for r in range(side):
            for c in range(side):
                loc = (lon0 + c * STEP_DEG * 1.0, lat0 + r * STEP_DEG * 0.6)
                writer.add_node(osmium.osm.mutable.Node(id=r * side + c + 1, location=loc, version=1))
        way_id = 1
        for i in range(side):
            kind = "primary" if i % 10 == 0 else "residential"
            row = [i * side + c + 1 for c in range(side)]
            col = [r * side + i + 1 for r in range(side)]
            for refs, name in ((row, f"Synthetic Street {i} (row)"), (col, f"Synthetic Street {i} (column)")):
                # Ways of at most 200 nodes, as OSM streets are split in practice (tilemaker holds them whole).
                for start in range(0, side - 1, 199):
                    writer.add_way(
                        osmium.osm.mutable.Way(
                            id=way_id,
                            nodes=refs[start : start + 200],
                            version=1,
                            tags={"highway": kind, "name": name},
                        )
                    )
                    way_id += 1
    finally:
        writer.close()
    return side * side


def build(name: str, src: Path, out: Path) -> TilesReport:
    log(f"building {name} tiles from {src.name} ({src.stat().st_size / 1e6:.1f} MB) ...")
    report = build_tiles(src, out)
    log(f"  {report.tiles} tiles, {report.size_bytes / 1e6:.2f} MB in {report.seconds:.1f} s")
    return report


def tile_paths(mbtiles: Path, out: Path) -> int:
    """Every tile of the file as an XYZ request path, one a line (the wrk script rotates through them)."""
    with sqlite3.connect(mbtiles) as db:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
    out.write_text("".join(f"/tiles/{z}/{x}/{(1 << z) - 1 - y}.pbf\n" for z, x, y in rows), encoding="utf-8")
    return len(rows)


def wrk(base_url: str, paths: Path, seconds: int, connections: int) -> dict[str, float]:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(paths),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.stdout.splitlines() if x.startswith("HTTPBENCH "))
    stats: dict[str, float] = json.loads(line.removeprefix("HTTPBENCH "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return stats


def serve_and_measure(
    tmp: Path, tiles: Path, runs: list[tuple[str, Path]], a: argparse.Namespace
) -> list[str]:
    env = {"POI_TILES_FILE": str(tiles), "POI_STATE_DIR": str(tmp)}
    server: Server = start_ours(tmp / "bench.gpkg", 2, tmp, env)
    rows = []
    try:
        for label, paths in runs:
            for path in paths.read_text(encoding="utf-8").split()[:4] * 4:  # both workers load what it needs
                httpx.get(server.base_url + path, timeout=300)
            wrk(server.base_url, paths, 2, a.connections)  # warm-up: connections, page cache
            cpu0 = server.cpu_s()
            s = wrk(server.base_url, paths, a.duration, a.connections)
            cpu = server.cpu_s() - cpu0
            errors = sum(
                s[k] for k in ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts")
            )
            kb = s["bytes"] / max(1, s["requests"]) / 1024
            rows.append(
                f"| {label} | {s['rps']:,.0f} | {s['p50_us'] / 1000:.1f} | {s['p99_us'] / 1000:.1f} | "
                f"{kb:.1f} | {cpu / max(1, s['requests']) * 1e6:,.0f} | {int(errors)} |"
            )
            log(rows[-1])
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=30)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=2_000_000, help="nodes of the synthetic extract (>= 2M)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per timed wrk run")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (8 per worker)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"tiles_{date.today()}.md")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="poi-tiles-bench-") as t:
        tmp = Path(t)
        helsinki = build("Helsinki", HELSINKI, tmp / "helsinki.mbtiles")
        t0 = time.perf_counter()
        count = synthetic_grid(tmp / "grid.osm.pbf", a.nodes)
        gen_s = time.perf_counter() - t0
        log(f"generated {count:,} nodes in {gen_s:.1f} s")
        grid = build("synthetic", tmp / "grid.osm.pbf", tmp / "grid.mbtiles")
        n_h = tile_paths(helsinki.out, tmp / "helsinki.paths")
        n_g = tile_paths(grid.out, tmp / "grid.paths")
        (tmp / "basemap.paths").write_text(
            "/maps/basemap/municipality.json?bbox=24.90,60.15,24.99,60.19\n"
            "/maps/basemap/municipality.json?bbox=9.40,54.75,9.50,54.82\n",
            encoding="utf-8",
        )  # the current boundary basemap: municipality outlines by bbox (empty over Helsinki)
        (tmp / "health.paths").write_text("/health\n", encoding="utf-8")
        rows = serve_and_measure(
            tmp,
            helsinki.out,
            [
                (f"Helsinki tiles ({n_h} distinct)", tmp / "helsinki.paths"),
                ("baseline: boundary basemap by bbox", tmp / "basemap.paths"),
                ("baseline: /health", tmp / "health.paths"),
            ],
            a,
        )
        rows += serve_and_measure(
            tmp, grid.out, [(f"synthetic tiles ({n_g} distinct)", tmp / "grid.paths")], a
        )
        nodes = {
            "Helsinki": sum(1 for _ in osmium.FileProcessor(str(HELSINKI), osmium.osm.NODE)),
            "synthetic": count,
        }
        src_mb = {
            "Helsinki": HELSINKI.stat().st_size / 1e6,
            "synthetic": (tmp / "grid.osm.pbf").stat().st_size / 1e6,
        }
        builds = [
            f"| {name} | {nodes[name]:,} | {r.clean.ways:,} | {src_mb[name]:.1f} | {r.seconds:.1f} | "
            f"{r.phases['clean']:.1f} / {r.phases['sea']:.1f} / {r.phases['tilemaker']:.1f} | {r.tiles:,} | "
            f"{r.size_bytes / 1e6:.2f} |"
            for name, r in (("Helsinki", helsinki), ("synthetic", grid))
        ]
    load = os.getloadavg()
    text = "\n".join(
        [
            f"# Street basemap tiles ({date.today()})",
            "",
            f"`python -m bench.tiles_bench --nodes {a.nodes} --duration {a.duration} --connections {a.connections}`; "
            f"tilemaker {tilemaker_version()}, {os.cpu_count()} CPUs, load average at the end {load[0]:.1f}. "
            "The synthetic extract is generated (a street grid), see the script's docstring.",
            "",
            "## Build (`poi-service osm tiles`: clean, sea, tilemaker; wall time)",
            "",
            "| extract | nodes | ways kept | PBF MB | build s | clean / sea / tilemaker s | tiles | MBTiles MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *builds,
            "",
            f"Generating the synthetic extract took {gen_s:.1f} s (not part of the build).",
            "",
            "## Serving (uvicorn, 2 workers, wrk 1 thread, gzip accepted)",
            "",
            "| requests | req/s | p50 ms | p99 ms | KB/response | server CPU µs/request | errors |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text, encoding="utf-8")
    print(text)


def tilemaker_version() -> str:
    out = subprocess.run(["tilemaker", "--help"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].split()[-1]


if __name__ == "__main__":
    main()
