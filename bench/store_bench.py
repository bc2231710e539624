"""Benchmark of the embedded GeoPackage store against a brute-force numpy baseline (not a test).

    .venv/bin/python bench/store_bench.py                          # N = 10k, 100k, 1M
    .venv/bin/python bench/store_bench.py --sizes 10000,100000 --queries 500
    .venv/bin/python bench/store_bench.py --quick                  # smoke run, seconds
    .venv/bin/python bench/store_bench.py --profile                # + where the time goes, at the largest N

For every N, in a fresh child process (so RSS is per size) and a fresh temporary GeoPackage:
generate N places like Germany's population (bench/generate.py), import them with one
places.add_many (one transaction), time the first nearby query (the lazy PointIndex build), then
time each query kind against the store and against brute-force numpy (bench/baseline.py) at the
same query inputs, check that both give the same answers (assert), and record RSS. The parent
prints one markdown table and writes it to bench/results/store_<date>.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.baseline import Answer, BruteForce  # noqa: E402
from bench.generate import (  # noqa: E402
    DATA_DIR,
    DEFAULT_SEED,
    PlaceArrays,
    Workload,
    generate_arrays,
    iter_places,
    make_workload,
    row_of,
)
from poi_service.models import BBox, Point  # noqa: E402
from poi_service.store import Near, Page, PlaceFilter, Query, open_store  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
OPS = ("nearby", "knn", "district", "bbox")
OP_LABEL = {
    "nearby": "nearby (r=1 km, limit 10)",
    "knn": "k-nearest (k=10)",
    "district": "within-district (limit 10)",
    "bbox": "bbox (2x2 km, limit 10)",
}
RADIUS_M = 1000.0
LIMIT = 10
K = 10
BBOX_HALF_KM = 1.0
TARGET_N = 1_000_000


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    limit: float
    unit: str


TARGETS = (
    Target("nearby_p50", "nearby p50", 0.1, "ms"),
    Target("knn_p50", "k-nearest p50", 0.1, "ms"),
    Target("district_p50", "within-district p50", 5.0, "ms"),
    Target("import_s", "import (add_many, one transaction)", 60.0, "s"),
    Target("rss_peak_mb", "RSS peak of a process serving the store (probe)", 500.0, "MB"),
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- memory ----------------------------------------------------------------------------------------


def proc_status() -> dict[str, float]:
    """VmRSS and VmHWM (peak) of this process in MB, from /proc/self/status."""
    out: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0), so the peak covers only what follows."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


# -- timing ----------------------------------------------------------------------------------------


@dataclass
class Timing:
    latencies_ns: np.ndarray
    wall_ns: int
    cpu_ns: int  # process CPU time of the whole loop: robust against other load on the machine

    def summary(self) -> dict[str, float]:
        ms = self.latencies_ns / 1e6
        return {
            "queries": len(ms),
            "ops_per_s": len(ms) / (self.wall_ns / 1e9),
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()),
            "cpu_ms": self.cpu_ns / 1e6 / len(ms),
        }


def measure(fn: Callable[[int], Any], m: int, warmup: int) -> tuple[Timing, list[Any]]:
    """Calls fn(0..m-1) once each, timing every call with perf_counter_ns; keeps the answers."""
    for i in range(min(warmup, m)):
        fn(i)
    out: list[Any] = [None] * m
    lat = np.empty(m, dtype=np.int64)
    clock = time.perf_counter_ns
    cpu0 = time.process_time_ns()
    start = clock()
    for i in range(m):
        t0 = clock()
        out[i] = fn(i)
        lat[i] = clock() - t0
    wall = clock() - start
    return Timing(lat, wall, time.process_time_ns() - cpu0), out


# -- the query kinds, per engine ---------------------------------------------------------------


def store_ops(places: Any, wl: Workload) -> dict[str, Callable[[int], Any]]:
    """One store call per query kind, as the HTTP layer would make it."""
    flt = PlaceFilter()
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    boxes = [wl.bbox(i) for i in range(len(lons))]

    def nearby(i: int) -> Page:
        return places.search(Query(flt, near=Near(Point(lons[i], lats[i]), RADIUS_M), limit=LIMIT))

    def knn(i: int) -> list:
        return places.nearest(Point(lons[i], lats[i]), K, flt)

    def district(i: int) -> Page:
        return places.search(Query(flt, area=wl.districts[i], limit=LIMIT))

    def bbox(i: int) -> Page:
        return places.search(Query(flt, bbox=BBox(*boxes[i]), limit=LIMIT))

    return {"nearby": nearby, "knn": knn, "district": district, "bbox": bbox}


def baseline_ops(brute: BruteForce, wl: Workload) -> dict[str, Callable[[int], Answer]]:
    """The same queries, brute force over all N points."""
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    boxes = [wl.bbox(i) for i in range(len(lons))]
    return {
        "nearby": lambda i: brute.within(lons[i], lats[i], RADIUS_M, LIMIT),
        "knn": lambda i: brute.nearest(lons[i], lats[i], K),
        "district": lambda i: brute.district_of(wl.districts[i], LIMIT),
        "bbox": lambda i: brute.bbox(*boxes[i], LIMIT),
    }


def as_answer(op: str, result: Any) -> Answer:
    """A store result in baseline terms (generator rows, distances, total)."""
    hits = result if op == "knn" else result.hits
    rows = np.array([row_of(h.record.name) for h in hits], dtype=np.int64)
    dist = np.array([h.distance_m for h in hits], dtype=np.float64) if op in ("nearby", "knn") else None
    total = len(hits) if op == "knn" else result.total
    return Answer(rows, dist, total)


def check_same(op: str, i: int, got: Answer, want: Answer, what: str) -> None:
    """Asserts equal rows, totals and (for distance queries) distances to the millimetre."""
    assert got.total == want.total, f"{op} query {i}: {what} total {got.total} != {want.total}"
    assert np.array_equal(got.rows, want.rows), f"{op} query {i}: {what} rows {got.rows} != {want.rows}"
    if want.distances_m is not None:
        assert got.distances_m is not None
        assert np.allclose(got.distances_m, want.distances_m, rtol=0, atol=1e-3), (
            f"{op} query {i}: {what} distances {got.distances_m} != {want.distances_m}"
        )


def verify(
    store_out: dict[str, list[Answer]],
    base_out: dict[str, list[Answer]],
    brute: BruteForce,
    wl: Workload,
    full: int,
) -> dict[str, int]:
    """Store == baseline on every query both ran; baseline == full-geodesic reference on `full` of them."""
    checked: dict[str, int] = {}
    for op in OPS:
        for i, want in enumerate(base_out[op]):
            check_same(op, i, store_out[op][i], want, "store vs baseline")
        checked[op] = len(base_out[op])
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    for i in range(min(full, len(lons))):
        check_same(
            "nearby",
            i,
            base_out["nearby"][i]
            if i < len(base_out["nearby"])
            else brute.within(lons[i], lats[i], RADIUS_M, LIMIT),
            brute.within_full_geodesic(lons[i], lats[i], RADIUS_M, LIMIT),
            "baseline vs full geodesic",
        )
        check_same(
            "knn",
            i,
            store_out["knn"][i],
            brute.nearest_full_geodesic(lons[i], lats[i], K),
            "store vs full geodesic",
        )
    return checked


# -- profiling (where the time goes) --------------------------------------------------------------


def _top(prof: cProfile.Profile, sort: str, lines: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(lines)
    text = buf.getvalue()
    start = text.find("   ncalls")
    return text[start:] if start >= 0 else text


def _ns_stats(samples: list[int]) -> str:
    a = np.asarray(samples) / 1e3
    return f"p50 {np.percentile(a, 50):8.1f} µs   mean {a.mean():8.1f} µs"


def what_if(store: Any, arrays: PlaceArrays, wl: Workload, m: int) -> list[str]:
    """Times alternatives to the store's hot steps without changing poi_service: each line compares
    what the store does now with a drop-in replacement, on the same connection and inputs.
    Runs after all timed loops; connection settings it touches are restored."""
    import math
    from datetime import datetime as dt

    from poi_service.geo import to_xyz
    from poi_service.models import Address, Geocoding, Place, Precision

    places, conn, spec = store.places, store.conn, store.places.spec
    lines: list[str] = []
    clock = time.perf_counter_ns

    def timed(name: str, fn: Callable[[int], Any], reps: int = m) -> float:
        ts = []
        cpu0 = time.process_time_ns()
        for i in range(reps):
            t0 = clock()
            fn(i)
            ts.append(clock() - t0)
        cpu = (time.process_time_ns() - cpu0) / reps / 1e3
        p50 = float(np.percentile(np.asarray(ts) / 1e3, 50))
        lines.append(f"    {name:84s} p50 {p50:9.1f} µs  cpu {cpu:9.1f} µs")
        return p50

    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    index = _index_of(places)
    page_fids = [index.nearest(lons[i], lats[i], K).fids for i in range(m)]

    def fetch_section() -> None:
        cache = getattr(places, "_cache", {})
        timed(
            "_fetch as is, record cache emptied first", lambda i: (cache.clear(), places._fetch(page_fids[i]))
        )
        for i in range(m):  # fill the record cache with these pages
            places._fetch(page_fids[i])
        timed("_fetch as is, records cached", lambda i: places._fetch(page_fids[i]))
        select = getattr(places, "_select", f"SELECT * FROM {spec.table}")  # noqa: S608

        def raw(i: int) -> list[tuple]:
            with store.lock:
                cur = conn.cursor()
                cur.row_factory = None
                marks = ",".join("?" * len(page_fids[i]))
                return cur.execute(f"{select} WHERE fid IN ({marks})", page_fids[i].tolist()).fetchall()

        with store.lock:
            cur = conn.cursor()
            cur.execute(f"{select} LIMIT 1")
            cols = [d[0] for d in cur.description]
        timed("  its SQL only (same SELECT, tuple rows)", raw)
        tuples_by_q = [raw(i) for i in range(m)]
        timed(
            "  its decoding only: spec.from_row(dict(zip(columns, row))) x10",
            lambda i: [spec.from_row(dict(zip(cols, v, strict=True))) for v in tuples_by_q[i]],
        )
        P = {c: j for j, c in enumerate(cols)}
        precisions = {p.value: p for p in Precision}

        def from_tuple(r: tuple) -> Place:
            # A positional decoder: no dict per row, Precision via a dict lookup; timestamps still parsed.
            return Place(
                id=r[P["id"]],
                name=r[P["name"]],
                category=r[P["category"]],
                address=Address(
                    r[P["street"]], r[P["housenumber"]], r[P["postcode"]], r[P["locality"]], r[P["ags"]]
                ),
                point=Point(r[P["lon"]], r[P["lat"]]),
                geocoding=Geocoding(
                    r[P["geocode_source"]],
                    precisions[r[P["geocode_precision"]]],
                    r[P["geocode_confidence"]],
                    dt.fromisoformat(r[P["geocoded_at"]]),
                ),
                phone=r[P["phone"]],
                website=r[P["website"]],
                description=r[P["description"]],
                source=r[P["source"]],
                external_key=r[P["external_key"]],
                created_at=dt.fromisoformat(r[P["created_at"]]),
                updated_at=dt.fromisoformat(r[P["updated_at"]]),
            )

        timed(
            "    positional decoder x10 (no dict per row, Precision via dict)",
            lambda i: [from_tuple(r) for r in tuples_by_q[i]],
        )
        parsed = [from_tuple(r) for r in tuples_by_q[0]]

        def construct_only(i: int) -> list[Place]:
            return [
                Place(
                    id=p.id,
                    name=p.name,
                    category=p.category,
                    address=Address(
                        p.address.street,
                        p.address.housenumber,
                        p.address.postcode,
                        p.address.locality,
                        p.address.ags,
                    ),
                    point=Point(p.point.lon, p.point.lat),
                    geocoding=Geocoding(
                        p.geocoding.source, p.geocoding.precision, p.geocoding.confidence, p.geocoding.at
                    ),
                    phone=p.phone,
                    website=p.website,
                    description=p.description,
                    source=p.source,
                    external_key=p.external_key,
                    created_at=p.created_at,
                    updated_at=p.updated_at,
                )
                for p in parsed
            ]

        timed(
            "    of which Place/Address/Point/Geocoding construction x10 (frozen dataclasses)", construct_only
        )
        row0 = tuples_by_q[0][0]
        iso = row0[P["created_at"]]
        timed(
            "    of which 3 x datetime.fromisoformat x10",
            lambda i: [dt.fromisoformat(iso) for _ in range(30)],
        )
        timed(
            "    dict(zip(columns, row)) x10 (what from_row is fed)",
            lambda i: [dict(zip(cols, v, strict=True)) for v in tuples_by_q[i]],
        )
        timed(
            "    Precision(value) enum call x10",
            lambda i: [Precision(row0[P["geocode_precision"]]) for _ in range(10)],
        )
        mmap = conn.execute("PRAGMA mmap_size").fetchone()[0]
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        try:
            conn.execute("PRAGMA mmap_size = 2147483648")
            timed(f"  its SQL with PRAGMA mmap_size = 2 GiB (was {mmap})", raw)
            conn.execute(f"PRAGMA mmap_size = {mmap}")
            conn.execute("PRAGMA cache_size = -262144")
            timed(f"  its SQL with PRAGMA cache_size = -262144 (256 MiB; was {cache}), first pass", raw)
            timed(f"  its SQL with PRAGMA cache_size = -262144 (256 MiB; was {cache}), second pass", raw)
        finally:
            conn.execute(f"PRAGMA mmap_size = {mmap}")
            conn.execute(f"PRAGMA cache_size = {cache}")

    def fixed_section() -> None:
        timed(
            "_fresh_index as is (own read snapshot; PRAGMA data_version check)",
            lambda i: places._fresh_index(),
        )
        timed(
            "_fresh_index + _fetch as is (two autocommit statements)",
            lambda i: (places._fresh_index(), places._fetch(page_fids[i])),
        )

        def one_txn(i: int) -> None:
            with store.lock:
                conn.execute("BEGIN")
                try:
                    places._fresh_index()
                    places._fetch(page_fids[i])
                finally:
                    conn.execute("COMMIT")

        timed("  same two inside one BEGIN..COMMIT read transaction (one lock round)", one_txn)
        timed(
            "  PRAGMA data_version alone (on the write connection)",
            lambda i: conn.execute("PRAGMA data_version").fetchone(),
        )
        timed(
            "to_xyz of the query point as is (numpy on 1-element arrays)",
            lambda i: to_xyz(np.array([lons[i]]), np.array([lats[i]]))[0],
        )

        def xyz_math(i: int) -> tuple[float, float, float]:
            lo, la = math.radians(lons[i]), math.radians(lats[i])
            c = math.cos(la)
            return (c * math.cos(lo), c * math.sin(lo), math.sin(la))

        timed("  with math.sin/cos on floats", xyz_math)
        tree = index._tree
        from poi_service.geo import chord_upper

        r_chord = chord_upper(RADIUS_M)
        centres = [xyz_math(i) for i in range(m)]
        timed(
            "cKDTree.query_ball_point alone (r = chord_upper(1 km))",
            lambda i: tree.query_ball_point(centres[i], r_chord),
        )
        timed("cKDTree.query(k=20) alone", lambda i: tree.query(centres[i], k=20))
        timed(
            "PointIndex.within + Ball.page(0, 10) as is",
            lambda i: index.within(lons[i], lats[i], RADIUS_M).page(0, LIMIT),
        )
        timed("PointIndex.nearest as is", lambda i: index.nearest(lons[i], lats[i], K))

    def district_section() -> None:
        flt = PlaceFilter()
        qs = [places._conditions(Query(flt, area=wl.districts[i], limit=LIMIT)) for i in range(m)]

        def sql_of(i: int) -> tuple[str, list[Any]]:
            conds, params = qs[i]
            return " AND ".join(conds), params

        timed(
            "SELECT count(*) as is (covering index places_ags)",
            lambda i: store.query(f"SELECT count(*) FROM places WHERE {sql_of(i)[0]}", sql_of(i)[1]),  # noqa: S608
        )
        select = getattr(places, "_select", "SELECT * FROM places")
        timed(
            "page as is: SELECT ... WHERE ags range ORDER BY fid LIMIT 10 (+ decode)",
            lambda i: places._records(f"{select} WHERE {sql_of(i)[0]} ORDER BY fid LIMIT 10", sql_of(i)[1]),
        )
        timed(
            "  two-step: fid IN (SELECT fid ... ORDER BY fid LIMIT 10) (index-only, then 10 rows)",
            lambda i: places._records(
                f"{select} WHERE fid IN (SELECT fid FROM places WHERE {sql_of(i)[0]} "  # noqa: S608
                "ORDER BY fid LIMIT 10) ORDER BY fid",
                sql_of(i)[1],
            ),
        )
        dist_codes = arrays.district.astype(np.int64)
        fids = np.arange(1, len(arrays) + 1, dtype=np.int64)
        order = np.lexsort((fids, dist_codes))
        sorted_codes = dist_codes[order]
        targets = [int(d) for d in wl.districts[:m]]

        def sorted_lookup(i: int) -> tuple[int, np.ndarray]:
            lo = int(np.searchsorted(sorted_codes, targets[i], "left"))
            hi = int(np.searchsorted(sorted_codes, targets[i], "right"))
            return hi - lo, fids[order[lo : min(hi, lo + LIMIT)]]

        timed(
            "  in-memory: district code array sorted by (code, fid): searchsorted -> total + 10 fids",
            sorted_lookup,
        )
        timed(
            "  in-memory: numpy mask over all N district codes (the baseline)",
            lambda i: np.flatnonzero(dist_codes == targets[i])[:LIMIT],
        )

    def build_section() -> None:
        gc.collect()
        reset_peak_rss()
        before = proc_status()["VmRSS"]
        t0 = time.perf_counter()
        built = _build_of(store)
        took = time.perf_counter() - t0
        peak = proc_status()["VmHWM"] - before
        del built
        lines.append(
            f"    {'_build_index as is (fetchall, fromiter x4, cKDTree)':78s} "
            f"{took:6.2f} s, peak +{peak:.0f} MB"
        )
        gc.collect()
        reset_peak_rss()
        before = proc_status()["VmRSS"]
        t0 = time.perf_counter()
        n = places.count()
        a_fid, a_lon, a_lat = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.float64)
        a_code = np.empty(n, np.int64)
        codes: dict[str, int] = {}
        with store.lock:
            cur = conn.cursor()
            cur.row_factory = None
            cur.execute("SELECT fid, lon, lat, category FROM places ORDER BY fid")
            j = 0
            while chunk := cur.fetchmany(65536):
                k = len(chunk)
                f, x, y, c = zip(*chunk, strict=True)
                a_fid[j : j + k], a_lon[j : j + k], a_lat[j : j + k] = f, x, y
                a_code[j : j + k] = [codes.setdefault(v, len(codes)) for v in c]
                j += k
        from poi_service.store.index import PointIndex

        built = PointIndex(a_fid[:j], a_lon[:j], a_lat[:j], a_code[:j])
        took = time.perf_counter() - t0
        peak = proc_status()["VmHWM"] - before
        del built
        lines.append(
            f"    {'  chunked: tuple cursor, fetchmany(65536) into preallocated arrays':78s} "
            f"{took:6.2f} s, peak +{peak:.0f} MB"
        )

    for title, section in (
        ("  Fetching the 10 records of a k-nearest page (fids from the index):", fetch_section),
        ("  Per-query fixed costs of nearby / k-nearest:", fixed_section),
        ("  Within-district (count + first page by fid):", district_section),
        ("  PointIndex build (what the first query after any write pays):", build_section),
    ):
        lines.append(title)
        try:
            section()
        except Exception as exc:
            lines.append(f"    (section failed: {type(exc).__name__}: {exc})")
    return lines


def _index_of(places: Any) -> Any:
    """The PointIndex (older stores return it or (index, codes), newer ones a Snapshot)."""
    got = places._fresh_index()
    return got[0] if isinstance(got, tuple) else getattr(got, "index", got)


def _build_of(store: Any) -> Any:
    """Runs the collection's index build (older stores: no argument; newer: a read connection)."""
    places = store.places
    try:
        return places._build_index()
    except TypeError:
        with store.reading() as conn:
            return places._build_index(conn)


