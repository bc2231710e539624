"""Meters of bench/http_random.py: wrk runs cut into short windows over a pool of distinct request
paths, latency histograms merged into exact percentiles, per-worker CPU and memory from /proc."""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.http_servers import CLK_TCK, machine_cpu_s
from bench.procfs import family

LUA = Path(__file__).resolve().parent / "http_random.lua"
ERROR_KEYS = ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts")


def percentile(hist: Counter[int], q: float) -> float:
    """wrk's definition: the smallest recorded value with at least q % of the counts at or below it."""
    total = sum(hist.values())
    if total == 0:
        return math.nan
    need = max(1, math.ceil(q / 100.0 * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= need:
            return float(value)
    return float(max(hist))


def parse_wrk(stdout: str) -> tuple[dict[str, float], Counter[int]]:
    """The HTTPBENCH summary and the HTTPHIST latency histogram (us -> count) of one wrk run."""
    stats: dict[str, float] | None = None
    hist: Counter[int] = Counter()
    for line in stdout.splitlines():
        if line.startswith("HTTPBENCH "):
            stats = json.loads(line.removeprefix("HTTPBENCH "))
        elif line.startswith("HTTPHIST"):
            for pair in line.removeprefix("HTTPHIST").split():
                value, count = pair.split(":")
                hist[int(value)] += int(count)
    if stats is None:
        raise ValueError(f"no HTTPBENCH line in wrk output: {stdout[-500:]}")
    return stats, hist


@dataclass
class Window:
    """One wrk run: start and end (monotonic s), its summary, latency histogram and CPU readings."""

    start: float
    end: float
    stats: dict[str, float]
    hist: Counter[int]
    server_cpu_s: float = 0.0
    machine_busy_s: float = 0.0
    wrk_cpu_s: float = 0.0
    worker_cpu_s: dict[int, float] = field(default_factory=dict)
    worker_conns: dict[int, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.stats["duration_us"] / 1e6

    @property
    def requests(self) -> int:
        return int(self.stats["requests"])

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return int(sum(self.stats[k] for k in ERROR_KEYS))

    @property
    def p99_ms(self) -> float:
        return percentile(self.hist, 99) / 1e3


@dataclass(frozen=True)
class Combined:
    """Windows taken together: requests over the time wrk ran, exact percentiles of all latencies."""

    requests: int
    seconds: float
    span_s: float
    errors: int
    p50_ms: float
    p99_ms: float
    max_window_p99_ms: float
    min_window_rps: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def combine(windows: Sequence[Window]) -> Combined:
    """req/s over the summed window durations (the gaps between wrk runs are idle for the server and
    not counted; span_s shows them); p50/p99 from the merged histograms, so exact over all requests."""
    hist: Counter[int] = Counter()
    for w in windows:
        hist.update(w.hist)
    return Combined(
        requests=sum(w.requests for w in windows),
        seconds=sum(w.seconds for w in windows),
        span_s=(windows[-1].end - windows[0].start) if windows else 0.0,
        errors=sum(w.errors for w in windows),
        p50_ms=percentile(hist, 50) / 1e3,
        p99_ms=percentile(hist, 99) / 1e3,
        max_window_p99_ms=max((w.p99_ms for w in windows), default=math.nan),
        min_window_rps=min((w.rps for w in windows), default=math.nan),
    )


def full_speed_at(windows: Sequence[Window], origin: float, threshold_rps: float) -> float | None:
    """Seconds after origin from which every later window reaches threshold_rps (the start of the
    first such window); None when the last window is still below it."""
    at: float | None = None
    for w in windows:
        if w.rps >= threshold_rps:
            if at is None:
                at = w.start - origin
        else:
            at = None
    return at


def worker_pids(master: int) -> list[int]:
    """The uvicorn workers: children of the master, minus multiprocessing's resource tracker."""
    out = []
    for pid, _ in family(master):
        if pid == master:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            out.append(pid)
    return sorted(out)


def established(port: int) -> set[int]:
    """Socket inodes of the established TCP connections whose local port is `port` (server side)."""
    out: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "01" and int(f[1].rsplit(":", 1)[1], 16) == port:
                out.add(int(f[9]))
    return out


def connections_by_pid(port: int, pids: Iterable[int]) -> dict[int, int]:
    """How many of the established connections to `port` each process holds (which worker accepted them)."""
    inodes = established(port)
    out = {}
    for pid in pids:
        n = 0
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                n += 1
        out[pid] = n
    return out


def cpu_by_pid(master: int) -> dict[int, float]:
    """utime + stime in seconds of the master and each child."""
    return {pid: (int(f[11]) + int(f[12])) / CLK_TCK for pid, f in family(master)}


def smaps_rollup(pid: int) -> dict[str, int]:
    """The kB fields of /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, ...)."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            out[parts[0][:-1]] = int(parts[1])
    return out


@dataclass(frozen=True)
class Memory:
    """One process's memory in MB: USS = Private_Clean + Private_Dirty, Shared = Shared_Clean + _Dirty;
    owned = Pss_Anon (its heap: what it holds itself; mapped files such as the store, its snapshot and
    rendered-features files are page cache, counted apart as Pss_File)."""

    pid: int
    rss: float
    pss: float
    uss: float
    shared: float
    owned: float = float("nan")
    page_cache: float = float("nan")

    @classmethod
    def of(cls, pid: int) -> Memory:
        s = smaps_rollup(pid)
        mb = 1024.0
        return cls(
            pid=pid,
            rss=s["Rss"] / mb,
            pss=s["Pss"] / mb,
            uss=(s["Private_Clean"] + s["Private_Dirty"]) / mb,
            shared=(s["Shared_Clean"] + s["Shared_Dirty"]) / mb,
            owned=s.get("Pss_Anon", 0) / mb,
            page_cache=s.get("Pss_File", 0) / mb,
        )


def workers_memory(master: int) -> list[Memory]:
    return [Memory.of(pid) for pid in worker_pids(master)]


class PathPool:
    """A pool of distinct request paths handed out in order, each wrk run getting the next slice;
    counts what was sent so the report can say whether any path repeated."""

    def __init__(self, paths: Sequence[str], work_dir: Path) -> None:
        self.paths, self.work_dir = list(paths), work_dir
        self.offset = 0  # paths handed out so far (may pass len(paths): then the pool wrapped)
        self.sent = 0  # requests wrk completed
        self.overflow = 0  # requests beyond a run's slice (the slice wrapped within that run)

    def slice_file(self, cap: int) -> Path:
        n = len(self.paths)
        start = self.offset % n
        chunk = [self.paths[(start + i) % n] for i in range(min(cap, n))]
        out = self.work_dir / "window_paths.txt"
        out.write_text("\n".join(chunk) + "\n")
        return out

    def consumed(self, requests: int, in_flight: int, cap: int) -> None:
        """wrk completed `requests`; up to `in_flight` more were sent and not counted."""
        self.sent += requests
        self.overflow += max(0, requests + in_flight - cap)
        self.offset += min(cap, requests + in_flight)

    @property
    def distinct_sent(self) -> int:
        """Distinct paths among those sent (at most the pool size)."""
        return min(self.offset, len(self.paths))


def run_window(
    base_url: str,
    pool: PathPool,
    seconds: int,
    connections: int,
    threads: int,
    master: int | None = None,
    cap: int | None = None,
) -> Window:
    """One wrk run of `seconds` over the pool's next slice; CPU of the server tree (per process when
    master is given), of wrk (children's rusage) and of the machine during the run."""
    cap = cap or max(1000, 30_000 * seconds)  # above any rate seen on 2 cores (ceiling ~13k req/s)
    paths_file = pool.slice_file(cap)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(paths_file),
        str(threads),
    ]
    cpu0 = cpu_by_pid(master) if master else {}
    busy0, _ = machine_cpu_s()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conns: dict[int, int] = {}
    if master:  # which worker accepted wrk's connections: sampled until all are accepted (or half-time)
        port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        pids = worker_pids(master)
        while time.monotonic() - start < seconds / 2:
            time.sleep(0.05)
            conns = connections_by_pid(port, pids)
            if sum(conns.values()) >= connections:
                break
    stdout, stderr = proc.communicate()
    end = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, _ = machine_cpu_s()
    cpu1 = cpu_by_pid(master) if master else {}
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {stdout[-500:]}{stderr[-500:]}")
    stats, hist = parse_wrk(stdout)
    pool.consumed(int(stats["requests"]), connections, cap)
    per_pid = {pid: cpu1[pid] - cpu0.get(pid, 0.0) for pid in cpu1}
    workers = set(worker_pids(master)) if master else set()
    return Window(
        start=start,
        end=end,
        stats=stats,
        hist=hist,
        server_cpu_s=sum(per_pid.values()),
        machine_busy_s=busy1 - busy0,
        wrk_cpu_s=(ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        worker_cpu_s={pid: c for pid, c in per_pid.items() if pid in workers},
        worker_conns=conns,
    )


def run_windows(
    base_url: str, pool: PathPool, count: int, seconds: int, connections: int, threads: int, master: int
) -> list[Window]:
    return [run_window(base_url, pool, seconds, connections, threads, master) for _ in range(count)]


def total_cpu(windows: Iterable[Window]) -> tuple[float, float, float]:
    """(server tree, wrk, whole machine) CPU seconds over the windows."""
    ws = list(windows)
    return (
        sum(w.server_cpu_s for w in ws),
        sum(w.wrk_cpu_s for w in ws),
        sum(w.machine_busy_s for w in ws),
    )
