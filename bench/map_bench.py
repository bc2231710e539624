"""Resident map at scale: payload generation time, page weight and time to first render in headless
Chromium, for 1k, 10k and 100k places distributed like Germany's population (bench/generate.py).

    .venv/bin/python -m bench.map_bench                 # 1000 10000 100000, 3 restarts each
    .venv/bin/python -m bench.map_bench 1000 10000 --runs 1
    .venv/bin/python -m bench.map_bench --out /tmp/maps.md   # default: bench/results/maps_<date>.md

Per size, on a fresh GeoPackage filled once (not timed):
- generation, in the bench process: reading every place from the store (`iter_all`, full models), building
  the compact columns (`places_payload`), serialising + gzip (level 5, as served), raw and gzipped size;
- page: the HTML of /maps/places and everything the browser loads for it (HTML, scripts, CSS, data,
  basemap) as transferred (headers + bodies, gzip) and decoded, from a warm load;
- first render: navigation start (performance.now() = 0) to `window.poiMapState.t.ready`, the first
  animation frame after markercluster has taken every place, checked to show cluster or marker icons
  in the map and the first rows of the list. The server is `poi-service serve`'s app in its own uvicorn
  process, the browser Debian's /usr/bin/chromium (Playwright), each load in a fresh context (no cache):
  - first start: the first visit to a server started on data it has never served (nothing kept: the
    server reads all places, the visitor waits for it);
  - cold: the first visit right after a restart (the payload kept in the store by the previous run);
    the target is about this one. `--runs` restarts, median (min-max);
  - warm: a second visit to the same server (`--runs` + 1 samples).
  The breakdown table splits the median cold and warm render at 100k (or the largest size) into: HTML
  received, data parsed (`t.data`), marker objects made (`t.markers`), list rendered and markers handed
  to the cluster (`t.list`), first frame with clusters (`t.ready`).
Budget (issue 3): first render <= 3 s and page <= 5 MB at 100k places. Record the machine's load:
wall times on a busy 2-CPU machine are inflated.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.generate import DATA_DIR, generate_arrays, iter_places
from bench.map_serve import ARGS, CHROMIUM, serve
from bench.store_bench import machine_info
from poi_service.categories import Vocabulary
from poi_service.maps import persist
from poi_service.maps.data import places_payload
from poi_service.store import open_store

MB = 1_000_000
RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("html", "data", "markers", "list", "ready")
PROBE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {t: {...window.poiMapState.t, html: Math.round(nav.responseEnd)},
          icons: document.querySelectorAll('#map_poi .poi-cluster, #map_poi img.poi-pin').length,
          rows: document.querySelectorAll('#poi-list li.poi-item').length};
}"""


@dataclass
class Load:
    t: dict[str, int]  # ms since navigation start per step
    transferred: int
    decoded: int
    requests: int
    foreign: int


@dataclass
class Row:
    n: int
    read_s: float
    build_s: float
    serialise_s: float
    json_raw: int
    json_gz: int
    html: int = 0
    first: list[Load] = field(default_factory=list)
    cold: list[Load] = field(default_factory=list)
    warm: list[Load] = field(default_factory=list)
    load: str = ""


def load(browser: Any, url: str) -> Load:
    """One page load in a fresh context, timed by the page's own marks."""
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda r: finished.append(r))
    page.goto(url, wait_until="commit")
    deadline = time.monotonic() + 120
    while not page.evaluate("window.poiMapState && window.poiMapState.ready === true"):
        if time.monotonic() > deadline:
            raise RuntimeError("map did not render within 120 s")
        time.sleep(0.02)
    probe = page.evaluate(PROBE)
    if not probe["icons"] or not probe["rows"]:
        raise RuntimeError(f"ready without markers or list: {probe}")
    page.wait_for_timeout(1500)  # let the basemap requests of the final view finish
    transferred = decoded = foreign = 0
    for request in finished:
        sizes = request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = request.response()
        decoded += len(response.body()) if response is not None else 0
        foreign += not request.url.startswith(("http://127.0.0.1", "data:"))
    context.close()
    return Load(probe["t"], transferred, decoded, len(finished), foreign)


