"""HTTP benchmark of the PostGIS backend (not a test): GET /places/nearby at random points, uvicorn with
2 workers over PostgreSQL 15 + PostGIS on the same machine, driven by wrk.

    .venv/bin/python bench/postgis_http_bench.py                  # N = 200k, 3 x 20 s timed (about 6 minutes)
    .venv/bin/python bench/postgis_http_bench.py --quick          # smoke run: N = 20k, 5 s

The places of bench/generate.py (spread like Germany's population) are imported through
PostgisStore.add_many into a fresh database of a throwaway cluster (tests/pg.py, with
pg_stat_statements loaded when Debian ships it), then VACUUM ANALYZE. Requests:
`/places/nearby?lat&lon&radius_m=1000&limit=10` at the centres of make_workload (uniformly random
over the population, no two alike). Answers are checked against bench/baseline.py's brute force
before timing. wrk warms up, then one timed run; measured over that run:
- req/s, p50, p99 (wrk);
- database CPU: utime + stime of the postmaster and its children (the backends) / requests;
- API CPU: the same for the uvicorn master and workers;
- statements per request and their mean execution time (pg_stat_statements, reset before the run);
- baselines, same run: a bare geography KNN statement (k = 10) on one connection, its database CPU
  per query; the embedded (GeoPackage) store over HTTP on the same places (--no-embedded: not).
The machine is shared: the load average and the CPU the rest of the machine used are reported.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import http_checks  # noqa: E402
from bench.baseline import BruteForce  # noqa: E402
from bench.generate import DATA_DIR, DEFAULT_SEED, generate_arrays, iter_places  # noqa: E402
from bench.http_bench import ensure_store, load, workload_paths  # noqa: E402
from bench.http_servers import Server, WrkRun, run_wrk, start_ours, tree_cpu_s  # noqa: E402
from poi_service.store.postgis import PostgisStore  # noqa: E402
from tests import pg  # noqa: E402

RADIUS_M, LIMIT, K = 1000.0, 10, 10
TARGET_RPS, TARGET_P99_MS, TARGET_DB_MS = 1500.0, 50.0, 0.6
KNN_SQL = (
    "SELECT fid, lon, lat FROM places WHERE deleted_at IS NULL "
    "ORDER BY geog <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT %s"
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def postmaster_pid(url: str) -> int:
    """The postmaster of a local server: the parent of a backend."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    with open(f"/proc/{row[0]}/stat", encoding="ascii") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def statements(url: str) -> list[tuple[int, float, str]] | None:
    """(calls, mean ms, query) of pg_stat_statements, most called first; None without the extension."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT calls, mean_exec_time, query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY calls DESC LIMIT 12"
            ).fetchall()
    except psycopg.Error:
        return None
    return [(int(c), float(t), " ".join(str(q).split())) for c, t, q in rows]


def reset_statements(url: str) -> bool:
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
        return True
    except psycopg.Error:
        return False


def load_places(url: str, n: int, seed: int) -> float:
    """Imports N places through the store, then VACUUM ANALYZE; seconds."""
    t0 = time.perf_counter()
    store = PostgisStore(url, DATA_DIR)
    try:
        if store.places.count() != n:
            assert store.places.count() == 0, "the database holds other places"
            store.places.add_many(iter_places(generate_arrays(n, seed)))
    finally:
        store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("VACUUM ANALYZE places")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except psycopg.Error as exc:
            log(f"no pg_stat_statements: {exc}")
    return time.perf_counter() - t0


def bare_knn(url: str, pm: int, centres: list[tuple[float, float]]) -> tuple[float, float]:
    """(database CPU ms, wall ms) per bare KNN statement on one prepared connection."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=0) as conn:
        for lon, lat in centres[:50]:
            conn.execute(KNN_SQL, (lon, lat, K)).fetchall()
        cpu0, t0 = tree_cpu_s(pm), time.perf_counter()
        for lon, lat in centres:
            conn.execute(KNN_SQL, (lon, lat, K)).fetchall()
        wall, cpu = time.perf_counter() - t0, tree_cpu_s(pm) - cpu0
    return cpu * 1e3 / len(centres), wall * 1e3 / len(centres)


@dataclass
class Timed:
    """One timed wrk run with the CPU each party used meanwhile."""

    label: str
    run: WrkRun
    api_cpu_s: float
    db_cpu_s: float | None
    load: str

    @property
    def requests(self) -> int:
        return int(self.run.stats["requests"])

    def per_request_ms(self, seconds: float | None) -> float | None:
        return None if seconds is None else seconds * 1e3 / max(1, self.requests)


