"""Browser fixtures: Debian Chromium via Playwright, a real uvicorn server over a store with hostile texts.

Without Chromium the tests skip locally and FAIL when the CI variable is set (scripts/browser-install.sh
installs it)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.store import Store
from tests.browser.data import map_store
from tests.conftest import require_chromium
from tests.server import serve


@dataclass
class Site:
    """A running service over a map store."""

    url: str
    store: Store
    settings: Settings


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    path: Path = tmp_path_factory.mktemp("browser") / "maps.gpkg"
    store = map_store(path)
    settings = Settings(database_url=str(path))
    with serve(create_app(settings, store)) as url:
        yield Site(url, store, settings)
    store.close()