def generation(store: Any, n: int) -> Row:
    vocabulary = Vocabulary.load()
    t0 = time.perf_counter()
    places = list(store.places.iter_all())
    t1 = time.perf_counter()
    payload = places_payload(places, vocabulary)
    t2 = time.perf_counter()
    body = orjson.dumps(payload)
    body_gz = gzip.compress(body, 5)
    t3 = time.perf_counter()
    return Row(n, t1 - t0, t2 - t1, t3 - t2, len(body), len(body_gz))


def measure(n: int, browser: Any, workdir: Path, runs: int) -> Row:
    path = workdir / f"bench_{n}.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(iter_places(generate_arrays(n)))
    load0 = os.getloadavg()[0]
    row = generation(store, n)
    store.cache_put(persist.PROVIDER, persist.places_key(), "")  # nothing kept: a first start
    store.close()
    with serve(path) as url:
        row.first.append(load(browser, url + "/maps/places"))
        row.html = len(httpx.get(url + "/maps/places").content)
        row.warm.append(load(browser, url + "/maps/places"))
    store = open_store(str(path), DATA_DIR)
    kept = store.cache_get(persist.PROVIDER, persist.places_key())
    store.close()
    if not kept:
        raise RuntimeError("the server did not keep the payload")
    for _ in range(runs):
        with serve(path) as url:
            row.cold.append(load(browser, url + "/maps/places"))
            row.warm.append(load(browser, url + "/maps/places"))
    row.load = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    return row


def spread(loads: list[Load], step: str = "ready") -> str:
    values = [x.t[step] / 1000 for x in loads]
    med = statistics.median(values)
    return f"{med:.2f}" if len(values) == 1 else f"{med:.2f} ({min(values):.2f}-{max(values):.2f})"


def table(rows: list[Row]) -> str:
    head = (
        "| places | read s | build s | serialise+gzip s | data JSON MB (gzip) | page HTML KB "
        "| page transferred MB | page decoded MB | first render: first start s | cold s | warm s "
        "| requests | foreign | load 1-min start / end |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        w = r.warm[0]
        lines.append(
            f"| {r.n:,} | {r.read_s:.2f} | {r.build_s:.2f} | {r.serialise_s:.2f} | {r.json_raw / MB:.2f} "
            f"({r.json_gz / MB:.2f}) | {r.html / 1000:.1f} | {w.transferred / MB:.2f} | {w.decoded / MB:.2f} "
            f"| {spread(r.first)} | {spread(r.cold)} | {spread(r.warm)} | {w.requests} "
            f"| {sum(x.foreign for x in r.first + r.cold + r.warm)} | {r.load} |"
        )
    return "\n".join(lines)


def breakdown(row: Row) -> str:
    lines = [
        f"| {row.n:,} places, median ms since navigation start | " + " | ".join(STEPS) + " |",
        "|---|" + "---|" * len(STEPS),
    ]
    for name, loads in (("first start", row.first), ("cold", row.cold), ("warm", row.warm)):
        cells = [f"{statistics.median(x.t[s] for x in loads):.0f}" for s in STEPS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(row: Row) -> str:
    cold = statistics.median(x.t["ready"] for x in row.cold) / 1000
    size = row.warm[0].transferred / MB
    ok = "MET" if cold <= 3 and size <= 5 else "MISSED"
    return (
        f"Target at {row.n:,} places (first render <= 3 s after a restart, page <= 5 MB): **{ok}** "
        f"(cold median {cold:.2f} s, page {size:.2f} MB transferred)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3, help="restarts (cold samples) per size")
    parser.add_argument("--out", type=Path, help="report file (default bench/results/maps_<date>.md)")
    parser.add_argument("--no-write", action="store_true", help="only print the report")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    machine = machine_info()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for n in args.sizes:
            rows.append(measure(n, browser, Path(tmp), args.runs))
            print(f"done {n}", file=sys.stderr)
        version = browser.version
        browser.close()
    command = "python -m bench.map_bench " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n\n".join(
        [
            f"# Resident map benchmark, {date.today().isoformat()}",
            f"Command: `{command.strip()}`. Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']}, "
            f"Linux {machine['kernel']}, Python {machine['python']}, SQLite {machine['sqlite']}, Chromium "
            f"{version}; commit {machine['commit']}; load average (1, 5, 15 min) at the end: "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
            table(rows),
            breakdown(rows[-1]),
            verdict(rows[-1]),
        ]
    )
    print(text)
    if not args.no_write:
        out = args.out or RESULTS / f"maps_{date.today().isoformat()}.md"
        out.write_text(text + "\n", encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
