"""A served API over a real store file with known records, shared by the API tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Alliance, KeyRole, Role
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places
from tests.server import serve


@dataclass
class Api:
    """A running server, a client for it, and the store behind it."""

    url: str
    client: httpx.Client
    store: Store
    settings: Settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    path: Path = tmp_path_factory.mktemp("api") / "api.gpkg"
    settings = Settings(
        database_url=str(path),
        max_radius_m=20_000,
        max_page_size=200,
        max_k=50,
        max_polygon_vertices=100,
        max_body_bytes=20_000,
    )
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(300))
    store.memberships.add_many(
        [
            membership(
                "Potsdam",
                Alliance.BUENDNIS,
                13.0645,
                52.3989,
                role=Role.COORDINATOR,
                state="Brandenburg",
                ags="12054000",
            ),
            membership(
                "Flensburg",
                Alliance.BUENDNIS,
                9.4375,
                54.7825,
                role=Role.STATE_COORDINATOR,
                state="Schleswig-Holstein",
                ags="01001000",
            ),
            membership(
                "Göttingen", Alliance.SEEBRUECKE_DECLARED, 9.93, 51.53, state="Niedersachsen", ags="03159016"
            ),
            membership("Palermo", Alliance.INTERNATIONAL, 13.36, 38.12, role=Role.COORDINATOR, country="IT"),
        ]
    )
    app = create_app(settings, store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Api(url, client, store, settings)
    store.close()


@dataclass
class EditApi:
    """A running server over an empty-ish store, with an editor, an admin and a revoked key."""

    url: str
    client: httpx.Client
    store: Store
    settings: Settings
    editor: dict[str, str]  # Authorization headers
    admin: dict[str, str]
    revoked: dict[str, str]
    editor_id: str


@pytest.fixture(scope="module")
def edit_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditApi]:
    path: Path = tmp_path_factory.mktemp("edit") / "edit.gpkg"
    settings = Settings(database_url=str(path), max_body_bytes=20_000, max_upload_bytes=200_000)
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(20))
    editor, editor_key = store.create_key("Redaktion", KeyRole.EDITOR)
    _, admin_key = store.create_key("Admin", KeyRole.ADMIN)
    revoked, revoked_key = store.create_key("Ehemalige", KeyRole.EDITOR)
    store.revoke_key(revoked.id)
    app = create_app(settings, store)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield EditApi(
            url,
            client,
            store,
            settings,
            bearer(editor_key),
            bearer(admin_key),
            bearer(revoked_key),
            editor.id,
        )
    store.close()


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}
