"""The street basemap in real headless Chromium: the resident map over central Helsinki at zoom 16 draws
streets, water, green and labels from the service's own tiles, every request stays on 127.0.0.1, and the
maps work as before without a tiles file."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import osmium
import pytest
from geopy.distance import geodesic
from PIL import Image

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Address, PlaceData, Point
from poi_service.store import Store, open_store
from tests.browser.chromium import DESKTOP, PHONE, attach, screenshot, wait_js
from tests.conftest import DATA_DIR, require_chromium
from tests.factories import GEOCODED
from tests.server import serve
from tests.tiles.data import CENTRE, HELSINKI, helsinki_tiles

pytestmark = pytest.mark.browser
READY = "window.poiMapState && window.poiMapState.ready === true"
DRAWN = "window.poiStreets && window.poiStreets.loaded === true"
WATER = (0x9F, 0xCB, 0xE0)  # the fills of streets.js
GREENS = [(0xCD, 0xEB, 0xB0), (0xC8, 0xE6, 0xA8), (0xAD, 0xD1, 0x9E)]
BOUNDARY_BEIGE = (0xFB, 0xFA, 0xF5)
# Pins (or clusters) that are the topmost element at their own centre: not hidden under the street canvas.
MARKER_ON_TOP = """(() => [...document.querySelectorAll('img.poi-pin, .poi-cluster')].filter(m => {
  const r = m.getBoundingClientRect(), top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  return top && (top === m || m.contains(top));
}).length)()"""


def _serve_store(tmp: Path, tiles: Path) -> tuple[Settings, Store]:
    settings = Settings(database_url=str(tmp / "p.gpkg"), tiles_file=tiles)
    return settings, open_store(settings.database_url, DATA_DIR)


def _artworks(limit: int = 3) -> list[PlaceData]:
    """Artworks of the Helsinki extract nearest to CENTRE (real OSM nodes, their names and points)."""
    found = []
    for n in osmium.FileProcessor(str(HELSINKI), osmium.osm.NODE):
        if n.tags.get("tourism") == "artwork" and "name" in n.tags:
            lon, lat = n.location.lon, n.location.lat
            found.append((geodesic((CENTRE[1], CENTRE[0]), (lat, lon)).m, n.id, n.tags["name"], lon, lat))
    found.sort()
    return [
        PlaceData(
            name=name,
            category="artwork",
            address=Address(locality="Helsinki"),
            point=Point(lon, lat),
            geocoding=GEOCODED,
            external_key=f"osm:node/{nid}",
        )
        for _, nid, name, lon, lat in found[:limit]
    ]


@pytest.fixture(scope="module")
def streets_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("streets")
    shutil.copyfile(helsinki_tiles().out, tmp / "tiles.mbtiles")
    settings, store = _serve_store(tmp, tmp / "tiles.mbtiles")
    store.places.add_many(_artworks())
    with serve(create_app(settings, store)) as url:
        yield url
    store.close()


def _share(img: Image.Image, rgb: tuple[int, int, int], tol: int = 6) -> float:
    px = list(img.get_flattened_data())
    hits = sum(1 for p in px if all(abs(p[i] - rgb[i]) <= tol for i in range(3)))
    return hits / len(px)


def _dark_share(img: Image.Image) -> float:
    px = list(img.get_flattened_data())
    return sum(1 for p in px if p[0] + p[1] + p[2] < 200) / len(px)


def _map_image(page: Any) -> Image.Image:
    shot = Image.open(io.BytesIO(page.locator("#map_poi").screenshot())).convert("RGB")
    return shot.crop((0, 0, shot.width, shot.height - 70))  # without the attribution box


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP | {"width": 1280}, "desktop"), (PHONE, "phone")])
def test_helsinki_at_zoom_16_shows_streets_water_and_labels(
    chromium: Any, streets_site: str, viewport: dict[str, int], name: str
) -> None:
    context = chromium.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    rec = attach(page)
    lon, lat = CENTRE
    assert page.goto(f"{streets_site}/maps/places?lang=en&center={lat},{lon}&zoom=16").status == 200
    wait_js(page, READY)
    wait_js(page, DRAWN)
    page.wait_for_timeout(600)  # labels are placed after the tiles' first paint
    screenshot(page, f"maps-streets-helsinki-z16-{name}")
    img = _map_image(page)
    assert len(img.getcolors(1 << 24) or []) > 500  # a drawn map, not a plain plane
    assert _share(img, BOUNDARY_BEIGE) < 0.05  # the street layer covers the boundary basemap here
    assert _share(img, WATER) > 0.003, "no water drawn"
    assert sum(_share(img, g) for g in GREENS) > 0.01, "no parks drawn"
    assert _dark_share(img) > 0.002, "no labels drawn"
    tile_requests = [u for u in rec.requests if "/tiles/" in u]
    assert tile_requests and all(u.startswith(streets_site + "/tiles/") for u in tile_requests)
    assert rec.foreign() == [] and rec.errors == []
    assert "OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.evaluate(MARKER_ON_TOP) >= 1  # the places' pins are drawn above the streets
    context.close()


def test_maps_work_without_tiles(chromium: Any, tmp_path: Path) -> None:
    require_chromium()
    settings, store = _serve_store(tmp_path, tmp_path / "missing.mbtiles")
    with serve(create_app(settings, store)) as url:
        context = chromium.new_context(viewport=DESKTOP, locale="de-DE")
        page = context.new_page()
        rec = attach(page)
        lon, lat = CENTRE
        for path in (f"/maps/places?center={lat},{lon}&zoom=16", f"/maps/embed?center={lat},{lon}&zoom=16"):
            assert page.goto(url + path).status == 200
            wait_js(page, READY)
            assert page.evaluate("window.poiStreets === undefined && window.protomapsL === undefined")
        assert not [u for u in rec.requests if "/tiles/" in u or "protomaps" in u]
        assert rec.foreign() == [] and rec.errors == []
        context.close()
    store.close()


def test_embed_widget_draws_streets(chromium: Any, streets_site: str) -> None:
    context = chromium.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    rec = attach(page)
    lon, lat = CENTRE
    assert page.goto(f"{streets_site}/maps/embed?center={lat},{lon}&zoom=17").status == 200
    wait_js(page, READY)
    wait_js(page, DRAWN)
    assert len(_map_image(page).getcolors(1 << 24) or []) > 500
    assert rec.foreign() == [] and rec.errors == []
    context.close()


def test_operator_tile_server_still_needs_consent(chromium: Any, tmp_path: Path) -> None:
    require_chromium()
    shutil.copyfile(helsinki_tiles().out, tmp_path / "tiles.mbtiles")
    probe, store = _serve_store(tmp_path, tmp_path / "tiles.mbtiles")
    with serve(create_app(probe, store)) as url:
        port = url.rsplit(":", 1)[1]  # 'localhost' is another origin: a stand-in for an external tile server
        settings = Settings(
            database_url=probe.database_url,
            tiles_file=tmp_path / "tiles.mbtiles",
            tile_url=f"http://localhost:{port}/raster/{{z}}/{{x}}/{{y}}.png",
        )
        with serve(create_app(settings, store)) as url2:
            context = chromium.new_context(viewport=DESKTOP, locale="de-DE")
            page = context.new_page()
            rec = attach(page)
            lon, lat = CENTRE
            assert page.goto(f"{url2}/maps/places?center={lat},{lon}&zoom=16").status == 200
            wait_js(page, READY)
            wait_js(page, DRAWN)
            assert rec.foreign() == []  # streets from the service itself, nothing from the tile server yet
            page.get_by_role("button", name="Hintergrundkarte laden").click()
            page.get_by_role("button", name="Zustimmen und laden").click()
            wait_js(page, "document.querySelectorAll('img.leaflet-tile').length > 0")
            assert [u for u in rec.requests if u.startswith(f"http://localhost:{port}/raster/")]
            assert rec.foreign(("127.0.0.1", "localhost")) == []
            context.close()
    store.close()
