"""HTTP benchmark (not a test): our API under uvicorn with 2 workers on loopback, against pygeoapi
serving the same places from a GeoPackage, driven by wrk.

    .venv/bin/python bench/http_bench.py                      # N = 10k, 100k (about 6 minutes)
    .venv/bin/python bench/http_bench.py --sizes 10000,100000,1000000
    .venv/bin/python bench/http_bench.py --quick              # smoke run: N = 5000, 3 s runs

Per N: the places of bench/generate.py imported into a fresh GeoPackage store (or reused from
--store-dir), query centres from make_workload. Engines, each `uvicorn --workers 2 --loop uvloop
--http httptools --no-access-log` on 127.0.0.1, one after the other (never two servers at once):
- ours, GET /places/nearby?lat&lon&radius_m=1000&limit=10 (the issue's query), and
  GET /places?bbox=<2x2 km>&limit=10 (the query pygeoapi can answer, for a like-for-like ratio);
- pygeoapi (bench/pygeoapi-env.sh: its own venv), GET /collections/places_<provider>/items?f=json&
  bbox=<the same boxes>&limit=10 through its OGR provider (GDAL, uses the GeoPackage R*Tree) and its
  SQLiteGPKG provider (SpatiaLite), each on its own copy of the store file.
Before timing, answers are checked (bench/http_checks.py); wrk warm-up runs, repeated until req/s is
stable, let every worker build its point index; then one timed wrk run per query kind. wrk (1
thread) shares the 2 CPUs with the server, so its CPU share is reported, and what the rest of the
machine used meanwhile.
The in-process costs (store call alone, whole ASGI app without a socket) split the server's CPU per
request into store, app (FastAPI routing, params, GeoJSON, orjson) and server (uvicorn, HTTP, socket).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import http_checks, http_inprocess, http_report  # noqa: E402
from bench.baseline import BruteForce  # noqa: E402
from bench.generate import DATA_DIR, DEFAULT_SEED, PlaceArrays, generate_arrays, iter_places, make_workload  # noqa: E402
from bench.http_servers import Server, WrkRun, gpkg_copy, run_wrk, start_ours, start_pygeoapi  # noqa: E402
from poi_service.store import open_store  # noqa: E402

RADIUS_M, LIMIT = 1000.0, 10


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Row:
    """One timed wrk run against one server and query kind."""

    n: int
    engine: str
    query: str
    run: WrkRun
    server_cpu_s: float
    load: str


@dataclass
class Paths:
    """The request paths of one workload, and the inputs to check them against."""

    centres: list[tuple[float, float]]
    boxes: list[tuple[float, float, float, float]]
    nearby: list[str]
    bbox: list[str]

    def pygeoapi(self, provider: str) -> list[str]:
        return [
            f"/collections/places_{provider}/items?f=json&bbox={_box(b)}&limit={LIMIT}" for b in self.boxes
        ]


def _box(b: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.7f}" for v in b)


def workload_paths(m: int, seed: int) -> Paths:
    """Nearby and bbox paths; coordinates rounded to 7 decimals (1 cm) and checked as sent."""
    wl = make_workload(m, seed)
    centres = [(round(float(lo), 7), round(float(la), 7)) for lo, la in zip(wl.lons, wl.lats, strict=True)]
    boxes = [tuple(round(v, 7) for v in wl.bbox(i)) for i in range(m)]
    nearby = [
        f"/places/nearby?lat={la:.7f}&lon={lo:.7f}&radius_m={RADIUS_M:g}&limit={LIMIT}" for lo, la in centres
    ]
    bbox = [f"/places?bbox={_box(b)}&limit={LIMIT}" for b in boxes]  # type: ignore[arg-type]
    return Paths(centres, boxes, nearby, bbox)  # type: ignore[arg-type]


def ensure_store(arrays: PlaceArrays, n: int, seed: int, where: Path) -> tuple[Path, float | None]:
    """A GeoPackage store with the N places; reused when --store-dir already holds a complete one."""
    path = where / f"places_{n}_{seed}.gpkg"
    if path.exists():
        store = open_store(str(path), DATA_DIR)
        try:
            if store.places.count() == n:
                return path, None
        finally:
            store.close()
        path.unlink()
    t0 = time.perf_counter()
    store = open_store(str(path), DATA_DIR)
    try:
        store.places.add_many(iter_places(arrays))
    finally:
        store.close()
    return path, time.perf_counter() - t0


class Runner:
    """Timed wrk runs with the options of the command line."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp, self.rows = args, tmp, list[Row]()

    def warm_up(self, server: Server, paths_file: Path, min_s: float) -> int:
        """wrk runs of --warmup s for at least min_s, then until two in a row agree on req/s within 20 %;
        at most 8 after min_s. min_s covers the point index build of each worker: one worker can stall
        on its build for seconds while the other serves at a steady rate. Returns how many ran."""
        a, prev, runs = self.args, 0.0, 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < min_s:
            run_wrk(server.base_url, paths_file, a.warmup, a.connections, a.threads)
            runs += 1
        for _ in range(8):
            rps = run_wrk(server.base_url, paths_file, a.warmup, a.connections, a.threads).rps
            runs += 1
            if prev > 0 and abs(rps - prev) <= 0.2 * max(rps, prev):  # 0 req/s: workers still building
                break
            prev = rps
        return runs

    def measure(
        self, n: int, server: Server, engine: str, query: str, paths: list[str], min_warm_s: float = 0
    ) -> Row:
        paths_file = self.tmp / f"paths_{engine}_{query}.txt".replace(" ", "_")
        paths_file.write_text("\n".join(paths) + "\n")
        a = self.args
        warm = self.warm_up(server, paths_file, min_warm_s)
        busy = load()
        cpu0 = server.cpu_s()
        run = run_wrk(server.base_url, paths_file, a.duration, a.connections, a.threads)
        row = Row(n, engine, query, run, server.cpu_s() - cpu0, busy)
        if run.errors:  # timeouts (wrk --timeout 5s) or non-2xx: in the table, not fatal to the other rows
            log(f"  WARNING {engine} {query}: wrk errors {run.stats}")
        log(
            f"  {engine} {query}: {run.rps:,.0f} req/s, p50 {run.stats['p50_us'] / 1e3:.2f} ms, "
            f"p99 {run.stats['p99_us'] / 1e3:.2f} ms, errors {run.errors}, load {busy}, {warm} warm-up runs"
        )
        self.rows.append(row)
        return row


