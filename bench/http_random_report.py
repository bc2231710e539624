"""The markdown report of bench/http_random.py: the issue-16 targets with PASS/MISS, then every window."""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import subprocess
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.http_windows import Combined, Memory, Window, combine, full_speed_at

if TYPE_CHECKING:
    from bench.http_random import Results, StartPhase

ROOT_CMD = "python bench/http_random.py"
CEILING_SHARE, P99_MS, WINDOW_P99_MS, HEALTH_S, FULL_SPEED_S = 0.55, 15.0, 40.0, 2.0, 5.0
MEM_SHIPPED_MB, MEM_1M_MB, FULL_SPEED_SHARE = 250.0, 400.0, 0.9
SERVING_CORE = 0.1  # a worker "serves" in a 1-s window when it used at least this much CPU


def verdict(ok: bool) -> str:
    return "PASS" if ok else "**MISS**"


def git(*args: str) -> str:
    out = subprocess.run(["git", *args], capture_output=True, text=True)
    return out.stdout.strip()


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.platform()}"


def ms(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:.2f}"


def memory_table(title: str, mem: Sequence[Memory]) -> list[str]:
    rows = [
        "| when | worker pid | RSS MB | PSS MB | owned (Pss_Anon) MB | page cache (Pss_File) MB | USS MB | Shared MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {title} | {m.pid} | {m.rss:.0f} | {m.pss:.0f} | {m.owned:.0f} | {m.page_cache:.0f} | {m.uss:.0f} "
        f"| {m.shared:.0f} |"
        for m in mem
    ]
    return rows


def workers_cell(w: Window) -> str:
    """Each worker's CPU seconds and (in brackets) how many of wrk's connections it held."""
    accepted = sum(w.worker_conns.values()) > 0  # 0: wrk had not connected, or no worker had accepted yet
    cells = [
        f"{c:.2f} ({w.worker_conns.get(pid, '?') if accepted else '?'})"
        for pid, c in sorted(w.worker_cpu_s.items())
    ]
    return " / ".join(cells) or "-"


