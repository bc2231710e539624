"""HTTP benchmark of issue 16 (not a test): nearby at random locations at 1M places beside a FastAPI
ceiling, start to full speed (cold and warm), and per-worker memory (PSS/USS/RSS), through the public
CLI and HTTP only, so it measures whatever store code is checked out (bench/README.md says more).

    .venv/bin/python bench/http_random.py --store-dir /work/benchstore          # N = 1M, 6-8 minutes
    .venv/bin/python bench/http_random.py --store-dir /work/benchstore --quick  # N = 200k, ~2 minutes

In order, one server at a time, wrk (1 thread, 16 connections) on the same machine:
1. ours, cold: a copy of the store gets one place through `poi-service import` (a new data version),
   uvicorn starts (bench/http_servers.uvicorn_cmd: 2 workers, uvloop, httptools, no access log); time
   to the first 200 from /health, then 1-s wrk windows from then, each worker's CPU and connections
   per window, memory;
2. ours, steady: left alone until it uses under 5 % of a core over 2 s (background work after a start
   is not the steady state; the wait is reported), 2-s windows until two agree within 10 %, then
   --duration s of --window s windows: req/s and p99 per window, exact p50/p99 over all (wrk's latency
   histograms merged), CPU of the server, wrk and the machine, memory after the load;
3. ours, warm restart (same data version): as 1;
4. the ceiling (bench/ceiling_app.py, same flags) with one fixed body, as 2: ours saved in 1 cut to
   --ceiling-kb (the issue's 2 KB; the target uses it), then the whole 10-feature answer (~8 KB);
5. `poi-service serve` on the shipped data: memory after a few requests of each common kind.
Every request of ours is a different query (make_workload with --query-seed, one pool for the run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import http_random_report  # noqa: E402
from bench.generate import DEFAULT_SEED, make_workload, uniform_points  # noqa: E402
from bench.http_bench import LIMIT, RADIUS_M, ensure_store, load, log  # noqa: E402
from bench.http_servers import Server, free_port, uvicorn_cmd  # noqa: E402
from bench.http_windows import (  # noqa: E402
    Memory,
    PathPool,
    Window,
    combine,
    run_window,
    run_windows,
    workers_memory,
)

CLI = Path(sys.executable).parent / "poi-service"
# Flensburg centre (Destatis), where the shipped places are
FLENSBURG = (54.7825, 9.4375)


@dataclass
class StartPhase:
    """A start: seconds to the first /health 200, 1-s windows from then, memory at /health and after."""

    label: str
    health_s: float
    origin: float
    windows: list[Window]
    memory_at_health: list[Memory]
    memory_after: list[Memory]


@dataclass
class CeilingRun:
    """The ceiling app with one fixed body: its warm-up and measured windows."""

    label: str
    body_bytes: int
    features: int
    warmup: list[Window]
    windows: list[Window]


@dataclass
class Results:
    """Everything the report shows."""

    n: int
    store: Path
    pool_size: int
    starts: list[StartPhase] = field(default_factory=list)
    warmup: list[Window] = field(default_factory=list)
    steady: list[Window] = field(default_factory=list)
    memory_after_load: list[Memory] = field(default_factory=list)
    ceilings: list[CeilingRun] = field(default_factory=list)
    idle_wait_s: float = 0.0
    idle_wait_cpu_s: float = 0.0
    shipped_health_s: float = 0.0
    shipped_requests: dict[str, int] = field(default_factory=dict)
    shipped_memory: list[Memory] = field(default_factory=list)
    sent: int = 0
    distinct: int = 0
    overflow: int = 0


def nearby_paths(m: int, seed: int, points: str = "population") -> list[str]:
    """m nearby paths at uniformly random points in Germany (the issue's public workload) or at
    make_workload's population-weighted centres (coordinates to 1 cm, as bench/http_bench.py)."""
    if points == "uniform":
        lons, lats = uniform_points(m, seed)
    else:
        wl = make_workload(m, seed)
        lons, lats = wl.lons, wl.lats
    return [
        f"/places/nearby?lat={la:.7f}&lon={lo:.7f}&radius_m={RADIUS_M:g}&limit={LIMIT}"
        for lo, la in zip(lons.tolist(), lats.tolist(), strict=True)
    ]


def cut_body(body: bytes, max_bytes: int) -> tuple[bytes, int]:
    """The answer with as many of its first features as fit in max_bytes (numberReturned adjusted),
    serialised compactly as ours is; (body, features)."""
    answer = json.loads(body)
    features = answer["features"]
    for k in range(len(features), 0, -1):
        cut = {**answer, "numberReturned": k, "features": features[:k]}
        out = json.dumps(cut, separators=(",", ":"), ensure_ascii=False).encode()
        if len(out) <= max_bytes or k == 1:
            return out, k
    return body, len(features)


def spawn(name: str, cmd: list[str], env: dict[str, str], tmp: Path) -> tuple[Server, float]:
    """Starts a server; returns it and the monotonic time of the start."""
    port = int(cmd[cmd.index("--port") + 1])
    log_path = tmp / f"{name}_{port}.log"
    t0 = time.monotonic()
    with log_path.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return Server(name, proc, f"http://127.0.0.1:{port}", log_path), t0


def wait_health(server: Server, t0: float, timeout_s: float = 180.0) -> float:
    """Seconds from t0 to the first 200 from /health (polled every 20 ms)."""
    while time.monotonic() - t0 < timeout_s:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited: {server.log.read_text()[-2000:]}")
        try:
            if httpx.get(server.base_url + "/health", timeout=2).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{server.name}: no /health within {timeout_s} s")


def copy_store(src: Path, dst: Path) -> Path:
    """A file copy of the store (and its WAL, if any) that the run may write to, with the derived files
    kept beside it (`<store>.snapshots`), as a deployment keeps them across a restart."""
    for suffix in ("", "-wal"):
        source = Path(f"{src}{suffix}")
        if source.exists() and source.stat().st_size > 0:
            shutil.copyfile(source, f"{dst}{suffix}")
    derived = Path(f"{src}.snapshots")
    if derived.is_dir():
        shutil.copytree(derived, f"{dst}.snapshots", ignore=shutil.ignore_patterns("*.lock", ".*"))
    return dst


def write_one_place(db: Path, env: dict[str, str], tmp: Path, i: int) -> None:
    """A new data version through the public CLI: one place imported into the copy."""
    csv = tmp / f"one_{i}.csv"
    csv.write_text(f"name,category,lat,lon\nBench write {i},church,52.52,13.405\n")
    subprocess.run(
        [str(CLI), "--database", str(db), "import", str(csv)], env=env, check=True, capture_output=True
    )


class Bench:
    """The phases of one run, with the options of the command line."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.env = {**os.environ, "POI_STATE_DIR": str(tmp / "state")}

    def ours(self, db: Path) -> tuple[Server, float]:
        cmd = uvicorn_cmd(
            sys.executable, "poi_service.api.app:app_from_env", free_port(), self.args.workers, factory=True
        )
        return spawn("ours", cmd, {**self.env, "POI_DATABASE_URL": str(db)}, self.tmp)

    def start_phase(self, label: str, db: Path, pool: PathPool) -> tuple[Server, StartPhase]:
        """Starts ours, times /health, then 1-s windows; the server is left running."""
        a = self.args
        server, t0 = self.ours(db)
        try:
            health_s = wait_health(server, t0)
            origin = time.monotonic()
            at_health = workers_memory(server.proc.pid)
            windows = [
                run_window(server.base_url, pool, 1, a.connections, a.threads, server.proc.pid)
                for _ in range(a.start_windows)
            ]
            after = workers_memory(server.proc.pid)
        except BaseException:
            server.stop()
            raise
        phase = StartPhase(label, health_s, origin, windows, at_health, after)
        rates = ", ".join(f"{w.rps:,.0f}" for w in windows)
        log(f"  {label}: /health after {health_s:.2f} s; req/s per 1-s window: {rates}")
        return server, phase

    def stable(self, server: Server, pool: PathPool, min_s: float) -> list[Window]:
        """Untimed windows for at least min_s, then until two in a row agree within 10 % (at most 60 s)."""
        a, out = self.args, list[Window]()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            w = run_window(server.base_url, pool, a.window, a.connections, a.threads, server.proc.pid)
            out.append(w)
            if time.monotonic() - t0 >= min_s and len(out) >= 2:
                prev = out[-2].rps
                if prev > 0 and abs(w.rps - prev) <= 0.1 * max(w.rps, prev):
                    break
        return out

    def measured(self, server: Server, pool: PathPool) -> list[Window]:
        a = self.args
        count = max(1, round(a.duration / a.window))
        windows = run_windows(
            server.base_url, pool, count, a.window, a.connections, a.threads, server.proc.pid
        )
        c = combine(windows)
        log(
            f"  {server.name}: {c.rps:,.0f} req/s, p50 {c.p50_ms:.2f} ms, p99 {c.p99_ms:.2f} ms, "
            f"max window p99 {c.max_window_p99_ms:.1f} ms, errors {c.errors}"
        )
        return windows

    def capture_body(self, server: Server, paths: list[str]) -> bytes:
        """A real 10-feature nearby answer (the first of the pool's tail that has 10 features)."""
        for path in reversed(paths[-2000:]):
            answer = httpx.get(server.base_url + path, timeout=10)
            answer.raise_for_status()
            if len(answer.json()["features"]) == LIMIT:
                return answer.content
        raise RuntimeError("no 10-feature answer among 2000 queries")

    def run_ours(self, res: Results, paths: list[str]) -> bytes:
        """Cold start, steady state, warm restart on a copy of the store."""
        a = self.args
        db = copy_store(res.store, self.tmp / "store.gpkg")
        write_one_place(db, self.env, self.tmp, 1)
        pool = PathPool(paths[:-2000], self.tmp)  # the tail is for capture_body
        server, cold = self.start_phase("cold start (new data version)", db, pool)
        try:
            res.starts.append(cold)
            body = self.capture_body(server, paths)
            # background work after the start (e.g. payload warm-ups) is not the steady state: wait it out
            cpu0, t0 = server.cpu_s(), time.monotonic()
            server.wait_idle(timeout_s=a.idle_timeout)
            res.idle_wait_s, res.idle_wait_cpu_s = time.monotonic() - t0, server.cpu_s() - cpu0
            log(f"  idle after {res.idle_wait_s:.0f} s ({res.idle_wait_cpu_s:.1f} CPU s of background work)")
            res.warmup = self.stable(server, pool, a.min_warmup)
            res.steady = self.measured(server, pool)
            res.memory_after_load = workers_memory(server.proc.pid)
        finally:
            server.stop()
        server, warm = self.start_phase("warm restart (same data version)", db, pool)
        server.stop()
        res.starts.append(warm)
        res.sent, res.distinct, res.overflow = pool.sent, pool.distinct_sent, pool.overflow
        return body

    def run_ceilings(self, res: Results, body: bytes, paths: list[str]) -> None:
        """The issue's ceiling (a ~2 KB body: ours cut to the features that fit) and, unless
        --ceiling-kb is 0, the whole 10-feature answer as a second ceiling."""
        bodies = [cut_body(body, int(self.args.ceiling_kb * 1024))] if self.args.ceiling_kb else []
        if self.args.ceiling_full:
            bodies.append((body, LIMIT))
        for data, k in bodies:
            label = f"ceiling, {len(data) / 1024:.1f} KB body ({k} features)"
            log(label)
            warmup, windows = self.run_ceiling(data, paths)
            res.ceilings.append(CeilingRun(label, len(data), k, warmup, windows))

    def run_ceiling(self, body: bytes, paths: list[str]) -> tuple[list[Window], list[Window]]:
        a = self.args
        body_file = self.tmp / "ceiling_body.json"
        body_file.write_bytes(body)
        cmd = uvicorn_cmd(sys.executable, "bench.ceiling_app:create", free_port(), a.workers, factory=True)
        server, t0 = spawn("ceiling", cmd, {**self.env, "CEILING_BODY_FILE": str(body_file)}, self.tmp)
        pool = PathPool(paths[:100_000], self.tmp)  # same request lines; the ceiling ignores them
        try:
            wait_health(server, t0)
            warmup = self.stable(server, pool, min(a.min_warmup, 6))
            return warmup, self.measured(server, pool)
        finally:
            server.stop()

    def run_shipped(self, res: Results) -> None:
        """`poi-service serve` on the shipped data (a fresh store, loaded on first start as by run.sh)."""
        a = self.args
        port = free_port()
        cmd = [str(CLI), "serve", "--port", str(port), "--workers", str(a.workers), "--no-access-log"]
        env = {**self.env, "POI_DATABASE_URL": str(self.tmp / "shipped" / "poi.gpkg")}
        (self.tmp / "shipped").mkdir()
        server, t0 = spawn("shipped", cmd, env, self.tmp)
        lat, lon = FLENSBURG
        kinds = {
            "nearby": f"/places/nearby?lat={lat}&lon={lon}&radius_m=1000&limit=10",
            "map page": "/maps/places",
            "map data": "/maps/places/data.json",
            "geocode": "/geocode?q=Flensburg",
            "open now": f"/places/nearby?lat={lat}&lon={lon}&radius_m=5000&limit=10&open_now=true",
        }
        try:
            res.shipped_health_s = wait_health(server, t0)
            for _ in range(a.shipped_rounds):
                for kind, path in kinds.items():
                    # a new connection per request, so both workers get some of each kind
                    answer = httpx.get(server.base_url + path, timeout=30)
                    answer.raise_for_status()
                    res.shipped_requests[kind] = res.shipped_requests.get(kind, 0) + 1
            time.sleep(1.0)
            res.shipped_memory = workers_memory(server.proc.pid)
        finally:
            server.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--places", type=int, default=1_000_000, help="N (default 1000000)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the store's places")
    ap.add_argument("--query-seed", type=int, default=DEFAULT_SEED + 1, help="seed of the query centres")
    ap.add_argument(
        "--points",
        choices=("uniform", "population"),
        default="uniform",
        help="query centres: uniform in Germany (the issue's workload, default) or population-weighted",
    )
    ap.add_argument("--pool", type=int, default=1_500_000, help="distinct request paths for the run")
    ap.add_argument("--store-dir", type=Path, help="stores places_<N>_<seed>.gpkg (made if missing)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds measured (ours and ceiling)")
    ap.add_argument("--window", type=int, default=2, help="seconds per measured wrk window")
    ap.add_argument("--start-windows", type=int, default=15, help="1-s windows after /health")
    ap.add_argument("--min-warmup", type=float, default=10.0, help="least untimed seconds before measuring")
    ap.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="longest wait for the server to go idle after the start",
    )
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn workers of every server")
    ap.add_argument(
        "--ceiling-kb",
        type=float,
        default=2.0,
        help="body of the ceiling the target uses (issue: 2 KB; 0: none)",
    )
    ap.add_argument(
        "--ceiling-full",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also a ceiling answering the whole 10-feature answer of ours (about 8 KB)",
    )
    ap.add_argument("--shipped-rounds", type=int, default=4, help="requests of each kind, shipped data")
    ap.add_argument("--tmp-dir", type=Path, help="parent of the temporary directory (store copy: ~1.4 GB)")
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: N = 200000, 10-s runs, one ceiling: about 2 minutes"
    )
    ap.add_argument("--out", type=Path, help="report (default bench/results/http_random_<date>.md)")
    ap.add_argument("--no-write", action="store_true", help="print the report only")
    args = ap.parse_args(argv)
    if args.quick:
        args.places, args.duration, args.start_windows, args.min_warmup = 200_000, 10.0, 6, 4.0
        args.pool, args.shipped_rounds, args.ceiling_full = 300_000, 2, False
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started, load0 = time.time(), load()
    with tempfile.TemporaryDirectory(prefix="http_random_", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        store_dir = args.store_dir or tmp
        store = store_dir / f"places_{args.places}_{args.seed}.gpkg"
        if not store.exists():  # the generator needs the store in-process; a reused one is only copied
            from bench.generate import generate_arrays

            log(f"generating and importing {args.places:,} places into {store}")
            ensure_store(generate_arrays(args.places, args.seed), args.places, args.seed, store_dir)
        log(f"N = {args.places:,}: store {store}; {args.pool:,} query paths (seed {args.query_seed})")
        paths = nearby_paths(args.pool, args.query_seed, args.points)
        res = Results(args.places, store, len(set(paths)))
        bench = Bench(args, tmp)
        body = bench.run_ours(res, paths)
        bench.run_ceilings(res, body, paths)
        log("shipped data")
        bench.run_shipped(res)
    report = http_random_report.render(
        args, sys.argv[1:] if argv is None else argv, res, (load0, load()), started
    )
    print(report)
    if not args.no_write:
        name = f"http_random_{time.strftime('%Y-%m-%d')}{'_quick' if args.quick else ''}.md"
        out = args.out or ROOT / "bench" / "results" / name
        out.write_text(report)
        log(f"report written to {out}")


if __name__ == "__main__":
    main()