def run_size(n: int, runner: Runner, store_dir: Path) -> dict[str, object]:
    """Import, in-process costs, our server, pygeoapi for one N; returns the per-N notes."""
    a, tmp = runner.args, runner.tmp
    log(f"N = {n:,}: generating places")
    arrays = generate_arrays(n, a.seed)
    brute = BruteForce(arrays)
    db, import_s = ensure_store(arrays, n, a.seed, store_dir)
    log(f"  store {db} ({'reused' if import_s is None else f'imported in {import_s:.1f} s'})")
    p = workload_paths(a.queries, a.seed)
    k = a.check
    store = open_store(str(db), DATA_DIR)
    try:
        t0 = time.perf_counter()
        http_inprocess.store_nearby_cost(store, p.centres, RADIUS_M, LIMIT, 1)  # builds the point index
        build_s = time.perf_counter() - t0
        store_cost = http_inprocess.store_nearby_cost(store, p.centres, RADIUS_M, LIMIT, a.inprocess)
        app = http_inprocess.app_for(store)
        app_cost = http_inprocess.app_cost(app, p.nearby, a.inprocess)
        bbox_store = http_inprocess.app_cost(app, p.bbox, a.inprocess)
        if a.profile:
            prof = http_inprocess.profile_app(app, p.nearby, a.inprocess)
            (tmp / f"profile_{n}.md").write_text(f"# N = {n:,}: in-process GET /places/nearby\n\n{prof}")
    finally:
        store.close()
    notes: dict[str, object] = {
        "n": n,
        "import_s": import_s,
        "build_s": build_s,
        "store": store_cost,
        "app": app_cost,
        "app_bbox": bbox_store,
    }
    ours = start_ours(db, a.workers, tmp)
    try:
        notes["checked_ours"] = (
            http_checks.check_nearby(ours.base_url, p.nearby[:k], p.centres[:k], brute, RADIUS_M, LIMIT),
            http_checks.check_bbox(ours.base_url, p.bbox[:k], p.boxes[:k], brute, LIMIT, exact=True),
        )
        notes["nearby"] = runner.measure(n, ours, "poi-service", "nearby", p.nearby, min_warm_s=3 * build_s)
        notes["bbox"] = runner.measure(n, ours, "poi-service", "bbox", p.bbox)
    finally:
        ours.stop()
    # SQLiteGPKG filters with SpatiaLite's Intersects() on every row (no R*Tree): minutes per run past --sqlite-max
    kinds = [k for k in a.pygeoapi if k != "sqlite" or n <= a.sqlite_max]
    if kinds:
        sources = {kind: gpkg_copy(db, tmp / f"pygeoapi_{kind}.gpkg") for kind in kinds}
        server = start_pygeoapi(sources, a.workers, tmp, LIMIT)
        try:
            for kind in kinds:
                paths = p.pygeoapi(kind)
                notes[f"checked_{kind}"] = http_checks.check_bbox(
                    server.base_url, paths[:k], p.boxes[:k], brute, LIMIT, exact=False
                )
                runner.measure(n, server, f"pygeoapi {kind}", "bbox", paths)
        finally:
            server.stop()
            for path in sources.values():
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
    return notes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated N (default 10000,100000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--queries", type=int, default=2000, help="distinct query centres wrk rotates through")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per timed wrk run")
    ap.add_argument(
        "--warmup", type=float, default=3.0, help="seconds per wrk warm-up run (repeated until stable)"
    )
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16: 8 per worker)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: one core for wrk)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers of both servers")
    ap.add_argument("--check", type=int, default=30, help="queries per engine checked before timing")
    ap.add_argument("--inprocess", type=int, default=2000, help="in-process calls timed per kind")
    ap.add_argument("--pygeoapi", default="ogr,sqlite", help="pygeoapi providers (ogr,sqlite) or 'none'")
    ap.add_argument("--sqlite-max", type=int, default=100_000, help="largest N for pygeoapi's SQLiteGPKG")
    ap.add_argument("--store-dir", type=Path, help="keep and reuse the imported stores here")
    ap.add_argument("--tmp-dir", type=Path, help="parent of the temporary directory")
    ap.add_argument("--profile", action="store_true", help="cProfile of in-process nearby requests")
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 5000, 3 s runs, 200 queries")
    ap.add_argument("--out", type=Path, help="report path (default bench/results/http_<date>.md)")
    ap.add_argument("--no-write", action="store_true", help="print the report only")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.duration, args.warmup = "5000", 3, 1
        args.queries, args.check, args.inprocess = 200, 10, 300
    args.pygeoapi = [] if args.pygeoapi == "none" else args.pygeoapi.split(",")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started, load0 = time.time(), load()
    with tempfile.TemporaryDirectory(prefix="http_bench_", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        store_dir = args.store_dir or tmp
        store_dir.mkdir(parents=True, exist_ok=True)
        runner = Runner(args, tmp)
        notes = [run_size(n, runner, store_dir) for n in sizes]
        profiles = [
            (tmp / f"profile_{n}.md").read_text() for n in sizes if (tmp / f"profile_{n}.md").exists()
        ]
    report = http_report.render(
        args,
        sys.argv[1:] if argv is None else argv,
        runner.rows,
        notes,
        (load0, load()),
        time.time() - started,
    )
    print(report)
    if not args.no_write:
        name = f"http_{time.strftime('%Y-%m-%d')}{'_quick' if args.quick else ''}.md"
        out = args.out or ROOT / "bench" / "results" / name
        out.write_text(report)
        if profiles:
            out.with_name(out.stem + "_profile.md").write_text("\n".join(profiles))
        log(f"report written to {out}")


if __name__ == "__main__":
    main()