def window_rows(windows: Sequence[Window], origin: float) -> list[str]:
    rows = [
        "| window | from s | wall s | req/s | p50 ms | p99 ms | max ms | errors | server CPU s | each worker: CPU s (connections) "
        "| wrk CPU s | machine busy CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for i, w in enumerate(windows, 1):
        rows.append(
            f"| {i} | {w.start - origin:.1f} | {w.end - w.start:.2f} | {w.rps:,.0f} | {w.stats['p50_us'] / 1e3:.2f} | {w.p99_ms:.2f} "
            f"| {w.stats['max_us'] / 1e3:.1f} | {w.errors} | {w.server_cpu_s:.2f} | {workers_cell(w)} "
            f"| {w.wrk_cpu_s:.2f} | {w.machine_busy_s:.2f} |"
        )
    return rows


def lopsided(w: Window) -> bool:
    """A window in which some worker held none of wrk's connections (uvicorn's workers share one
    listening socket; whichever is awake when wrk connects may accept them all)."""
    return sum(w.worker_conns.values()) > 0 and min(w.worker_conns.values()) == 0


def balanced(windows: Sequence[Window]) -> list[Window]:
    """The windows in which every worker held at least a quarter of the connections."""
    out = []
    for w in windows:
        total = sum(w.worker_conns.values())
        if w.worker_conns and total and min(w.worker_conns.values()) >= total / 4:
            out.append(w)
    return out


def summary_line(name: str, c: Combined, windows: Sequence[Window]) -> str:
    server = sum(w.server_cpu_s for w in windows)
    wrk = sum(w.wrk_cpu_s for w in windows)
    busy = sum(w.machine_busy_s for w in windows)
    per_req = 1e3 * server / c.requests if c.requests else math.nan
    return (
        f"| {name} | {c.requests:,} | {c.seconds:.1f} ({c.span_s:.1f}) | {c.rps:,.0f} | {ms(c.p50_ms)} | "
        f"{ms(c.p99_ms)} | {ms(c.max_window_p99_ms)} | {c.min_window_rps:,.0f} | {c.errors} | {server:.1f} "
        f"({per_req:.3f} ms/req) | {wrk:.1f} | {busy:.1f} of {(os.cpu_count() or 1) * c.span_s:.0f} "
        f"| {sum(lopsided(w) for w in windows)} of {len(windows)} |"
    )


def serving_from(phase: StartPhase) -> str:
    """Seconds after /health from which every worker used >= SERVING_CORE of a core in every window."""
    at: float | None = None
    for w in phase.windows:
        both = len(w.worker_cpu_s) > 0 and all(c >= SERVING_CORE * w.seconds for c in w.worker_cpu_s.values())
        at = (w.start - phase.origin if at is None else at) if both else None
    return "never" if at is None else f"{at:.1f} s"


def targets(
    res: Results, ours: Combined, ceiling: Combined, label: str
) -> tuple[list[str], dict[str, float | None]]:
    share = ours.rps / ceiling.rps if ceiling.rps else math.nan
    threshold = FULL_SPEED_SHARE * ours.rps
    full = {p.label: full_speed_at(p.windows, p.origin, threshold) for p in res.starts}
    rows = [
        "| target | measured | |",
        "|---|---|---|",
        f"| nearby >= {CEILING_SHARE:.0%} of the ceiling ({label}) | {ours.rps:,.0f} / {ceiling.rps:,.0f} req/s = "
        f"{share:.1%} | {verdict(share >= CEILING_SHARE)} |",
        f"| p99 <= {P99_MS:g} ms over {ours.seconds:.0f} s (all latencies) | {ms(ours.p99_ms)} ms "
        f"| {verdict(ours.p99_ms <= P99_MS)} |",
        f"| no {res_window(res)}-s window with p99 > {WINDOW_P99_MS:g} ms | max window p99 "
        f"{ms(ours.max_window_p99_ms)} ms | {verdict(ours.max_window_p99_ms <= WINDOW_P99_MS)} |",
    ]
    for p in res.starts:
        rows.append(
            f"| /health <= {HEALTH_S:g} s, {p.label} | {p.health_s:.2f} s | {verdict(p.health_s <= HEALTH_S)} |"
        )
    for p in res.starts:
        at = full[p.label]
        text = f"not within {len(p.windows)} s" if at is None else f"{at:.1f} s"
        ok = at is not None and at <= FULL_SPEED_S
        rows.append(
            f"| full speed (>= {FULL_SPEED_SHARE:.0%} of {ours.rps:,.0f} req/s, every later 1-s window) <= "
            f"{FULL_SPEED_S:g} s after /health, {p.label} | {text}; every worker serving from "
            f"{serving_from(p)} | {verdict(ok)} |"
        )
    for label, mem, limit in (
        (f"{res.n:,} places, after the load", res.memory_after_load, MEM_1M_MB),
        ("shipped data, after the requests", res.shipped_memory, MEM_SHIPPED_MB),
    ):
        pss = max((m.pss for m in mem), default=math.nan)
        rss = max((m.rss for m in mem), default=math.nan)
        uss = max((m.uss for m in mem), default=math.nan)
        owned = max((m.owned for m in mem), default=math.nan)
        cache = max((m.page_cache for m in mem), default=math.nan)
        rows.append(
            f"| memory per worker <= {limit:g} MB, {label}: owned, PSS of its own heap (checked; mapped "
            f"files are page cache, counted apart) | largest worker {owned:.0f} MB (+ {cache:.0f} MB page "
            f"cache; USS {uss:.0f} MB) | {verdict(owned <= limit)} |"
        )
        rows.append(
            f"| the same on PSS and RSS (for comparison) | largest worker PSS {pss:.0f} MB, RSS {rss:.0f} MB "
            f"| {verdict(pss <= limit)} / {verdict(rss <= limit)} |"
        )
    return rows, full


def res_window(res: Results) -> int:
    return round(res.steady[0].seconds) if res.steady else 0


def render(
    args: argparse.Namespace, argv: list[str], res: Results, loads: tuple[str, str], started: float
) -> str:
    ours = combine(res.steady)
    first = res.ceilings[0] if res.ceilings else None
    ceiling = combine(first.windows if first else [])
    target_rows, full = targets(res, ours, ceiling, first.label if first else "none measured")
    dirty = " (uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    out = [
        f"# HTTP at random locations (issue 16), {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}",
        "",
        f"- command: `{ROOT_CMD} {shlex.join(argv)}`",
        f"- commit: `{git('rev-parse', '--short', 'HEAD')}`{dirty}, branch `{git('rev-parse', '--abbrev-ref', 'HEAD')}`",
        f"- machine: {machine()}",
        f"- load average (1/5/15 min): {loads[0]} at the start, {loads[1]} at the end; the run took "
        f"{time.time() - started:.0f} s",
        f"- store: {res.n:,} places ({res.store.name}, bench/generate.py seed {args.seed}) copied to a "
        "temporary file, plus one place written through `poi-service import` (a new data version)",
        f"- servers: `uvicorn --workers {args.workers} --loop uvloop --http httptools --no-access-log` "
        "(bench/http_servers.uvicorn_cmd) for ours (the app factory) and the ceiling; one at a time; "
        f"wrk {args.threads} thread(s), {args.connections} connections, on the same machine",
        "- workload: `GET /places/nearby?lat&lon&radius_m=1000&limit=10` at "
        + (
            "uniformly random points in Germany (bench.generate.uniform_points, the issue's public workload; "
            if getattr(args, "points", "population") == "uniform"
            else "make_workload centres (population-weighted like the places; "
        )
        + f"seed {args.query_seed}); pool of {res.pool_size:,} distinct paths; "
        f"{res.sent:,} requests sent to ours, {res.distinct:,} distinct paths handed out, "
        f"{res.overflow:,} requests beyond a window's slice (repeats): "
        f"{'no path repeated' if res.overflow == 0 and res.distinct >= res.sent else 'SOME PATHS REPEATED'}",
        f"- windows: consecutive wrk runs of {args.window} s (steady) and 1 s (start), each over its own "
        "slice of the pool; each run prints its whole latency histogram, merged for the overall p50/p99 "
        "(exact over all requests, not a max of windows). req/s = requests / summed wrk durations; the "
        "gaps between runs (wrk start-up, idle for the server) are in the span column. In the window tables "
        "`from s` is a run's start since the phase began, `wall s` the wrk process from start to exit (its "
        "measured duration plus start-up), connections = wrk's connections each worker had accepted "
        "(sampled while the run starts; ? = none accepted yet)",
        "- ceiling: bench/ceiling_app.py answering every request with one fixed body: "
        + "; ".join(f"{c.label} = {c.body_bytes:,} bytes" for c in res.ceilings)
        + f". The bodies are a real nearby answer of ours at {res.n:,} places (the first 10-feature answer "
        "of the pool's tail), cut to the features that fit for the issue's ~2 KB ceiling (the target uses "
        "the first ceiling); a whole 10-feature answer is about 8 KB",
        "",
        "## Targets",
        "",
        *target_rows,
        "",
        "## Steady state (after an untimed warm-up until two windows agreed within 10 %)",
        "",
        f"Before the warm-up, after the cold start's windows, the server was left without requests until it "
        f"used under 5 % of a core over 2 s: {res.idle_wait_s:.0f} s, in which it used "
        f"{res.idle_wait_cpu_s:.1f} CPU s (work the workers do after a start besides answering).",
        "",
        "| server | requests | wrk s (span) | req/s | p50 ms | p99 ms | max window p99 | min window req/s "
        "| errors | server CPU s | wrk CPU s | machine busy CPU s | windows with a worker holding no connection |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        summary_line("ours", ours, res.steady),
        *(summary_line(c.label, combine(c.windows), c.windows) for c in res.ceilings),
        *(
            summary_line(
                f"{name}: only windows where each worker held >= 1/4 of the connections", combine(ws), ws
            )
            for name, ws in [("ours", balanced(res.steady))]
            + [(c.label, balanced(c.windows)) for c in res.ceilings]
            if ws
        ),
        "",
        "Each wrk window opens its own connections, and uvicorn's workers share one listening socket: the "
        "worker that is awake when wrk connects may accept all of them, and the other then idles for that "
        "window (the connections column of the window tables). This hits ours and the ceiling alike; the "
        "target rows use all windows, the last rows show the balanced windows alone. A single long wrk run "
        "would fix one such split for its whole duration instead.",
        "",
        f"Warm-up: ours {len(res.warmup)} windows ({', '.join(f'{w.rps:,.0f}' for w in res.warmup)} req/s); "
        + "; ".join(f"{c.label} {len(c.warmup)} windows" for c in res.ceilings)
        + ".",
        "",
        "### Ours, per window",
        "",
        *window_rows(res.steady, res.steady[0].start if res.steady else 0.0),
        "",
    ]
    for c in res.ceilings:
        out += [
            f"### {c.label[0].upper()}{c.label[1:]}, per window",
            "",
            *window_rows(c.windows, c.windows[0].start),
            "",
        ]
    for p in res.starts:
        at = full[p.label]
        out += [
            f"## Start: {p.label}",
            "",
            f"/health answered 200 after {p.health_s:.2f} s (from the process start); 1-s windows from that "
            f"moment (from s = since /health); full speed (>= {FULL_SPEED_SHARE:.0%} of the steady "
            f"{ours.rps:,.0f} req/s in every later window) from "
            f"{'never' if at is None else f'{at:.1f} s'}; every worker serving (>= {SERVING_CORE:g} core each) "
            f"from {serving_from(p)}.",
            "",
            *window_rows(p.windows, p.origin),
            "",
            *memory_table("at /health", p.memory_at_health),
            *memory_table(f"after the {len(p.windows)} windows", p.memory_after)[2:],
            "",
        ]
    shipped = ", ".join(f"{k} x{v}" for k, v in res.shipped_requests.items())
    out += [
        "## Memory",
        "",
        "USS = Private_Clean + Private_Dirty, Shared = Shared_Clean + Shared_Dirty, from "
        "/proc/<worker>/smaps_rollup; PSS counts each shared page divided by the processes mapping it. "
        "The PASS/MISS above uses the largest worker's PSS; RSS is shown beside it.",
        "",
        *memory_table(f"{res.n:,} places, after the steady load", res.memory_after_load),
        "",
        f"Shipped data: `poi-service serve --workers {args.workers}` on a fresh store loaded from data/ on "
        f"first start (as `scripts/run.sh` does for var/poi.gpkg), /health after {res.shipped_health_s:.1f} s; "
        f"requests (each on a new connection): {shipped}.",
        "",
        *memory_table("shipped data, after the requests", res.shipped_memory),
        "",
    ]
    return "\n".join(out)
