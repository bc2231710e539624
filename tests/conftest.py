"""Shared fixtures: real store files in temporary directories, one per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from poi_service.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


def backend_params() -> list[str]:
    """Backends under test: the embedded one always; PostGIS when a test server URL is set."""
    backends = ["sqlite"]
    if os.environ.get("POI_TEST_POSTGRES_URL"):
        backends.append("postgis")
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