def timed(
    args: argparse.Namespace, label: str, server: Server, paths: Path, pm: int | None, url: str | None = None
) -> Timed:
    """Warm-up runs, then one timed run (pg_stat_statements of url reset in between)."""
    for _ in range(args.warmups):
        run_wrk(server.base_url, paths, args.warmup, args.connections, args.threads)
    if url is not None:
        reset_statements(url)
    busy = load()
    api0, db0 = server.cpu_s(), (tree_cpu_s(pm) if pm else None)
    run = run_wrk(server.base_url, paths, args.duration, args.connections, args.threads)
    api = server.cpu_s() - api0
    db = None if pm is None or db0 is None else tree_cpu_s(pm) - db0
    t = Timed(label, run, api, db, busy)
    log(
        f"  {label}: {run.rps:,.0f} req/s, p50 {run.stats['p50_us'] / 1e3:.1f} ms, p99 "
        f"{run.stats['p99_us'] / 1e3:.1f} ms, API {t.per_request_ms(api):.3f} ms/req, DB "
        f"{t.per_request_ms(db) if db is not None else float('nan'):.3f} ms/req, errors {run.errors}, load {busy}"
    )
    return t


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def render(args: argparse.Namespace, notes: dict[str, Any], rows: list[Timed]) -> str:
    """The Markdown report."""
    out = [
        f"Command: `.venv/bin/python bench/postgis_http_bench.py {' '.join(args.argv)}`".replace("  ", " "),
        "",
        f"N = {args.n:,} places (bench/generate.py), {args.queries:,} distinct random query centres; "
        f"`GET /places/nearby?lat&lon&radius_m={RADIUS_M:g}&limit={LIMIT}`; uvicorn {args.workers} workers "
        f"(uvloop, httptools), wrk {args.threads} thread / {args.connections} connections; each timed run "
        f"{args.duration:g} s after {args.warmups} x {args.warmup:g} s warm-up ({args.runs} PostGIS runs, one "
        f"embedded); database URL options `{args.pool}`.",
        f"{notes['server_version']}; throwaway cluster (tests/pg.py: fsync off, shared_buffers 256 MB) on the "
        f"same {os.cpu_count()} CPUs. Load average {notes['load0']} at start, {load()} at end "
        "(shared machine). Import + VACUUM ANALYZE "
        + (f"{notes['import_s']:.0f} s." if notes.get("import_s") else "reused."),
        f"Answers checked before timing: {notes['checked']} (numberMatched, ids in order, distances to the cm).",
        "",
        "| engine | req/s | p50 ms | p99 ms | DB CPU ms/req | API CPU ms/req | wrk CPU ms/req | req/s the CPUs "
        "allow | rest of machine CPU s | load (1/5/15) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in rows:
        s = t.run.stats
        db = t.per_request_ms(t.db_cpu_s)
        rest = t.run.machine_busy_s - t.run.wrk_cpu_s - t.api_cpu_s - (t.db_cpu_s or 0.0)
        cpu_ms = (
            (db or 0.0) + (t.per_request_ms(t.api_cpu_s) or 0.0) + (t.per_request_ms(t.run.wrk_cpu_s) or 0.0)
        )
        out.append(
            f"| {t.label} | {t.run.rps:,.0f} | {s['p50_us'] / 1e3:.1f} | {s['p99_us'] / 1e3:.1f} | "
            f"{'–' if db is None else f'{db:.3f}'} | {t.per_request_ms(t.api_cpu_s):.3f} | "
            f"{t.per_request_ms(t.run.wrk_cpu_s):.3f} | {(os.cpu_count() or 1) * 1e3 / cpu_ms:,.0f} | {rest:.1f} | "
            f"{t.load} |"
        )
    knn_cpu, knn_wall = notes["knn"]
    out += [
        f"| bare geography KNN k={K}, one connection, prepared | {1e3 / knn_wall:,.0f} | {knn_wall:.3f} | | "
        f"{knn_cpu:.3f} | | | | | |",
        "",
        "req/s the CPUs allow: the machine's CPUs / (database + API + wrk CPU per request), what the run "
        "would reach with the machine to itself; *rest of machine*: CPU seconds other processes used during "
        "the timed run.",
        "",
    ]
    pg_rows = [t for t in rows if "PostGIS" in t.label]
    pgt = min(
        pg_rows, key=lambda t: t.run.machine_busy_s - t.run.wrk_cpu_s - t.api_cpu_s - (t.db_cpu_s or 0.0)
    )
    db_ms = pgt.per_request_ms(pgt.db_cpu_s) or float("inf")
    p99 = pgt.run.stats["p99_us"] / 1e3
    out += [
        f"Targets (issue 16), on the PostGIS run the rest of the machine disturbed least ({pgt.label}): "
        f"req/s {pgt.run.rps:,.0f} ≥ {TARGET_RPS:,.0f} **{verdict(pgt.run.rps >= TARGET_RPS)}**; "
        f"p99 {p99:.1f} ms ≤ {TARGET_P99_MS:g} ms **{verdict(p99 <= TARGET_P99_MS)}**; "
        f"database CPU {db_ms:.3f} ms/request ≤ {TARGET_DB_MS} ms **{verdict(db_ms <= TARGET_DB_MS)}**; "
        f"errors {pgt.run.errors}.",
        "",
    ]
    stmts = notes.get("statements")
    if stmts:
        out += [
            "Statements during the first timed PostGIS run (pg_stat_statements; calls per request, mean "
            "execution time):",
            "",
            "| calls/req | mean ms | statement |",
            "|---:|---:|---|",
        ]
        for calls, mean, query in stmts:
            if calls >= notes["statements_requests"] / 100:
                q = query if len(query) <= 160 else query[:157] + "..."
                out.append(
                    f"| {calls / notes['statements_requests']:.2f} | {mean:.3f} | `{q.replace('|', '/')}` |"
                )
        out.append("")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="places (default 200,000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--queries", type=int, default=20_000, help="distinct query centres wrk rotates through")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the timed wrk run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds per wrk warm-up run")
    ap.add_argument("--warmups", type=int, default=2, help="wrk warm-up runs")
    ap.add_argument("--runs", type=int, default=3, help="timed PostGIS runs (the machine is shared)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    ap.add_argument("--pool", default="pool_max_size=8", help="pool options added to the database URL")
    ap.add_argument("--check", type=int, default=200, help="queries checked against the brute force first")
    ap.add_argument("--url", help="an existing database (local server) holding exactly these N places")
    ap.add_argument("--no-embedded", action="store_true", help="skip the embedded store on the same places")
    ap.add_argument("--quick", action="store_true", help="smoke run: N = 20k, 5 s, 1 warm-up")
    ap.add_argument("--out", type=Path, help="report path (default bench/results/postgis_http_<date>.md)")
    ap.add_argument("--no-write", action="store_true", help="print the report only")
    args = ap.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.n, args.duration, args.warmups, args.queries, args.check, args.runs = 20_000, 5, 1, 2000, 50, 1
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    notes: dict[str, Any] = {"load0": load()}
    server = None
    if args.url:
        url = args.url
    else:
        cluster = pg.Cluster(settings={"shared_preload_libraries": "pg_stat_statements"}).start()
        server = pg.Server(cluster.url(), cluster)
        url = server.fresh_database_url()
    try:
        log(f"N = {args.n:,}: importing into {url}")
        notes["import_s"] = load_places(url, args.n, args.seed)
        pm = postmaster_pid(url)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT version()").fetchone()
            notes["server_version"] = str(row[0]).split(" on ")[0] if row else "?"
        p = workload_paths(args.queries, args.seed)
        brute = BruteForce(generate_arrays(args.n, args.seed))
        rows: list[Timed] = []
        with tempfile.TemporaryDirectory(prefix="pg_http_bench_") as tmp_name:
            tmp = Path(tmp_name)
            paths = tmp / "nearby.txt"
            paths.write_text("\n".join(p.nearby) + "\n")
            sep = "&" if "?" in url else "?"
            # The URL goes in the environment: a Path would fold its "//".
            ours = start_ours(tmp, args.workers, tmp, {"POI_DATABASE_URL": f"{url}{sep}{args.pool}"})
            try:
                k = args.check
                seen = http_checks.check_nearby(
                    ours.base_url, p.nearby[:k], p.centres[:k], brute, RADIUS_M, LIMIT
                )
                notes["checked"] = f"{k} queries, {seen} features = brute force"
                for i in range(args.runs):  # each after its own warm-up; statements of the first
                    rows.append(timed(args, f"poi-service, PostGIS store, run {i + 1}", ours, paths, pm, url))
                    notes.setdefault("statements", statements(url))
                    notes.setdefault("statements_requests", rows[-1].requests)
            finally:
                ours.stop()
            log("bare KNN statement")
            notes["knn"] = bare_knn(url, pm, p.centres[:5000])
            if not args.no_embedded:
                arrays = generate_arrays(args.n, args.seed)
                db, _ = ensure_store(arrays, args.n, args.seed, tmp)
                emb = start_ours(db, args.workers, tmp)
                try:
                    rows.append(timed(args, "poi-service, embedded store", emb, paths, None))
                finally:
                    emb.stop()
    finally:
        if server is not None:
            server.close()
    report = render(args, notes, rows)
    print(report)
    if not args.no_write:
        out = args.out or ROOT / "bench" / "results" / f"postgis_http_{time.strftime('%Y-%m-%d')}.md"
        out.write_text(report)
        log(f"wrote {out}")


if __name__ == "__main__":
    main()
