"""Benchmark of the opening hours and wheelchair conditions (not a test): each query kind with and
without open_at / wheelchair over the same inputs, and the map's open-state answer.

    .venv/bin/python bench/hours_bench.py                   # N = 100k, 300 queries per kind
    .venv/bin/python bench/hours_bench.py --sizes 10000 --queries 100

Places come from bench/generate.py (Germany's population); 60 % of them get a real opening_hours
tag drawn from the Helsinki extract (tests/data/osm/helsinki_centre.osm.pbf, © OpenStreetMap
contributors, ODbL), 40 % a wheelchair value. Answers with open_at are checked against brute force
(the unfiltered answer, filtered by poi_service.hours) for the first queries. Writes
bench/results/hours_<date>.md.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.generate import DATA_DIR, DEFAULT_SEED, generate_arrays, iter_places, make_workload  # noqa: E402
from bench.store_bench import machine_info  # noqa: E402
from poi_service import hours  # noqa: E402
from poi_service.categories import Vocabulary  # noqa: E402
from poi_service.maps.cache import prepare  # noqa: E402
from poi_service.maps.data import places_payload  # noqa: E402
from poi_service.maps.open_state import OpenStates  # noqa: E402
from poi_service.models import BBox, Point  # noqa: E402
from poi_service.store import Near, PlaceFilter, Query, open_store  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PBF = ROOT / "tests" / "data" / "osm" / "helsinki_centre.osm.pbf"
AT = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)  # a Monday, 11:30 in Germany


def real_hours() -> list[str]:
    import osmium

    return [o.tags["opening_hours"] for o in osmium.FileProcessor(str(PBF)) if "opening_hours" in o.tags]


def timed(fn: Callable[[int], Any], m: int) -> tuple[float, float, float, float]:
    """(ops/s, p50 ms, p99 ms, CPU ms per query) over m calls after 10 warm-up calls."""
    for i in range(min(10, m)):
        fn(i)
    samples = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(m):
        t = time.perf_counter_ns()
        fn(i)
        samples.append(time.perf_counter_ns() - t)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    arr = np.array(samples) / 1e6
    return m / wall, float(np.percentile(arr, 50)), float(np.percentile(arr, 99)), cpu / m * 1000


def _once(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall s, CPU s) of one call."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def run(n: int, m: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    tags = real_hours()
    arrays = generate_arrays(n, seed)
    rows = [
        replace(
            p,
            opening_hours=rng.choice(tags) if rng.random() < 0.6 else None,
            wheelchair=rng.choice(("yes", "limited", "no")) if rng.random() < 0.4 else None,
        )
        for p in iter_places(arrays)
    ]
    wl = make_workload(m, seed)
    out = [f"### N = {n:,} ({len(set(tags))} distinct real tags, 60 % of places with hours)", ""]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "hours.gpkg"), DATA_DIR)
        store.places.add_many(rows)
        places = store.places
        places.warm()
        p = [Point(float(wl.lons[i]), float(wl.lats[i])) for i in range(m)]
        flt_open, flt_wc = PlaceFilter(open_at=AT), PlaceFilter(wheelchair=("yes", "limited"))
        both = PlaceFilter(wheelchair=("yes", "limited"), open_at=AT)
        for i in range(min(20, m)):  # answers against brute force
            everything = places.search(Query(PlaceFilter(), near=Near(p[i], 1000), limit=100_000)).hits
            want = [
                h.record.id
                for h in everything
                if hours.is_open(h.record.opening_hours, h.record.point.lon, h.record.point.lat, AT)
            ]
            got = places.search(Query(flt_open, near=Near(p[i], 1000), limit=100_000))
            assert [h.record.id for h in got.hits] == want and got.total == len(want), i
        kinds: list[tuple[str, Callable[[int], Any]]] = [
            ("nearby 1 km", lambda i: places.search(Query(PlaceFilter(), near=Near(p[i], 1000), limit=10))),
            (
                "nearby 1 km + open_at",
                lambda i: places.search(Query(flt_open, near=Near(p[i], 1000), limit=10)),
            ),
            (
                "nearby 1 km + wheelchair",
                lambda i: places.search(Query(flt_wc, near=Near(p[i], 1000), limit=10)),
            ),
            ("nearby 1 km + both", lambda i: places.search(Query(both, near=Near(p[i], 1000), limit=10))),
            (
                "nearby 5 km + open_at",
                lambda i: places.search(Query(flt_open, near=Near(p[i], 5000), limit=10)),
            ),
            ("nearest 10", lambda i: places.nearest(p[i], 10, PlaceFilter())),
            ("nearest 10 + open_at", lambda i: places.nearest(p[i], 10, flt_open)),
            ("bbox 2 km", lambda i: places.search(Query(PlaceFilter(), bbox=BBox(*wl.bbox(i)), limit=10))),
            (
                "bbox 2 km + open_at",
                lambda i: places.search(Query(flt_open, bbox=BBox(*wl.bbox(i)), limit=10)),
            ),
            ("district", lambda i: places.search(Query(PlaceFilter(), area=wl.districts[i], limit=10))),
            ("district + open_at", lambda i: places.search(Query(flt_open, area=wl.districts[i], limit=10))),
        ]
        out += ["| query | ops/s | p50 ms | p99 ms | CPU ms/query |", "|---|---:|---:|---:|---:|"]
        for name, fn in kinds:
            ops, p50, p99, cpu = timed(fn, m)
            out.append(f"| {name} | {ops:,.0f} | {p50:.2f} | {p99:.2f} | {cpu:.2f} |")
        (total, whole, whole_cpu) = _once(lambda: places.search(Query(flt_open, limit=10)).total)
        (_, again, again_cpu) = _once(lambda: places.search(Query(flt_open, limit=10)).total)
        out += [
            "",
            f"- every place open at {AT.isoformat()} (no spatial condition): {total:,} of {n:,}; first call "
            f"{whole:.2f} s ({whole_cpu:.2f} s CPU), again {again:.2f} s ({again_cpu:.2f} s CPU)",
        ]
        (prepared, build, build_cpu) = _once(
            lambda: prepare(places_payload(places.iter_all(), Vocabulary.load()), places.data_version())
        )
        states = OpenStates()
        (_, cold, cold_cpu) = _once(lambda: states.body(prepared, AT))
        (body, warm, warm_cpu) = _once(lambda: states.body(prepared, AT.replace(minute=31)))
        (_, hour, hour_cpu) = _once(lambda: states.body(prepared, AT.replace(hour=11)))
        out += [
            f"- map payload build (for reference): {build:.2f} s ({build_cpu:.2f} s CPU), "
            f"{len(prepared.body_gz) / 1e6:.2f} MB gzipped",
            f"- map open.json: first answer (parses every row) {cold:.2f} s ({cold_cpu:.2f} s CPU); the next "
            f"minute {warm:.2f} s ({warm_cpu:.2f} s CPU); an hour later {hour:.2f} s ({hour_cpu:.2f} s CPU); "
            f"{len(body) / 1e6:.2f} MB",
        ]
        store.close()
    out.append(f"- peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    info = machine_info()
    lines = [
        f"# Opening hours benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        *(f"- {k}: {v}" for k, v in info.items()),
        f"- queries per kind: {args.queries}",
        "",
    ]
    for n in (int(s) for s in args.sizes.split(",")):
        lines += [*run(n, args.queries, args.seed), ""]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"hours_{datetime.now(UTC):%Y-%m-%d}.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
