"""The markdown report of bench/http_bench.py: machine, versions, the table with ratios, where the
server's CPU goes, and the issue's targets with PASS/MISS."""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.http_inprocess import Cost
from bench.http_servers import ROOT, pygeoapi_versions

TARGET_RPS, TARGET_P99_MS, TARGET_RATIO = 3000.0, 20.0, 10.0


def _sh(*cmd: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip()


def machine(with_pygeoapi: bool) -> list[str]:
    """nproc, CPU model, memory, kernel, and the versions of everything in the request path."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal"))
    versions = {"python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for pkg in ("uvicorn", "fastapi", "starlette", "uvloop", "httptools", "orjson"):
        versions[pkg] = md.version(pkg)
    if with_pygeoapi:
        versions.update(pygeoapi_versions())
    versions["wrk"] = _sh("wrk", "-v").split(" [")[0].removeprefix("wrk ")
    commit = _sh("git", "rev-parse", "--short", "HEAD")
    dirty = _sh("git", "status", "--porcelain", "--untracked-files=no", "poi_service")
    return [
        f'Machine: `nproc` = {os.cpu_count()}, CPU "{model}", {mem_kb / 2**20:.1f} GiB RAM, '
        f"Linux {platform.release()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"Code: commit {commit}{' with uncommitted changes in poi_service/' if dirty else ''}.",
    ]


def _ms(us: float, requests: float) -> str:
    return f"{us / 1e3:.2f}" if requests else "–"


def main_table(rows: Sequence[Any], args: argparse.Namespace) -> list[str]:
    """One line per wrk run; ratio = req/s over pygeoapi's best provider at the same N."""
    best: dict[int, float] = {}
    for r in rows:
        if r.engine.startswith("pygeoapi"):
            best[r.n] = max(best.get(r.n, 0.0), r.run.rps)
    out = [
        "| N | server | query | req/s | p50 ms | p99 ms | max ms | errors | server CPU ms/req "
        "| CPU-bound req/s | wrk CPU (cores) | others' CPU (cores) | load avg at start | × pygeoapi (best) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s, run = r.run.stats, r.run
        wall = s["duration_us"] / 1e6
        others = max(0.0, run.machine_busy_s - run.wrk_cpu_s - r.server_cpu_s) / run.wall_s
        ratio = f"{run.rps / best[r.n]:.1f}×" if best.get(r.n) else ""
        n_req = s["requests"]
        cpu_ms = r.server_cpu_s * 1e3 / n_req if n_req else float("nan")
        # what the server's CPU per request allows on the cores wrk leaves it, were nothing else running
        bound = (os.cpu_count() or 1) - run.wrk_cpu_s / wall
        capacity = f"{bound * 1e3 / cpu_ms:,.0f}" if n_req else "–"
        out.append(
            f"| {r.n:,} | {r.engine} | {r.query} | {run.rps:,.0f} | {_ms(s['p50_us'], n_req)} "
            f"| {_ms(s['p99_us'], n_req)} | {_ms(s['max_us'], n_req)} | {run.errors} | {cpu_ms:.3f} "
            f"| {capacity} | {run.wrk_cpu_s / wall:.2f} | {others:.2f} | {r.load} | {ratio} |"
        )
    return out


def breakdown(notes: Sequence[dict[str, Any]]) -> list[str]:
    """Server CPU per nearby request split into store call, rest of the ASGI app, and uvicorn/HTTP."""
    out = [
        "| N | server CPU ms/req (2 workers, wrk) | store call ms (in-process) | ASGI app ms (in-process, "
        "incl. store) | → store | → app (FastAPI, params, GeoJSON, orjson) | → uvicorn, HTTP, socket |",
        "|---|---|---|---|---|---|---|",
    ]
    for note in notes:
        row = note.get("nearby")
        if row is None:
            continue
        server = row.server_cpu_s * 1e3 / row.run.stats["requests"]
        store: Cost = note["store"]
        app: Cost = note["app"]
        rest = max(0.0, server - app.cpu_ms)
        out.append(
            f"| {note['n']:,} | {server:.3f} | {store.cpu_ms:.3f} | {app.cpu_ms:.3f} "
            f"| {store.cpu_ms / server:.0%} | {(app.cpu_ms - store.cpu_ms) / server:.0%} | {rest / server:.0%} |"
        )
    return out


def targets(rows: Sequence[Any]) -> list[str]:
    """The issue's HTTP targets for the nearby query at every N."""
    out = ["| N | target | limit | measured | result |", "|---|---|---|---|---|"]
    for r in rows:
        if r.engine != "poi-service" or r.query != "nearby":
            continue
        pyg = [x.run.rps for x in rows if x.n == r.n and x.engine.startswith("pygeoapi")]
        checks = [
            (
                "nearby req/s, 2 workers",
                f"≥ {TARGET_RPS:,.0f}",
                r.run.rps,
                r.run.rps >= TARGET_RPS,
                f"{r.run.rps:,.0f}",
            ),
            (
                "nearby p99",
                f"≤ {TARGET_P99_MS:g} ms",
                0,
                r.run.stats["p99_us"] / 1e3 <= TARGET_P99_MS,
                f"{r.run.stats['p99_us'] / 1e3:.2f} ms",
            ),
        ]
        if pyg:
            ratio = r.run.rps / max(pyg)
            checks.append(
                (
                    "× pygeoapi's best req/s",
                    f"≥ {TARGET_RATIO:g}×",
                    ratio,
                    ratio >= TARGET_RATIO,
                    f"{ratio:.1f}×",
                )
            )
        for name, limit, _, ok, shown in checks:
            out.append(f"| {r.n:,} | {name} | {limit} | {shown} | {'PASS' if ok else 'MISS'} |")
    return out


def render(
    args: argparse.Namespace,
    argv: Sequence[str],
    rows: Sequence[Any],
    notes: Sequence[dict[str, Any]],
    loads: tuple[str, str],
    took_s: float,
) -> str:
    """The whole report."""
    checked = "; ".join(
        f"N = {n['n']:,}: ours {args.check} nearby + {args.check} bbox queries equal to brute force"
        + "".join(f", pygeoapi {k} {args.check} boxes" for k in args.pygeoapi if f"checked_{k}" in n)
        for n in notes
    )
    imports = ", ".join(
        f"{n['n']:,}: " + ("reused" if n["import_s"] is None else f"{n['import_s']:.0f} s") for n in notes
    )
    lines = [
        f"# HTTP benchmark, {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Command: `.venv/bin/python bench/http_bench.py {' '.join(argv)}` ({took_s / 60:.1f} min; "
        f"seed {args.seed}). Load average (1/5/15 min) at start {loads[0]}, at end {loads[1]}.",
        "",
        *machine(bool(args.pygeoapi)),
        "",
        f"Servers: `uvicorn --workers {args.workers} --loop uvloop --http httptools --no-access-log` on 127.0.0.1, "
        "one at a time, each timed only once idle after start (ours builds the map payload of all places in a "
        "background thread per worker at startup): ours is `poi_service.api.app:app_from_env --factory` over the "
        "GeoPackage store; pygeoapi "
        "is `pygeoapi.starlette_app:APP` from bench/.venv-pygeoapi (bench/pygeoapi-env.sh) over copies of the "
        "same file, collection `places_ogr` (OGR provider, GDAL GPKG driver) and `places_sqlite` (SQLiteGPKG "
        f"provider, SpatiaLite; only up to N = {args.sqlite_max:,}), limits default_items = max_items = 10.",
        f"Load: `wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s` with bench/http_bench.lua "
        f"rotating through {args.queries} query paths (centres from make_workload); before each timed run, "
        f"warm-up runs of {args.warmup:g} s until two in a row agree on req/s within 20 %, for nearby after "
        "at least 3 × the in-process point index build time (each worker builds its index on its first nearby "
        "query; builds: " + ", ".join(f"{n['n']:,}: {n['build_s']:.1f} s" for n in notes) + "). "
        "Queries: nearby = `/places/nearby?lat&lon&radius_m=1000&limit=10`; bbox = 2 × 2 km box, 10 features "
        "(`/places?bbox=...&limit=10` for ours, `/collections/places_<provider>/items?f=json&bbox=...&limit=10` "
        "for pygeoapi).",
        f"Checked before timing: {checked}. Store imports: {imports}.",
        "",
        *main_table(rows, args),
        "",
        "wrk CPU and others' CPU are cores used during the timed run (2 = the whole machine): wrk's own "
        "rusage, and the machine's busy time from /proc/stat minus wrk and the server. Server CPU ms/req is "
        "the user + system time of uvicorn's processes over the run / requests completed; CPU-bound req/s = "
        "(cores - wrk's cores) / server CPU per request: the rate the server's own cost allows on an "
        "otherwise idle machine (an estimate, for runs where other processes took CPU; errors are timeouts "
        "(wrk --timeout 5s) and non-2xx answers).",
        "",
        "### Where the server's CPU goes (nearby)",
        "",
        *breakdown(notes),
        "",
        "### Targets (issue 7)",
        "",
        *targets(rows),
        "",
    ]
    return "\n".join(lines)