def _guarded(title: str, fn: Callable[[], list[str]]) -> list[str]:
    """One report section; the store is being worked on, so a section that no longer fits its
    internals reports the error instead of losing the whole run."""
    try:
        return [title, *fn()]
    except Exception as exc:
        return [title, f"    (section failed: {type(exc).__name__}: {exc})"]


def breakdown(store: Any, wl: Workload, m: int) -> list[str]:
    """The steps collection.search / nearest take, timed one by one without the profiler.
    Uses the collection's private helpers: update this when they change."""
    places = store.places
    flt = PlaceFilter()
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    steps: dict[str, list[int]] = {}
    clock = time.perf_counter_ns

    def lap(name: str, t0: int) -> int:
        t1 = clock()
        steps.setdefault(name, []).append(t1 - t0)
        return t1

    for i in range(m):
        q = Query(flt, near=Near(Point(lons[i], lats[i]), RADIUS_M), limit=LIMIT)
        t = clock()
        with store.reading():
            index = _index_of(places)
            t = lap("nearby: _fresh_index (data_version check)", t)
            ball = index.within(lons[i], lats[i], RADIUS_M)
            t = lap("nearby: PointIndex.within (kd ball, chord bounds, shell geodesics)", t)
            nb = ball.page(0, LIMIT)
            t = lap("nearby: Ball.page (geodesics of page candidates, sort)", t)
            places._fetch(nb.fids)
            t = lap("nearby: _fetch of the page (cache, SELECT ... fid IN + decode)", t)
            places._page(nb.fids, nb.distances_m.tolist(), len(ball), q)
            lap("nearby: _page (_fetch, now cached, + Hit/Page objects)", t)
    for i in range(m):
        t = clock()
        with store.reading():
            index = _index_of(places)
            t = lap("knn: _fresh_index", t)
            nb = index.nearest(lons[i], lats[i], K)
            t = lap("knn: PointIndex.nearest (kd query + bounds + geodesics + sort)", t)
            places._fetch(nb.fids)
            lap("knn: _fetch 10 rows", t)
    plans: dict[str, list[str]] = {}
    select = getattr(places, "_select", "SELECT * FROM places")
    for op, make in (
        ("district", lambda i: Query(flt, area=wl.districts[i], limit=LIMIT)),
        ("bbox", lambda i: Query(flt, bbox=BBox(*wl.bbox(i)), limit=LIMIT)),
    ):
        for i in range(m):
            q = make(i)
            t = clock()
            conds, params = places._conditions(q)
            t = lap(f"{op}: _conditions (area resolve / SQL build)", t)
            where = " AND ".join(conds)
            count_sql = f"SELECT count(*) FROM places WHERE {where}"  # noqa: S608
            page_sql = f"{select} WHERE {where} ORDER BY fid LIMIT ? OFFSET ?"
            store.query(count_sql, params)
            t = lap(f"{op}: SELECT count(*) (exact total)", t)
            places._records(page_sql, [*params, LIMIT, 0])
            lap(f"{op}: SELECT page ORDER BY fid LIMIT 10 + decode", t)
            if i == 0:
                plans[op] = [
                    f"{sql.split(' WHERE ')[0][:40]} ...: "
                    + "; ".join(r[3] for r in store.query("EXPLAIN QUERY PLAN " + sql, p))
                    for sql, p in ((count_sql, params), (page_sql, [*params, LIMIT, 0]))
                ]
    lines = [f"    {name:60s} {_ns_stats(v)}" for name, v in steps.items()]
    lines.append("  SQLite query plans (first query):")
    for op, pl in plans.items():
        lines.extend(f"    {op}: {line}" for line in pl)
    return lines


