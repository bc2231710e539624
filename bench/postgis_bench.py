"""Benchmark of the PostGIS backend (not a test): the store, raw SQL on PostGIS, and brute-force numpy.

    .venv/bin/python bench/postgis_bench.py                       # N = 10k, 100k
    .venv/bin/python bench/postgis_bench.py --million              # + N = 1M (about 10 minutes more)
    .venv/bin/python bench/postgis_bench.py --sizes 5000 --queries 100   # smoke run

The same workload as bench/store_bench.py (places distributed like Germany's population from
bench/generate.py; query centres from the same distribution; within-district by population):
nearby r = 1 km first 10 by distance (+ exact total), k-nearest k = 10, bbox 2 x 2 km first 10 by id
(+ total), within-district first 10 by id (+ total), and the import of all N places.

Engines, per N, each on a fresh database of one throwaway cluster (tests/pg.py: a temporary
PostgreSQL 15 + PostGIS cluster on a loopback port, fsync off, shared_buffers 256 MB):
- store: PostgisStore through the Store protocol (what the API calls), one thread;
- raw SQL: one hand-written statement per query on a plain psycopg connection (tuple rows, no
  Place objects, PostGIS spheroid distances and sphere KNN order): the floor under the backend;
- numpy: bench/baseline.py's O(N) brute force over in-memory arrays (exact geodesics).
The store's answers are checked against the brute force (rows, totals, distances to 1 mm); raw SQL
answers are compared and the agreement is reported (its sphere KNN order may differ in ties).
After each import the table gets CHECKPOINT + VACUUM ANALYZE (what autovacuum does soon after a bulk load).
RSS: the bench process (client: data, baseline, store) and the PostgreSQL server (sum of the
proportional set sizes of the postmaster and its children, so shared buffers count once).
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

from bench.baseline import Answer, BruteForce  # noqa: E402
from bench.generate import DATA_DIR, DEFAULT_SEED, generate_arrays, iter_places, make_workload, row_of  # noqa: E402
from bench.procfs import family  # noqa: E402
from poi_service.models import BBox, Point  # noqa: E402
from poi_service.store import Near, PlaceFilter, Query  # noqa: E402
from poi_service.store.pg_helpers import ags_range  # noqa: E402
from poi_service.store.pg_text import tsvectors  # noqa: E402
from poi_service.store.postgis import PostgisStore  # noqa: E402
from poi_service.store.records import PLACES, new_id  # noqa: E402
from tests import pg  # noqa: E402

OPS = ("nearby", "knn", "bbox", "district")
LABEL = {
    "nearby": "nearby r=1 km, top 10",
    "knn": "k-nearest k=10",
    "bbox": "bbox 2x2 km, first 10",
    "district": "within-district, first 10",
}
RADIUS_M, LIMIT, K, BBOX_HALF_KM = 1000.0, 10, 10, 1.0
COLS = "fid, name, lon, lat"  # what raw SQL returns besides distance/total (name -> generator row)

RAW_SQL = {
    "nearby": f"SELECT {COLS}, ST_Distance(geog, c.g, true) AS d, count(*) OVER () "  # noqa: S608
    "FROM places, (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS g) c "
    "WHERE ST_DWithin(geog, c.g, %s, true) AND deleted_at IS NULL ORDER BY d, fid LIMIT %s",
    "knn": f"SELECT {COLS}, ST_Distance(geog, c.g, true) AS d FROM places, "  # noqa: S608
    "(SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS g) c WHERE deleted_at IS NULL "
    "ORDER BY geog <-> c.g LIMIT %s",
    "bbox": f"SELECT {COLS}, (SELECT count(*) FROM places WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "  # noqa: S608
    "AND lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s AND deleted_at IS NULL) FROM places "
    "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s "
    "AND deleted_at IS NULL ORDER BY fid LIMIT %s",
    "district": f"SELECT {COLS}, (SELECT count(*) FROM places WHERE deleted_at IS NULL AND ags >= %s AND ags < %s) "  # noqa: S608
    "FROM places WHERE deleted_at IS NULL AND ags >= %s AND ags < %s ORDER BY fid LIMIT %s",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def server_pss_mb(cluster: pg.Cluster | None) -> float | None:
    """Proportional set size of the postmaster and its children (None for an external server)."""
    if cluster is None:
        return None
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total_kb = 0
    for pid, _ in family(postmaster):
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                total_kb += sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, ValueError, IndexError):
            continue
    return total_kb / 1024.0


def measure(fn: Callable[[int], Any], m: int, warmup: int) -> tuple[dict[str, float], list[Any]]:
    """fn(0..m-1) once each after a warm-up; ops/s over the loop, p50/p99 of single calls."""
    for i in range(min(warmup, m)):
        fn(i)
    out: list[Any] = [None] * m
    lat = np.empty(m, dtype=np.int64)
    clock = time.perf_counter_ns
    start = clock()
    for i in range(m):
        t0 = clock()
        out[i] = fn(i)
        lat[i] = clock() - t0
    wall = clock() - start
    ms = lat / 1e6
    return {
        "queries": m,
        "ops_per_s": m / (wall / 1e9),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }, out


def store_ops(store: PostgisStore, wl: Any) -> dict[str, Callable[[int], Any]]:
    flt = PlaceFilter()
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    boxes = [wl.bbox(i) for i in range(len(lons))]
    places = store.places
    return {
        "nearby": lambda i: places.search(
            Query(flt, near=Near(Point(lons[i], lats[i]), RADIUS_M), limit=LIMIT)
        ),
        "knn": lambda i: places.nearest(Point(lons[i], lats[i]), K, flt),
        "bbox": lambda i: places.search(Query(flt, bbox=BBox(*boxes[i]), limit=LIMIT)),
        "district": lambda i: places.search(Query(flt, area=wl.districts[i], limit=LIMIT)),
    }


def raw_ops(conn: psycopg.Connection[Any], wl: Any) -> dict[str, Callable[[int], Any]]:
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    boxes = [wl.bbox(i) for i in range(len(lons))]
    ranges = [ags_range(d) for d in wl.districts]

    def run(op: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return conn.execute(RAW_SQL[op].encode(), params, prepare=True).fetchall()

    def bbox(i: int) -> list[tuple[Any, ...]]:
        x0, y0, x1, y1 = boxes[i]
        cond = (x0, y0, x1, y1, x0, x1, y0, y1)
        return run("bbox", (*cond, *cond, LIMIT))

    return {
        "nearby": lambda i: run("nearby", (lons[i], lats[i], RADIUS_M, LIMIT)),
        "knn": lambda i: run("knn", (lons[i], lats[i], K)),
        "bbox": bbox,
        "district": lambda i: run("district", (*ranges[i], *ranges[i], LIMIT)),
    }


def baseline_ops(brute: BruteForce, wl: Any) -> dict[str, Callable[[int], Answer]]:
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    boxes = [wl.bbox(i) for i in range(len(lons))]
    return {
        "nearby": lambda i: brute.within(lons[i], lats[i], RADIUS_M, LIMIT),
        "knn": lambda i: brute.nearest(lons[i], lats[i], K),
        "bbox": lambda i: brute.bbox(*boxes[i], LIMIT),
        "district": lambda i: brute.district_of(wl.districts[i], LIMIT),
    }


def store_answer(op: str, result: Any) -> Answer:
    hits = result if op == "knn" else result.hits
    rows = np.array([row_of(h.record.name) for h in hits], dtype=np.int64)
    dist = np.array([h.distance_m for h in hits]) if op in ("nearby", "knn") else None
    return Answer(rows, dist, len(hits) if op == "knn" else result.total)


def raw_answer(op: str, rows: list[tuple[Any, ...]]) -> Answer:
    names = np.array([row_of(r[1]) for r in rows], dtype=np.int64)
    dist = np.array([r[4] for r in rows], dtype=np.float64) if op in ("nearby", "knn") else None
    total = len(rows) if op == "knn" else (int(rows[0][-1]) if rows else 0)
    return Answer(names, dist, total)


def same(got: Answer, want: Answer) -> bool:
    if got.total != want.total or not np.array_equal(got.rows, want.rows):
        return False
    if want.distances_m is None:
        return True
    return got.distances_m is not None and bool(
        np.allclose(got.distances_m, want.distances_m, rtol=0, atol=1e-3)
    )


def raw_import(url: str, arrays: Any) -> float:
    """The floor of an import: prepared rows COPYed straight into `places` (no upsert); seconds."""
    now = time.time()
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(now, UTC)
    data = list(iter_places(arrays))
    texts = tsvectors([PLACES.document(d) for d in data])
    cols = ("id", *PLACES.columns, "created_at", "updated_at", "doc", "tsv")
    rows = []
    for d, (doc, tsv) in zip(data, texts, strict=True):
        row = {
            **PLACES.to_row(d),
            "id": new_id(None),
            "created_at": stamp,
            "updated_at": stamp,
            "doc": doc,
            "tsv": tsv,
        }
        rows.append(tuple(row[c] for c in cols))
    del data, texts
    with psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        with conn.cursor().copy(f"COPY places ({', '.join(cols)}) FROM STDIN".encode()) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - t0


def vacuum(conn: psycopg.Connection[Any]) -> None:
    """What autovacuum does soon after a bulk load. The CHECKPOINT first flushes the (asynchronous,
    in this cluster) commit, without which VACUUM cannot mark pages all-visible yet, and counts
    could not use index-only scans."""
    conn.execute("CHECKPOINT")
    conn.execute("VACUUM ANALYZE places")


def run_size(n: int, args: argparse.Namespace, server: pg.Server) -> dict[str, Any]:
    res: dict[str, Any] = {"n": n, "ops": {}}
    t0 = time.perf_counter()
    arrays = generate_arrays(n, args.seed)
    wl = make_workload(args.queries, args.seed, BBOX_HALF_KM)
    brute = BruteForce(arrays)
    log(f"N={n:,}: generated in {time.perf_counter() - t0:.1f} s")

    url = server.fresh_database_url()
    store = PostgisStore(url, DATA_DIR)
    try:
        log(f"N={n:,}: store import (add_many, one transaction)")
        t0 = time.perf_counter()
        assert store.places.add_many(iter_places(arrays)) == n
        res["import_s"] = time.perf_counter() - t0
        with psycopg.connect(url, autocommit=True) as conn:
            t0 = time.perf_counter()
            vacuum(conn)
            res["vacuum_s"] = time.perf_counter() - t0
            size = conn.execute("SELECT pg_total_relation_size('places')").fetchone()
            res["db_mb"] = (size[0] if size else 0) / 2**20

        raw_url = server.fresh_database_url()
        PostgisStore(raw_url, DATA_DIR).close()  # the same schema, empty
        log(f"N={n:,}: raw import (COPY into places)")
        res["raw_import_s"] = raw_import(raw_url, arrays)
        with psycopg.connect(raw_url, autocommit=True) as conn:
            vacuum(conn)

        q, bq = args.queries, min(args.queries, max(50, int(args.baseline_budget // n)))
        s_ops, b_ops = store_ops(store, wl), baseline_ops(brute, wl)
        with psycopg.connect(url, autocommit=True) as conn:
            r_ops = raw_ops(conn, wl)
            for op in OPS:
                log(f"N={n:,}: {op}: store x{q}, raw x{q}, numpy x{bq}")
                s_stats, s_out = measure(s_ops[op], q, 20)
                r_stats, r_out = measure(r_ops[op], q, 20)
                b_stats, b_out = measure(b_ops[op], bq, 5)
                for i, want in enumerate(b_out):
                    got = store_answer(op, s_out[i])
                    assert same(got, want), f"{op} query {i}: store {got} != brute force {want}"
                raw_agree = sum(same(raw_answer(op, r_out[i]), want) for i, want in enumerate(b_out))
                res["ops"][op] = {
                    "store": s_stats,
                    "raw": r_stats,
                    "numpy": b_stats,
                    "checked": len(b_out),
                    "raw_agree": raw_agree,
                    "mean_total": float(np.mean([a.total for a in b_out])),
                }
        gc.collect()
        res["client_rss_mb"] = rss_mb()
        res["server_pss_mb"] = server_pss_mb(server.cluster)
    finally:
        store.close()
    return res


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def render(results: list[dict[str, Any]]) -> str:
    head = "| N | op | engine | ops/s | p50 ms | p99 ms | vs numpy | checked |"
    lines = [head, "|---|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        for op in OPS:
            o = r["ops"][op]
            for engine in ("store", "raw", "numpy"):
                s = o[engine]
                ratio = s["ops_per_s"] / o["numpy"]["ops_per_s"]
                check = {
                    "store": f"{o['checked']}/{o['checked']} = brute force",
                    "raw": f"{o['raw_agree']}/{o['checked']} = brute force",
                    "numpy": f"{s['queries']} queries",
                }[engine]
                name = {"store": "PostgisStore", "raw": "raw SQL", "numpy": "numpy brute force"}[engine]
                lines.append(
                    f"| {r['n']:,} | {LABEL[op]} | {name} | {s['ops_per_s']:,.0f} | {_ms(s['p50_ms'])} "
                    f"| {_ms(s['p99_ms'])} | {ratio:,.2g}× | {check} |"
                )
        pss = r["server_pss_mb"]
        lines.append(
            f"| {r['n']:,} | import | PostgisStore add_many {r['import_s']:.1f} s ({r['n'] / r['import_s']:,.0f}/s); "
            f"raw COPY {r['raw_import_s']:.1f} s ({r['n'] / r['raw_import_s']:,.0f}/s) | | | | | "
            f"VACUUM ANALYZE {r['vacuum_s']:.1f} s; table+indexes {r['db_mb']:.0f} MB |"
        )
        lines.append(
            f"| {r['n']:,} | RSS | client {r['client_rss_mb']:.0f} MB (bench data + baseline + store); "
            f"server {'n/a' if pss is None else f'{pss:.0f} MB PSS'} | | | | | |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000", help="comma-separated N (default 10000,100000)")
    p.add_argument("--million", action="store_true", help="also N = 1,000,000")
    p.add_argument("--queries", type=int, default=500, help="queries per kind for store and raw SQL")
    p.add_argument("--baseline-budget", type=float, default=2e8, help="numpy point visits per kind")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([1_000_000] if args.million else [])
    reason = pg.unavailable_reason()
    if reason:
        sys.exit(f"PostGIS not available: {reason}")
    started = time.perf_counter()
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    server = pg.server()
    log(f"server: {server.admin_url}")
    results = []
    try:
        with psycopg.connect(server.admin_url) as conn:
            row = conn.execute("SELECT version()").fetchone()
            version = str(row[0]).split(" on ")[0] if row else "?"
        for n in sizes:
            results.append(run_size(n, args, server))
    finally:
        pg.shutdown()
    cmd = ".venv/bin/python bench/postgis_bench.py " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:])
    )
    print(f"Command: `{cmd.strip()}` ({(time.perf_counter() - started) / 60:.1f} min)")
    load1 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{version} + PostGIS (throwaway cluster, fsync off); {os.cpu_count()} CPUs; one client thread; "
        f"load average {load0} at start, {load1} at end (shared machine)\n"
    )
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
