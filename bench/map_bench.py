"""Resident map at scale: payload generation time, page weight and time to first render in headless
Chromium, for 1k, 10k and 100k places distributed like Germany's population (bench/generate.py).

    .venv/bin/python -m bench.map_bench                 # 1000 10000 100000
    .venv/bin/python -m bench.map_bench 1000 10000      # chosen sizes
    .venv/bin/python -m bench.map_bench --out bench/results/map_bench.md

Per size: the store is filled once (not timed), then
- payload: reading every place from the store and building the compact columns (cold, s) and
  serialising + gzip (s), with the raw and gzipped JSON size;
- page: the HTML of /maps/places (bytes) and everything the browser loads for it (HTML, scripts, CSS,
  data, basemap) as transferred (gzip) and decoded;
- render: navigation start to the first frame showing the clusters (window.poiMapState.readyAt),
  cold (first visit right after the server started: its warm-up is still building the payload) and
  warm (payload prepared, fresh browser context); the server is `poi-service serve`'s app in its own
  uvicorn process; the browser is Debian's /usr/bin/chromium driven by Playwright
  (see scripts/browser-install.sh).
Budget (issue 3): first render <= 3 s and page <= 5 MB at 100k places.
"""

from __future__ import annotations

import argparse
import gzip
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.generate import DATA_DIR, generate_arrays, iter_places
from poi_service.categories import Vocabulary
from poi_service.maps.data import places_payload, select_places
from poi_service.store import PlaceFilter, open_store

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]  # fmt: skip
MB = 1_000_000


@dataclass
class Row:
    n: int
    build_s: float
    serialise_s: float
    json_raw: int
    json_gz: int
    html: int
    page_transfer: int
    page_decoded: int
    render_cold_s: float
    render_warm_s: float
    requests: int
    foreign: int


@contextmanager
def serve(database: Path) -> Iterator[str]:
    """`poi-service serve`'s app (app_from_env) in its own uvicorn process, as deployed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "POI_DATABASE_URL": str(database), "POI_DATA_DIR": str(DATA_DIR)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "poi_service.api.app:app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def load(browser: Any, url: str) -> tuple[float, int, int, int, int]:
    """(render s, transferred bytes, decoded bytes, requests, foreign requests) of one fresh page load."""
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
    ready_ms = page.evaluate("window.poiMapState.readyAt")
    page.wait_for_timeout(1500)  # let the basemap requests of the final view finish
    transferred = decoded = 0
    foreign = 0
    for request in finished:
        sizes = request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = request.response()
        if response is not None:
            decoded += len(response.body())
        if not request.url.startswith(("http://127.0.0.1", "data:")):
            foreign += 1
    context.close()
    return ready_ms / 1000, transferred, decoded, len(finished), foreign


def measure(n: int, browser: Any, workdir: Path) -> Row:
    path = workdir / f"bench_{n}.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(iter_places(generate_arrays(n)))
    vocabulary = Vocabulary.load()
    t0 = time.perf_counter()
    payload = places_payload(select_places(store, PlaceFilter()), vocabulary)
    t1 = time.perf_counter()
    body = orjson.dumps(payload)
    body_gz = gzip.compress(body, 5)
    t2 = time.perf_counter()
    store.close()
    with serve(path) as url:
        cold = load(browser, url + "/maps/places")  # right after start: the warm-up may still be running
        html = len(httpx.get(url + "/maps/places").content)
        warm = load(browser, url + "/maps/places")
    return Row(n, t1 - t0, t2 - t1, len(body), len(body_gz), html, warm[1], warm[2], cold[0], warm[0], warm[3],
               cold[4] + warm[4])  # fmt: skip


def table(rows: list[Row]) -> str:
    head = ("| places | payload build s | serialise+gzip s | data JSON MB (gzip) | page HTML KB | page transferred MB "
            "| page decoded MB | first render cold s | first render warm s | requests | foreign |")  # fmt: skip
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r.n:,} | {r.build_s:.2f} | {r.serialise_s:.2f} | {r.json_raw / MB:.2f} ({r.json_gz / MB:.2f}) "
            f"| {r.html / 1000:.1f} | {r.page_transfer / MB:.2f} | {r.page_decoded / MB:.2f} "
            f"| {r.render_cold_s:.2f} | {r.render_warm_s:.2f} | {r.requests} | {r.foreign} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) to this file")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for n in args.sizes:
            rows.append(measure(n, browser, Path(tmp)))
            print(f"done {n}", file=sys.stderr)
        browser.close()
    text = table(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