def profile_report(store: Any, arrays: PlaceArrays, wl: Workload, m: int, tmp: Path) -> str:
    """cProfile of each query kind, the import and the index build, plus a manual breakdown of the
    store's internal steps timed without the profiler (the profiler inflates Python-heavy code)."""
    places = store.places
    ops = store_ops(places, wl)
    m = min(m, len(wl.lons))
    out = [f"# Profile at N = {len(arrays):,} ({m} queries per kind)\n"]
    out += _guarded(
        "## Breakdown of store steps (no profiler; same query inputs)\n", lambda: breakdown(store, wl, m)
    )
    out += _guarded(
        "\n## What-if measurements (alternatives timed on the same store and inputs)\n",
        lambda: what_if(store, arrays, wl, m),
    )

    for op in OPS:
        prof = cProfile.Profile()
        fn = ops[op]
        prof.enable()
        for i in range(m):
            fn(i)
        prof.disable()
        out.append(f"\n## cProfile: {op}, {m} queries, by internal time\n")
        out.append(_top(prof, "tottime", 18))

    def build() -> list[str]:
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        try:
            _build_of(store)
        finally:
            prof.disable()
        return [f"({time.perf_counter() - t0:.2f} s under the profiler)", _top(prof, "cumulative", 18)]

    out += _guarded(f"\n## cProfile: PointIndex build over {len(arrays):,} rows, by cumulative time\n", build)

    n_imp = min(len(arrays), 50_000)

    def imp() -> list[str]:
        s2 = open_store(str(tmp / "profile_import.gpkg"), DATA_DIR)
        try:
            prof = cProfile.Profile()
            t0 = time.perf_counter()
            prof.enable()
            try:
                s2.places.add_many(iter_places(_head(arrays, n_imp)))
            finally:
                prof.disable()
            elapsed = time.perf_counter() - t0
        finally:
            s2.close()
        return [f"({elapsed:.2f} s under the profiler)", _top(prof, "tottime", 25)]

    out += _guarded(
        f"\n## cProfile: add_many of the first {n_imp:,} rows into a fresh store, by internal time\n", imp
    )
    n_var = min(len(arrays), IMPORT_SAMPLE)
    out += _guarded(
        f"\n## What-if: import of the first {n_var:,} rows into throwaway stores\n",
        lambda: import_variants(_head(arrays, n_var), tmp),
    )
    return "\n".join(out)


