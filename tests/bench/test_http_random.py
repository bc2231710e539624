"""Smoke tests of bench/http_random.py (issue 16's HTTP benchmark) in seconds: the window maths, the
smaps reading on this process, and real 1-s wrk windows against the ceiling app and a tiny store."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from collections import Counter
from pathlib import Path

from bench.generate import generate_places
from bench.http_random import (
    Bench,
    CeilingRun,
    PathPool,
    Results,
    StartPhase,
    cut_body,
    nearby_paths,
    spawn,
    wait_health,
)
from bench.http_random_report import render
from bench.http_servers import free_port, uvicorn_cmd
from bench.http_windows import Memory, Window, combine, full_speed_at, parse_wrk, percentile, run_window
from poi_service.store import open_store
from tests.conftest import DATA_DIR


def window(start: float, requests: int, latencies: list[int]) -> Window:
    stats = {"requests": requests, "duration_us": 1e6, "p50_us": 0, "max_us": max(latencies, default=0)}
    stats |= dict.fromkeys(("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts"), 0)
    return Window(start, start + 1.0, stats, Counter(latencies))


def nearest_rank(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[math.ceil(q / 100 * len(ordered)) - 1])


def test_windows_combine_into_the_percentiles_of_all_latencies() -> None:
    rng = random.Random(16)
    parts = [[rng.randint(200, 5000) for _ in range(997)] for _ in range(5)]
    parts[3] += [rng.randint(40_000, 90_000) for _ in range(40)]  # one window with a stall
    windows = [window(float(i), len(p), p) for i, p in enumerate(parts)]
    every = [v for p in parts for v in p]
    c = combine(windows)
    assert c.requests == len(every)
    assert c.p99_ms == nearest_rank(every, 99) / 1e3
    assert c.p50_ms == nearest_rank(every, 50) / 1e3
    assert c.max_window_p99_ms == percentile(Counter(parts[3]), 99) / 1e3 > 40
    assert c.p99_ms < c.max_window_p99_ms  # the overall p99 is not the worst window's


def test_full_speed_is_the_start_of_the_first_window_that_stays_above() -> None:
    rates = [100, 900, 400, 950, 1000, 980]
    windows = [window(10.0 + i, r, [1000]) for i, r in enumerate(rates)]
    assert full_speed_at(windows, 10.0, 900) == 3.0
    assert full_speed_at(windows[:3], 10.0, 900) is None


def test_wrk_output_parses_into_summary_and_histogram() -> None:
    out = 'noise\nHTTPBENCH {"requests": 3, "duration_us": 1000000}\nHTTPHIST 120:2 4000:1\n'
    stats, hist = parse_wrk(out)
    assert stats["requests"] == 3 and hist == Counter({120: 2, 4000: 1})


def test_smaps_of_this_process_add_up() -> None:
    blob = bytearray(64 * 1024 * 1024)  # 64 MB this process owns alone
    blob[::4096] = b"x" * len(blob[::4096])
    m = Memory.of(os.getpid())
    assert m.uss <= m.pss <= m.rss
    assert math.isclose(m.uss + m.shared, m.rss, abs_tol=0.01)
    assert m.uss > 64
    status = Path("/proc/self/status").read_text()
    vm_rss = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")) / 1024
    assert abs(vm_rss - m.rss) < 0.1 * m.rss
    del blob


def test_the_ceiling_body_is_a_real_answer_cut_to_size() -> None:
    feature = {"type": "Feature", "id": "x", "geometry": {"type": "Point", "coordinates": [9.4, 54.8]}}
    features = [{**feature, "properties": {"name": f"Ort {i}", "pad": "p" * 600}} for i in range(10)]
    body = json.dumps({"type": "FeatureCollection", "numberReturned": 10, "features": features}).encode()
    cut, k = cut_body(body, 2048)
    answer = json.loads(cut)
    assert len(cut) <= 2048 and k == len(answer["features"]) == answer["numberReturned"] == 2
    assert answer["features"] == features[:2]


def test_real_windows_against_the_ceiling_app_count_every_request_once(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text('{"type":"FeatureCollection","features":[]}')
    env = {**os.environ, "CEILING_BODY_FILE": str(body)}
    cmd = uvicorn_cmd(sys.executable, "bench.ceiling_app:create", free_port(), 2, factory=True)
    server, t0 = spawn("ceiling", cmd, env, tmp_path)
    try:
        wait_health(server, t0, timeout_s=60)
        pool = PathPool(nearby_paths(50_000, 7), tmp_path)
        windows = [run_window(server.base_url, pool, 1, 4, 1, server.proc.pid) for _ in range(2)]
    finally:
        server.stop()
    for w in windows:
        assert w.errors == 0 and w.requests > 50
        assert sum(w.hist.values()) >= w.requests  # wrk's histogram holds every completed request
        assert len(w.worker_cpu_s) == 2 and sum(w.worker_conns.values()) == 4
    assert pool.sent == sum(w.requests for w in windows)
    assert pool.distinct_sent >= pool.sent and pool.overflow == 0


def test_a_start_phase_on_a_tiny_store_serves_nearby_from_both_workers(tmp_path: Path) -> None:
    db = tmp_path / "tiny.gpkg"
    store = open_store(str(db), DATA_DIR)
    try:
        store.places.add_many(generate_places(200, seed=5))
    finally:
        store.close()
    args = argparse.Namespace(workers=2, connections=4, threads=1, start_windows=2)
    bench = Bench(args, tmp_path)
    pool = PathPool(nearby_paths(20_000, 8), tmp_path)
    server, phase = bench.start_phase("cold", db, pool)
    server.stop()
    assert 0 < phase.health_s < 60
    assert [w.errors for w in phase.windows] == [0, 0] and all(w.requests > 0 for w in phase.windows)
    assert len(phase.memory_at_health) == 2 and all(m.pss > 0 for m in phase.memory_after)


def test_the_report_renders_targets_from_windows(tmp_path: Path) -> None:
    fast = [window(float(i), 8000, [900] * 98 + [9000] * 2) for i in range(3)]
    for w in fast:
        w.worker_cpu_s, w.worker_conns = {1: 0.5, 2: 0.5}, {1: 8, 2: 8}
    ceiling = [window(float(i), 10000, [500]) for i in range(3)]
    start = StartPhase(
        "cold", 1.5, 0.0, [window(float(i), r, [800]) for i, r in enumerate([500, 7500, 7600])], [], []
    )
    mem = [Memory(1, rss=300.0, pss=240.0, uss=230.0, shared=70.0)]
    res = Results(1000, Path("places.gpkg"), 100, steady=fast, memory_after_load=mem, shipped_memory=mem)
    res.starts.append(start)
    res.ceilings.append(CeilingRun("ceiling, 2 KB", 2000, 2, [], ceiling))
    args = argparse.Namespace(seed=1, query_seed=2, workers=2, threads=1, connections=16, window=1)
    report = render(args, ["--quick"], res, ("1.0", "2.0"), 0.0)
    assert "| 8,000 / 10,000 req/s = 80.0% | PASS |" in report
    assert "| 9.00 ms | PASS |" in report  # p99 of all latencies: 2 % at 9 ms
    assert "| /health <= 2 s, cold | 1.50 s | PASS |" in report
    assert "| 1.0 s; every worker serving from never | PASS |" in report  # 7,500 >= 90 % of 8,000 from 1 s on
