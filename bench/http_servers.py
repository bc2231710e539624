"""Servers and meters of bench/http_bench.py: our API and pygeoapi under uvicorn with N workers on
loopback, the GeoPackage copy pygeoapi reads, CPU time of process trees, wrk runs."""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.procfs import family

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "http_bench.lua"
PYGEOAPI_ENV = ROOT / "bench" / "pygeoapi-env.sh"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Germany; pygeoapi only shows it in the collection metadata.
EXTENT = [5.8, 47.2, 15.1, 55.1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_s(pid: int) -> float:
    """utime + stime of pid and all its descendants (uvicorn's master, workers and the background
    builds the workers start), in seconds."""
    return sum(int(fields[11]) + int(fields[12]) for _, fields in family(pid, deep=True)) / CLK_TCK


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class Server:
    """A uvicorn master process (its workers are its children) serving base_url."""

    name: str
    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def wait_ready(self, path: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base_url + path, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout_s} s")

    def cpu_s(self) -> float:
        return tree_cpu_s(self.proc.pid)

    def wait_idle(self, timeout_s: float = 600.0, cores: float = 0.05) -> float:
        """Waits until the idle server uses under `cores` CPU over 2 s: our app warms the map payload of
        all places in a background thread at startup (tens of seconds per worker at 1M), which must not
        be timed as request cost. Returns the seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            c0, n0 = self.cpu_s(), self.processes()
            time.sleep(2.0)
            # A background build that ended meanwhile takes its CPU time out of the sum: not idle yet.
            if 0.0 <= self.cpu_s() - c0 < 2.0 * cores and self.processes() == n0:
                break
        return time.monotonic() - t0

    def processes(self) -> int:
        """The server's processes: master, workers and their background builds."""
        return sum(1 for _ in family(self.proc.pid, deep=True))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn stops its workers on SIGTERM
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def uvicorn_cmd(python: str, app: str, port: int, workers: int, factory: bool) -> list[str]:
    """uvicorn with httptools + uvloop (explicit, so a missing extra fails instead of falling back)."""
    cmd = [
        python,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return [*cmd, "--factory"] if factory else cmd


def _spawn(name: str, cmd: list[str], env: dict[str, str], log: Path, port: int) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return Server(name, proc, f"http://127.0.0.1:{port}", log)


def start_ours(db_path: Path, workers: int, tmp: Path, extra_env: dict[str, str] | None = None) -> Server:
    """`poi-service serve` minus the seeding and the access log: the app factory under uvicorn."""
    port = free_port()
    env = {**os.environ, "POI_DATABASE_URL": str(db_path), **(extra_env or {})}
    cmd = uvicorn_cmd(sys.executable, "poi_service.api.app:app_from_env", port, workers, factory=True)
    server = _spawn("poi-service", cmd, env, tmp / f"ours_{port}.log", port)
    server.wait_ready("/health")
    server.wait_idle()
    return server


def pygeoapi_python() -> str:
    """The benchmark-only pygeoapi venv (created by bench/pygeoapi-env.sh on first use)."""
    out = subprocess.run(["bash", str(PYGEOAPI_ENV)], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def gpkg_copy(src: Path, dst: Path) -> Path:
    """A consistent copy of the store for pygeoapi (SQLite backup API: includes the WAL).

    The copy says GeoPackage 1.3 (user_version 10300) instead of our 1.4: GDAL 3.6 warns on every
    open of a 1.4 file and pygeoapi's OGR provider opens the file on every request, so the warning
    would be pygeoapi time spent on our label, not on the data. The tables are the same."""
    dst.unlink(missing_ok=True)
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
        target.execute("PRAGMA user_version = 10300")
    return dst


def pygeoapi_config(port: int, sources: dict[str, Path], limit: int) -> dict[str, object]:
    """pygeoapi's config (JSON is YAML): one collection per provider over the same places."""
    contact = {
        k: "bench"
        for k in (
            "name",
            "position",
            "address",
            "city",
            "stateorprovince",
            "postalcode",
            "country",
            "phone",
            "fax",
            "hours",
            "instructions",
        )
    }
    url = "https://example.invalid"
    providers = {
        "ogr": {
            "type": "feature",
            "name": "OGR",
            "data": {"source_type": "GPKG", "source": str(sources.get("ogr"))},
            "id_field": "fid",
            "layer": "places",
        },
        "sqlite": {
            "type": "feature",
            "name": "SQLiteGPKG",
            "data": str(sources.get("sqlite")),
            "id_field": "fid",
            "table": "places",
        },
    }
    resources = {
        f"places_{kind}": {
            "type": "collection",
            "title": f"places ({kind})",
            "description": "bench places",
            "keywords": ["places"],
            "links": [],
            "providers": [providers[kind]],
            "extents": {"spatial": {"bbox": EXTENT, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        }
        for kind in sources
    }
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "pretty_print": False,
            "limits": {"default_items": limit, "max_items": limit},
            "map": {"url": "https://tile.invalid/{z}/{x}/{y}.png", "attribution": "none"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": url,
                "url": url,
            },
            "license": {"name": "CC-BY 4.0", "url": url},
            "provider": {"name": "bench", "url": url},
            "contact": {**contact, "email": "bench@example.invalid", "url": url, "role": "pointOfContact"},
        },
        "resources": resources,
    }


def start_pygeoapi(sources: dict[str, Path], workers: int, tmp: Path, limit: int) -> Server:
    """pygeoapi's Starlette app under uvicorn with the same worker count and flags as ours."""
    python = pygeoapi_python()
    port = free_port()
    config, openapi = tmp / "pygeoapi.yml", tmp / "pygeoapi-openapi.yml"
    config.write_text(json.dumps(pygeoapi_config(port, sources, limit), indent=1))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    cli = str(Path(python).parent / "pygeoapi")
    subprocess.run(
        [cli, "openapi", "generate", str(config), "--output-file", str(openapi)],
        env=env,
        check=True,
        capture_output=True,
    )
    cmd = uvicorn_cmd(python, "pygeoapi.starlette_app:APP", port, workers, factory=False)
    server = _spawn("pygeoapi", cmd, env, tmp / f"pygeoapi_{port}.log", port)
    server.wait_ready("/collections?f=json")
    server.wait_idle()
    return server


def pygeoapi_versions() -> dict[str, str]:
    """pygeoapi and GDAL versions of the benchmark venv."""
    code = "import pygeoapi, osgeo.gdal as g; print(pygeoapi.__version__, g.__version__)"
    out = subprocess.run([pygeoapi_python(), "-c", code], check=True, capture_output=True, text=True)
    pygeoapi, gdal = out.stdout.split()
    return {"pygeoapi": pygeoapi, "GDAL (pygeoapi env)": gdal}


@dataclass(frozen=True)
class WrkRun:
    """One wrk run: its JSON summary, its own CPU seconds and the machine's busy CPU seconds."""

    stats: dict[str, float]
    wrk_cpu_s: float
    machine_busy_s: float
    wall_s: float

    @property
    def rps(self) -> float:
        return self.stats["requests"] / (self.stats["duration_us"] / 1e6)

    @property
    def errors(self) -> int:
        keys = ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts")
        return int(sum(self.stats[k] for k in keys))


def run_wrk(base_url: str, paths_file: Path, seconds: float, connections: int, threads: int) -> WrkRun:
    """wrk against base_url rotating through paths_file (whole seconds: wrk takes no fractions);
    CPU of wrk from the children's rusage."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, math.ceil(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(paths_file),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, _ = machine_cpu_s()
    t0 = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stdout}{out.stderr}")
    wall = time.monotonic() - t0
    busy1, _ = machine_cpu_s()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next(x for x in out.stdout.splitlines() if x.startswith("HTTPBENCH "))
    return WrkRun(json.loads(line.removeprefix("HTTPBENCH ")), cpu, busy1 - busy0, wall)