IMPORT_SAMPLE = 100_000


def _head(arrays: PlaceArrays, n: int) -> PlaceArrays:
    return PlaceArrays(
        *(getattr(arrays, f)[:n] for f in ("lons", "lats", "ags", "district", "category", "origin"))
    )


def import_variants(sample: PlaceArrays, tmp: Path) -> list[str]:
    """add_many timed as is and with one change at a time, on throwaway stores, plus the Python-only
    share (building the PlaceData and the insert rows without touching SQLite)."""
    import importlib

    # new_id is looked up by name where rows are built; patch it in every store module that has it.
    id_modules = []
    for name in ("poi_service.store.collection", "poi_service.store.sqlite_write"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "new_id"):
            id_modules.append((mod, mod.new_id))

    lines = []

    def report(name: str, took: float, cpu: float) -> None:
        lines.append(
            f"    {name:66s} {took:7.2f} s wall ({took / len(sample) * 1e6:6.1f} µs/row), "
            f"{cpu:7.2f} s cpu ({cpu / len(sample) * 1e6:6.1f} µs/row)"
        )

    def cache(s: Any) -> None:
        s.conn.execute("PRAGMA cache_size = -262144")

    def drop_secondary(s: Any) -> None:
        s.conn.execute("DROP INDEX places_ags")
        s.conn.execute("DROP INDEX places_category")

    def create_secondary(s: Any) -> None:
        s.conn.execute("CREATE INDEX places_ags ON places(ags)")
        s.conn.execute("CREATE INDEX places_category ON places(category)")

    def all_three(s: Any) -> None:
        cache(s)
        drop_secondary(s)

    counter = iter(range(1, 1 << 62))

    def ordered_id(external_key: str | None) -> str:
        # A time-ordered id (uuid7-like: 48-bit ms timestamp, then a counter) instead of uuid4.
        return f"{int(time.time() * 1000):012x}-{next(counter):020x}"

    d = tmp / "import_python_only"
    d.mkdir()
    s = open_store(str(d / "v.gpkg"), DATA_DIR)
    try:
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in iter_places(sample):
            pass
        report("PlaceData construction only (iter_places; inside every line below)", *_since(t0, c0))
        now = datetime.now(UTC).isoformat()
        t0, c0 = time.perf_counter(), time.process_time()
        for data in iter_places(sample):
            s.places._row(data, now)
        report("  + collection._row per place (to_row, uuid4, fold_text, blob), no SQL", *_since(t0, c0))
    except Exception as exc:
        lines.append(f"    (Python-only share failed: {type(exc).__name__}: {exc})")
    finally:
        s.close()
        shutil.rmtree(d, ignore_errors=True)

    Hook = Callable[[Any], None] | None
    variants: list[tuple[str, Hook, Hook, bool]] = [
        ("add_many as is", None, None, False),
        ("PRAGMA cache_size = -262144 (256 MiB) on the connection", cache, None, False),
        ("time-ordered ids (uuid7-like) instead of uuid4", None, None, True),
        ("ags/category indexes dropped, re-created after", drop_secondary, create_secondary, False),
        ("all three", all_three, create_secondary, True),
    ]
    for i, (name, setup, after, ordered) in enumerate(variants):
        if ordered and not id_modules:
            lines.append(f"    {name:66s} (skipped: no new_id to replace)")
            continue
        d = tmp / f"import_variant_{i}"
        d.mkdir()
        s = open_store(str(d / "v.gpkg"), DATA_DIR)
        try:
            if setup:
                setup(s)
            if ordered:
                for mod, _ in id_modules:
                    mod.new_id = ordered_id  # type: ignore[attr-defined]
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            s.places.add_many(iter_places(sample))
            if after:
                with s.transaction():
                    after(s)
            report(name, *_since(t0, c0))
            assert s.places.count() == len(sample)
        finally:
            for mod, original in id_modules:
                mod.new_id = original  # type: ignore[attr-defined]
            s.close()
            shutil.rmtree(d, ignore_errors=True)
    return lines


