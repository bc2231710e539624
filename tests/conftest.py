"""Shared fixtures: real store files in temporary directories, one per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poi_service.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
# A street basemap built into var/tiles.mbtiles would change every map page; tests get one only by asking
# (Settings(tiles_file=...)). Subprocesses inherit this too.
os.environ.setdefault("POI_TILES_FILE", str(ROOT / "var" / "no-tiles-in-tests.mbtiles"))


def backend_params() -> list[object]:
    """Backends under test: the embedded one always; PostGIS when tests/pg.py can get a server
    (POI_TEST_POSTGRES_URL or local binaries), and always under CI, where a missing PostGIS fails."""
    from tests import pg

    backends: list[object] = ["sqlite"]
    if pg.available() or pg.in_ci():
        backends.append(pytest.param("postgis", marks=pytest.mark.postgis))
    return backends


@pytest.fixture(params=backend_params())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each backend."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "store.gpkg"), DATA_DIR)
    else:
        from tests.pg import fresh_database_url

        s = open_store(fresh_database_url(), DATA_DIR)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture()
def data_dir() -> Path:
    """The shipped data directory."""
    return DATA_DIR


def require_chromium() -> None:
    """Skip browser tests without Chromium locally; fail them in CI (scripts/browser-install.sh installs it)."""
    from tests.browser.chromium import missing_reason

    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium (Playwright's sync API) shared by every browser test of the session."""
    require_chromium()
    from tests.browser.chromium import browser

    with browser() as b:
        yield b


def run_async(coro: Any) -> Any:
    """asyncio.run(coro) in a thread of its own: the browser tests' Playwright (sync API) leaves an event
    loop running in the main thread, where asyncio.run refuses to start."""
    import asyncio
    import threading

    out: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]
