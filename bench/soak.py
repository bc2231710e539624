"""Soak test: mixed traffic for N minutes against `poi-service serve --workers 2`.

Nearby, bounding-box and OGC pages, the map payload, geocoding, writes through an editor key (create
then patch) and an export every 30 s, from a few client threads. Reports errors (any 5xx, transport
error or unexpected status), p50/p99/max per route and each worker's RSS at the start (after warm-up)
and the end, to bench/results/soak_<date>.md.

    python -m bench.soak --minutes 10 --places 20000 --clients 6
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.generate import generate_places, make_workload
from bench.http_servers import free_port
from bench.procfs import family
from poi_service.models import KeyRole
from poi_service.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
CLI = Path(sys.executable).with_name("poi-service")
QUERIES = (
    "Flensburg",
    "Süderstraße 66, 24955 Harrislee",
    "Kiel",
    "24937 Flensburg",
    "Berlin Mitte",
    "Potsdam",
)


def rss_mb(pid: int) -> dict[int, float]:
    """VmRSS in MB of each uvicorn worker (the children of the serve process)."""
    out = {}
    for child, _ in family(pid):
        if child == pid:
            continue
        try:
            status = Path(f"/proc/{child}/status").read_text()
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" in cmdline:
            continue
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        out[child] = kb / 1024
    return out


class Recorder:
    """Latencies and errors per route, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def call(
        self, c: httpx.Client, route: str, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any
    ) -> httpx.Response | None:
        """One request, timed; a transport error or a status outside `ok` is an error."""
        t0 = time.perf_counter()
        try:
            r = c.request(method, path, **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[route].append(f"{type(exc).__name__}: {exc}")
            return None
        dt = time.perf_counter() - t0
        with self.lock:
            self.times[route].append(dt)
            if r.status_code not in ok:
                self.errors[route].append(f"{r.status_code}: {r.text[:200]}")
        return r


def client_loop(url: str, key: str, rec: Recorder, stop: threading.Event, seed: int, ids: list[str]) -> None:
    """One client: a weighted mix of reads and writes until stopped."""
    rng = random.Random(seed)
    work = make_workload(2000, seed=seed)
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=60) as c:
        n = 0
        while not stop.is_set():
            n += 1
            i = rng.randrange(2000)
            lon, lat = float(work.lons[i]), float(work.lats[i])
            box = ",".join(f"{v:.5f}" for v in work.bbox(i))
            pick = rng.random()
            if pick < 0.30:
                rec.call(
                    c, "nearby", "GET", "/places/nearby", params={"lat": lat, "lon": lon, "radius_m": 2000}
                )
            elif pick < 0.50:
                rec.call(c, "bbox", "GET", "/places", params={"bbox": box, "limit": 100})
            elif pick < 0.65:
                params = {"bbox": box, "limit": 500}
                rec.call(c, "ogc page", "GET", "/ogc/collections/places/items", params=params)
            elif pick < 0.72:
                rec.call(c, "map data", "GET", "/maps/places/data.json")
            elif pick < 0.85:
                rec.call(c, "geocode", "GET", "/geocode", params={"q": rng.choice(QUERIES)})
            elif pick < 0.95 or not ids:
                body = {"name": f"Soak {seed}-{n}", "category": "church", "lat": lat, "lon": lon}
                r = rec.call(c, "write: create", "POST", "/places", ok=(201,), json=body, headers=auth)
                if r is not None and r.status_code == 201:
                    ids.append(r.json()["id"])
            else:
                path = f"/places/{rng.choice(ids)}"
                got = rec.call(c, "write: patch", "GET", path)
                if got is not None and got.status_code == 200:
                    h = {**auth, "If-Match": got.headers["etag"]}
                    # 412: another client patched the same place in between (expected, no error).
                    body = {"description": f"v{n}"}
                    rec.call(c, "write: patch", "PATCH", path, ok=(200, 412), json=body, headers=h)


def export_loop(url: str, rec: Recorder, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=300) as c:
        while not stop.wait(30.0):
            rec.call(c, "export gpkg", "GET", "/export/places.gpkg")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) * 1000 if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--places", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--warmup-s", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server too (the finally below)
    tmp = Path(tempfile.mkdtemp(prefix="poi-soak-"))
    db = tmp / "soak.gpkg"
    store = open_store(str(db), DATA_DIR)
    store.places.add_many(generate_places(args.places))
    _, key = store.create_key("soak", KeyRole.EDITOR)
    store.close()
    port = free_port()
    env = {**os.environ, "POI_DATABASE_URL": str(db), "POI_STATE_DIR": str(tmp / "state")}
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(CLI), "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    rec, stop = Recorder(), threading.Event()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"server did not start: {(tmp / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.3)
        ids: list[str] = []
        threads = [
            threading.Thread(target=client_loop, args=(url, key, rec, stop, s, ids))
            for s in range(args.clients)
        ]
        threads.append(threading.Thread(target=export_loop, args=(url, rec, stop)))
        started = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(args.warmup_s)  # every route and the first export seen before the start RSS
        rss_start = rss_mb(proc.pid)
        time.sleep(max(0.0, args.minutes * 60 - args.warmup_s))
        rss_end = rss_mb(proc.pid)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    restarts = (tmp / "serve.log").read_text(errors="replace").count("died")
    report(args, rec, rss_start, rss_end, elapsed, restarts)


def report(
    args: argparse.Namespace,
    rec: Recorder,
    start: dict[int, float],
    end: dict[int, float],
    elapsed: float,
    restarts: int,
) -> None:
    total_errors = sum(len(v) for v in rec.errors.values())
    lines = [
        f"# Soak {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.soak --minutes {args.minutes:g} --places {args.places} --clients {args.clients}`: "
        f"{elapsed / 60:.1f} min of mixed traffic from {args.clients} client threads (plus an export every 30 s) "
        f"against `poi-service serve --workers 2` over {args.places:,} synthetic places (bench/generate.py), "
        f"on {os.cpu_count()} cores shared with other work (load average {os.getloadavg()[0]:.1f} at the end).",
        "",
        f"**Errors: {total_errors}** (any 5xx, 4xx other than expected, or transport error); "
        f"workers restarted by uvicorn's supervisor: {restarts}.",
        "",
        "| route | requests | errors | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route in sorted(rec.times):
        t = rec.times[route]
        cells = [
            route,
            len(t),
            len(rec.errors[route]),
            f"{percentile(t, 50):.1f}",
            f"{percentile(t, 99):.1f}",
        ]
        lines.append("| " + " | ".join(map(str, cells)) + f" | {max(t) * 1000:.1f} |")
    lines += [
        "",
        "| worker | RSS at start (after warm-up) MB | RSS at end MB | growth |",
        "|---|---:|---:|---:|",
    ]
    for pid in sorted(set(start) | set(end)):
        a, b = start.get(pid, float("nan")), end.get(pid, float("nan"))
        lines.append(f"| {pid} | {a:.0f} | {b:.0f} | {(b - a) / a * 100:+.1f} % |")
    a, b = sum(start.values()), sum(end.values())
    lines.append(f"| all | {a:.0f} | {b:.0f} | {(b - a) / a * 100:+.1f} % |")
    for route, errs in rec.errors.items():
        if errs:
            lines += ["", f"First errors of {route}:", *(f"- {e}" for e in errs[:5])]
    text = "\n".join(lines) + "\n"
    out = args.out or ROOT / "bench" / "results" / f"soak_{datetime.now(UTC):%Y-%m-%d}.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