def _since(t0: float, c0: float) -> tuple[float, float]:
    return time.perf_counter() - t0, time.process_time() - c0


# -- one size, in a child process ---------------------------------------------------------------


def index_only(
    store: Any, wl: Workload, q: int, warm: int, base_out: dict[str, list[Answer]]
) -> dict[str, Any]:
    """Nearby and k-nearest as keys only (store/key_reads.py: near_keys / nearest_keys, what the API's
    nearby and nearest take at scale, with rendered features): fids, exact distances and total from the
    point index after one change check, no records fetched. Checked against the brute force like the
    full queries (fid = generator row + 1)."""
    places = store.places
    lons, lats = wl.lons.tolist(), wl.lats.tolist()
    flt = PlaceFilter()

    def nearby(i: int) -> Answer:
        page = places.near_keys(Near(Point(lons[i], lats[i]), RADIUS_M), flt, 0, LIMIT)
        if page is None:  # a check was due: the record query re-syncs, as the API's fallback does
            places.search(Query(flt, near=Near(Point(lons[i], lats[i]), RADIUS_M), limit=LIMIT))
            page = places.near_keys(Near(Point(lons[i], lats[i]), RADIUS_M), flt, 0, LIMIT)
        return Answer(np.array(page.fids) - 1, np.array(page.distances_m), page.total)

    def knn(i: int) -> Answer:
        page = places.nearest_keys(Point(lons[i], lats[i]), K, flt)
        if page is None:
            places.nearest(Point(lons[i], lats[i]), K, flt)
            page = places.nearest_keys(Point(lons[i], lats[i]), K, flt)
        return Answer(np.array(page.fids) - 1, np.array(page.distances_m), page.total)

    out: dict[str, Any] = {}
    for op, fn in (("nearby", nearby), ("knn", knn)):
        timing, answers = measure(fn, q, warm)
        for i, want in enumerate(base_out[op]):
            check_same(op, i, answers[i], want, "index only vs baseline")
        out[op] = timing.summary()
    return out


def rss_probe(path: str, seed: int, q: int) -> dict[str, float]:
    """A service-like process: opens an existing store, builds the index with the first query, runs q
    queries of every kind, and reports its RSS (current and peak). Nothing else is held in memory."""
    start = proc_status()["VmRSS"]
    store = open_store(path, DATA_DIR)
    try:
        wl = make_workload(q, seed, BBOX_HALF_KM)  # loads the boundaries, as the first area query would
        ops = store_ops(store.places, wl)
        t0 = time.perf_counter()
        ops["nearby"](0)
        build = time.perf_counter() - t0
        for op in OPS:
            for i in range(q):
                ops[op](i)
        status = proc_status()
    finally:
        store.close()
    return {"start_mb": start, "rss_mb": status["VmRSS"], "peak_mb": status["VmHWM"], "index_build_s": build}


def run_size(args: argparse.Namespace) -> dict[str, Any]:
    n, q = args.size, args.queries
    res: dict[str, Any] = {"n": n}
    log(f"N={n:,}: generating places")
    t0 = time.perf_counter()
    arrays = generate_arrays(n, args.seed)
    wl = make_workload(q, args.seed, BBOX_HALF_KM)
    brute = BruteForce(arrays)
    res["generate_s"] = time.perf_counter() - t0
    res["outside_germany"] = int((arrays.ags == "").sum())
    t0 = time.perf_counter()
    for _ in iter_places(arrays):
        pass
    res["construct_s"] = time.perf_counter() - t0
    gc.collect()
    res["rss_bench_mb"] = proc_status()["VmRSS"]
    res["peak_reset"] = reset_peak_rss()

    tmp = Path(tempfile.mkdtemp(prefix="poi-store-bench-", dir=args.tmp_dir))
    path = tmp / "bench.gpkg"
    store = open_store(str(path), DATA_DIR)
    try:
        places = store.places
        log(f"N={n:,}: importing (add_many, one transaction)")
        t0, c0 = time.perf_counter(), time.process_time()
        written = places.add_many(iter_places(arrays))
        res["import_s"], res["import_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        assert written == n, f"add_many wrote {written} of {n}"
        assert places.count() == n
        res["rss_after_import_mb"] = proc_status()["VmRSS"]

        t0, c0 = time.perf_counter(), time.process_time()
        first = places.search(
            Query(
                PlaceFilter(), near=Near(Point(float(wl.lons[0]), float(wl.lats[0])), RADIUS_M), limit=LIMIT
            )
        )
        res["index_build_s"], res["index_build_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
        res["rss_after_index_mb"] = proc_status()["VmRSS"]
        del first

        bq = min(q, max(args.min_baseline_queries, int(args.baseline_budget // n)))
        warm = min(20, q)
        store_out: dict[str, list[Answer]] = {}
        base_out: dict[str, list[Answer]] = {}
        res["ops"] = {}
        s_ops, b_ops = store_ops(places, wl), baseline_ops(brute, wl)
        for op in OPS:
            log(f"N={n:,}: {op}: store x{q}, baseline x{bq}")
            st, outs = measure(s_ops[op], q, warm)
            # Keep only what verify() compares, as compact Answers (not thousands of Place objects).
            store_out[op] = [as_answer(op, r) for r in outs[: max(bq, args.verify)]]
            del outs
            bt, base_out[op] = measure(b_ops[op], bq, min(5, bq))
            totals = [a.total for a in base_out[op]]
            res["ops"][op] = {
                "store": st.summary(),
                "baseline": bt.summary(),
                "mean_total": float(np.mean(totals)),
            }
        log(f"N={n:,}: index only (no record fetch)")
        res["index_only"] = index_only(store, wl, q, warm, base_out)
        log(f"N={n:,}: verifying store answers against the brute force")
        res["verified"] = verify(store_out, base_out, brute, wl, args.verify)
        res["verified_full_geodesic"] = min(args.verify, q)
        del store_out, base_out
        gc.collect()
        status = proc_status()
        res["rss_now_mb"], res["rss_peak_mb"] = status["VmRSS"], status["VmHWM"]
        res["gpkg_mb"] = sum(p.stat().st_size for p in tmp.iterdir()) / 2**20
        log(f"N={n:,}: RSS probe (a fresh process that only opens the store and queries it)")
        probe = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--rss-probe",
                str(path),
                "--seed",
                str(args.seed),
                "--queries",
                str(min(q, 200)),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        res["probe"] = json.loads(probe.stdout.strip().splitlines()[-1])
        if args.profile:
            log(f"N={n:,}: profiling")
            report = profile_report(store, arrays, wl, args.profile_queries, tmp)
            out = Path(args.profile_out)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(report + "\n", encoding="utf-8")
            res["profile"] = str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out)
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return res


# -- the parent: machine, table, targets --------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    import pyproj
    import scipy
    import shapely

    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "libs": f"numpy {np.__version__}, scipy {scipy.__version__}, pyproj {pyproj.__version__}, "
        f"shapely {shapely.__version__}",
        "commit": commit,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _ms(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _x(ratio: float) -> str:
    return f"{ratio:,.1f}×" if ratio >= 1 else f"{ratio:.2g}×"


def render_table(results: Sequence[dict[str, Any]]) -> str:
    head = (
        "| N | op | engine | queries | ops/s | p50 ms | p99 ms | CPU ms/q | speedup vs baseline "
        "| import s | index build s | RSS peak / now MB |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for r in results:
        for op in OPS:
            s, b = r["ops"][op]["store"], r["ops"][op]["baseline"]
            speed = s["ops_per_s"] / b["ops_per_s"]
            lines.append(
                f"| {r['n']:,} | {OP_LABEL[op]} | store | {s['queries']} | {s['ops_per_s']:,.0f} | {_ms(s['p50_ms'])} "
                f"| {_ms(s['p99_ms'])} | {_ms(s['cpu_ms'])} | {_x(speed)} | {r['import_s']:.2f} | {r['index_build_s']:.2f} "
                f"| {r['rss_peak_mb']:.0f} / {r['rss_now_mb']:.0f} |"
            )
            lines.append(
                f"| {r['n']:,} | {OP_LABEL[op]} | numpy brute force | {b['queries']} | {b['ops_per_s']:,.0f} "
                f"| {_ms(b['p50_ms'])} | {_ms(b['p99_ms'])} | {_ms(b['cpu_ms'])} | 1× | | | |"
            )
    return "\n".join(lines)


def target_values(r: dict[str, Any]) -> dict[str, float]:
    return {
        "nearby_p50": r["ops"]["nearby"]["store"]["p50_ms"],
        "knn_p50": r["ops"]["knn"]["store"]["p50_ms"],
        "district_p50": r["ops"]["district"]["store"]["p50_ms"],
        "import_s": r["import_s"],
        "rss_peak_mb": r["probe"]["peak_mb"],
    }


def render_targets(results: Sequence[dict[str, Any]]) -> tuple[str, list[str]]:
    at = next((r for r in results if r["n"] == TARGET_N), None)
    lines = [f"| target (at N = {TARGET_N:,}, in-process) | limit | measured | result |", "|---|---|---|---|"]
    misses: list[str] = []
    values = target_values(at) if at else {}
    for t in TARGETS:
        if at is None:
            lines.append(f"| {t.label} | ≤ {t.limit:g} {t.unit} | not run | n/a |")
            continue
        v = values[t.key]
        ok = v <= t.limit
        shown = _ms(v) if t.unit == "ms" else f"{v:.1f}"
        lines.append(
            f"| {t.label} | ≤ {t.limit:g} {t.unit} | {shown} {t.unit} | {'PASS' if ok else 'MISS'} |"
        )
        if not ok:
            misses.append(t.key)
    return "\n".join(lines), misses


def render_index_only(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        "Keys only (store/key_reads.py near_keys / nearest_keys, what /places/nearby and /places/nearest "
        "take at scale with rendered features: fids, exact distances and total from the point index after "
        "one change check, no records fetched):",
        "",
        "| N | op | queries | p50 ms | p99 ms | CPU ms/q |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for op, s in r.get("index_only", {}).items():
            lines.append(
                f"| {r['n']:,} | {OP_LABEL[op]} | {s['queries']} | {_ms(s['p50_ms'])} | {_ms(s['p99_ms'])} "
                f"| {_ms(s['cpu_ms'])} |"
            )
    return "\n".join(lines)


def render_notes(results: Sequence[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        mt = {op: r["ops"][op]["mean_total"] for op in OPS}
        lines.append(
            f"- N = {r['n']:,}: import {r['import_s']:.1f} s wall / {r['import_cpu_s']:.1f} s CPU, index build "
            f"{r['index_build_s']:.2f} s wall / {r['index_build_cpu_s']:.2f} s CPU; generate {r['generate_s']:.1f} s (of which PlaceData construction "
            f"{r['construct_s']:.1f} s, also inside import s); {r['outside_germany']:,} points outside every "
            f"municipality (sea/abroad, ags NULL); GeoPackage + WAL {r['gpkg_mb']:.0f} MB; RSS probe (fresh "
            f"process: open store, index build {r['probe']['index_build_s']:.2f} s, queries) "
            f"{r['probe']['start_mb']:.0f} MB after imports, peak {r['probe']['peak_mb']:.0f} MB, now "
            f"{r['probe']['rss_mb']:.0f} MB; bench process: RSS before the store "
            f"opened {r['rss_bench_mb']:.0f} MB (generated arrays, boundaries, baseline), after import "
            f"{r['rss_after_import_mb']:.0f} MB, after index build {r['rss_after_index_mb']:.0f} MB"
            f"{'' if r['peak_reset'] else ' (peak NOT reset: includes generation)'}; mean matches per query: "
            f"nearby {mt['nearby']:.1f}, district {mt['district']:,.0f}, bbox {mt['bbox']:.1f}; verified "
            f"store == brute force on {sum(r['verified'].values())} queries, k-nearest == full-geodesic "
            f"reference on {r['verified_full_geodesic']}."
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", help="comma-separated N (default 10000,100000,1000000)")
    p.add_argument("--queries", type=int, help="store queries per kind and N (default 2000)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--quick", action="store_true", help="smoke run: N = 5000, 200 queries")
    p.add_argument(
        "--baseline-budget",
        type=float,
        default=2e8,
        help="brute-force point visits per kind: baseline queries = min(queries, max(50, budget / N))",
    )
    p.add_argument("--min-baseline-queries", type=int, default=50)
    p.add_argument("--verify", type=int, default=5, help="queries checked against full geodesics per N")
    p.add_argument("--profile", action="store_true", help="also profile the largest N (report file)")
    p.add_argument("--profile-queries", type=int, default=500)
    p.add_argument("--tmp-dir", help="where the temporary GeoPackages go (default: system temp)")
    p.add_argument("--out", help="markdown report path (default bench/results/store_<date>[ _suffix].md)")
    p.add_argument("--no-write", action="store_true", help="print only")
    # internal: one size in a child process
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--result-json", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    p.add_argument("--rss-probe", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or "5000"
        args.queries = args.queries or 200
    args.queries = args.queries or 2000
    args.size_list = [int(s) for s in (args.sizes or ",".join(map(str, DEFAULT_SIZES))).split(",") if s]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rss_probe:
        print(json.dumps(rss_probe(args.rss_probe, args.seed, args.queries)))
        return 0
    if args.worker:
        res = run_size(args)
        Path(args.result_json).write_text(json.dumps(res), encoding="utf-8")
        return 0

    stamp = datetime.now().strftime("%Y-%m-%d")
    suffix = (
        ""
        if args.size_list == list(DEFAULT_SIZES) and not args.quick
        else ("_quick" if args.quick else "_n" + "-".join(str(s) for s in args.size_list))
    )
    out = Path(args.out) if args.out else RESULTS / f"store_{stamp}{suffix}.md"
    machine = machine_info()
    command = ".venv/bin/python bench/store_bench.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    log(f"machine: {machine}")
    results = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="poi-store-bench-json-") as jd:
        for n in args.size_list:
            rj = Path(jd) / f"{n}.json"
            child = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                "--size",
                str(n),
                "--queries",
                str(args.queries),
                "--seed",
                str(args.seed),
                "--verify",
                str(args.verify),
                "--baseline-budget",
                str(args.baseline_budget),
                "--min-baseline-queries",
                str(args.min_baseline_queries),
                "--result-json",
                str(rj),
            ]
            if args.tmp_dir:
                child += ["--tmp-dir", args.tmp_dir]
            if args.profile and n == max(args.size_list):
                prof = out.with_name(f"{out.stem}_profile_{n}.txt")
                child += [
                    "--profile",
                    "--profile-queries",
                    str(args.profile_queries),
                    "--profile-out",
                    str(prof),
                ]
            subprocess.run(child, check=True, cwd=ROOT)
            results.append(json.loads(rj.read_text(encoding="utf-8")))
    elapsed = time.perf_counter() - started
    machine["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    table = render_table(results)
    targets, misses = render_targets(results)
    notes = render_notes(results)
    profiles = [r["profile"] for r in results if r.get("profile")]
    report = "\n".join(
        [
            f"# Store benchmark, {stamp}",
            "",
            f"Command: `{command}` (seed {args.seed}, {elapsed / 60:.1f} min wall)",
            "",
            f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} RAM, Linux {machine['kernel']}, "
            f"Python {machine['python']}, SQLite {machine['sqlite']}, {machine['libs']}; commit {machine['commit']} "
            f"(plus uncommitted work in the tree); load average {machine['load']} at start, {machine['load_end']} "
            "at end (the machine is shared).",
            "",
            table,
            "",
            targets,
            "",
            render_index_only(results),
            "",
            "Notes:",
            "",
            notes,
            "- ops/s = queries / wall time of the timed loop (one thread); p50/p99 from per-query perf_counter_ns; "
            "CPU ms/q = process CPU time of the loop / queries (close to the mean wall latency when the machine "
            "is otherwise idle); speedup = store ops/s / brute-force ops/s. Store answers are full Place records; brute-force answers are "
            "row numbers and distances only.",
            "- RSS peak / now in the table = VmHWM / VmRSS of the per-N bench process, peak reset after generating "
            "the data, so it covers import, index build and queries plus the bench's own arrays and brute-force "
            "baseline (the 'RSS before the store opened' above). The RSS target is checked against the probe: a "
            "fresh process holding only the store (interpreter, libraries, boundaries, index, SQLite cache).",
            *(f"- Profile: {p}" for p in profiles),
            "",
        ]
    )
    print(report)
    if not args.no_write:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
        log(f"wrote {out}")
    if misses:
        log(f"targets missed: {', '.join(misses)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
