"""The three maps in real headless Chromium against a real server: they load, stay on 127.0.0.1, cluster,
open escaped popups, list, filter, locate, and never run the payloads hidden in the data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.maps import build_static_maps
from tests.browser.chromium import DESKTOP, PHONE, Recorder, attach, screenshot, unnamed_controls, wait_js
from tests.browser.conftest import Site
from tests.browser.data import QUOTES_NAME, XSS_NAME, map_store
from tests.server import serve

pytestmark = pytest.mark.browser
READY = "window.poiMapState && window.poiMapState.ready === true"


@pytest.fixture()
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=DESKTOP, locale="de-DE")
    p = context.new_page()
    yield p
    context.close()


def open_map(page: Any, url: str) -> Recorder:
    rec = attach(page)
    response = page.goto(url)
    assert response is not None and response.status == 200
    wait_js(page, READY)
    return rec


def assert_clean(page: Any, rec: Recorder, hosts: tuple[str, ...] = ("127.0.0.1",)) -> None:
    assert rec.foreign(hosts) == []
    assert rec.dialogs == []
    assert page.evaluate("window.__xss") == []
    assert rec.errors == []
    assert page.locator("img[src='x']").count() == 0
    assert not [c for c in rec.console if "Content Security Policy" in c or c.startswith("error")]


def test_resident_map(page: Any, site: Site) -> None:
    rec = open_map(page, site.url + "/maps/places")
    page.wait_for_selector(".poi-cluster, img.poi-pin")
    assert page.locator(".poi-cluster").count() + page.locator("img.poi-pin").count() > 3
    assert page.locator("#poi-list li.poi-item").count() == 50
    assert page.locator("#poi-status").inner_text() == "153 von 153 Orten"
    # the data preloaded from <head> (while the scripts load) is the one the script uses: one request
    assert [u for u in rec.requests if "data.json" in u] == [site.url + "/maps/places/data.json"]
    assert unnamed_controls(page) == []
    assert page.locator(".leaflet-control-zoom-in").get_attribute("aria-label") == "Vergrößern"
    screenshot(page, "maps-places-desktop")

    # search finds the hostile name; it shows literally in the list and in the popup
    page.fill("#poi-q", "img src")
    wait_js(page, "window.poiMapState.visible === 1")
    button = page.locator("#poi-list button.poi-linkish").first
    assert button.inner_text() == XSS_NAME
    button.click()
    popup = page.locator(".leaflet-popup .poi-popup")
    popup.wait_for()
    assert popup.locator("h2").inner_text() == XSS_NAME
    assert page.evaluate("document.activeElement.className") == "poi-popup-title"
    text = popup.inner_text()
    assert "</script><script>alert(2)</script>" in text and "Kirche" in text
    assert popup.locator("a[href^='tel:+494617040']").count() == 1
    assert popup.locator("a[href^='javascript']").count() == 0
    assert "<b onmouseover=alert(3)>bold</b>" in popup.locator(".poi-desc").inner_text()
    screenshot(page, "maps-places-popup")

    # quotes, backticks and backslashes survive; the postcode precision is said honestly
    page.fill("#poi-q", "Quote")
    wait_js(page, "document.querySelector('#poi-list button')?.innerText.startsWith('Quote')")
    assert page.evaluate("window.poiMapState.visible") == 1
    item = page.locator("#poi-list li.poi-item").first
    assert item.locator("button").inner_text() == QUOTES_NAME
    assert "Lage ungefähr: Postleitzahlgebiet" in item.inner_text()
    page.fill("#poi-q", "Rathaus Harrislee")
    wait_js(page, "document.querySelector('#poi-list button')?.innerText === 'Rathaus Harrislee'")
    assert "Lage ungefähr: Ortsmitte" in page.locator("#poi-list li.poi-item").first.inner_text()

    # a category toggle changes what the map and the list show
    page.fill("#poi-q", "")
    wait_js(page, "window.poiMapState.visible === 153")
    church = page.locator("#poi-categories input[value='church']")
    church.uncheck()
    wait_js(page, "window.poiMapState.visible < 153")
    hidden = 153 - page.evaluate("window.poiMapState.visible")
    assert hidden >= 2
    assert "Kirche" not in page.locator("#poi-list").inner_text()
    church.check()
    wait_js(page, "window.poiMapState.visible === 153")
    assert_clean(page, rec)


def test_keyboard_reaches_markers_and_opens_popups(page: Any, site: Site) -> None:
    rec = open_map(page, site.url + "/maps/places?center=54.7945,9.3905&zoom=18")
    marker = page.locator(f"img.poi-pin[alt^='{XSS_NAME}']")
    marker.wait_for()
    assert marker.get_attribute("role") == "button" and marker.get_attribute("tabindex") == "0"
    marker.focus()
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup h2").wait_for()
    assert page.locator(".leaflet-popup h2").inner_text() == XSS_NAME
    assert page.locator("#poi-sort").inner_text() == "Sortiert nach Entfernung"
    assert "Entfernung" in page.locator("#poi-list li.poi-item").first.inner_text()
    for control in ("#poi-q", "#poi-locate"):
        label = page.evaluate(
            f"document.querySelector('{control}').labels?.[0]?.innerText || "
            f"document.querySelector('{control}').innerText"
        )
        assert label.strip()
    assert_clean(page, rec)


def test_locate_me_sorts_by_distance(chromium: Any, site: Site) -> None:
    context = chromium.new_context(
        viewport=PHONE,
        geolocation={"latitude": 54.7955, "longitude": 9.3925},
        permissions=["geolocation"],
        locale="en-GB",
    )
    page = context.new_page()
    rec = open_map(page, site.url + "/maps/places?lang=en")
    screenshot(page, "maps-places-phone")
    page.click("#poi-locate")
    wait_js(page, "document.getElementById('poi-sort').innerText.includes('distance')")
    first = page.locator("#poi-list li.poi-item").first
    assert first.locator("button").inner_text() == QUOTES_NAME
    assert "Distance: 0 m" in first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "maps-places-phone-located")
    assert_clean(page, rec)
    context.close()


def test_embed_widget(page: Any, site: Site) -> None:
    rec = attach(page)
    response = page.goto(
        site.url + "/maps/embed?category=church&center=54.7945,9.3905&radius_m=5000&zoom=13&lang=en"
    )
    assert response is not None
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    wait_js(page, READY)
    assert page.evaluate("window.poiMapState.visible") >= 1
    page.click("#poi-list-toggle")
    assert page.locator("#poi-panel").is_visible()
    names = page.locator("#poi-list button.poi-linkish").all_inner_texts()
    assert names[0] == XSS_NAME  # nearest the centre first
    assert page.locator("a", has_text="Open the full map").get_attribute("href").startswith("/maps/places?")
    screenshot(page, "maps-embed")
    assert_clean(page, rec)


def test_alliance_map(page: Any, site: Site) -> None:
    rec = open_map(page, site.url + "/maps/alliance")
    assert page.locator("img.poi-dot-icon").count() >= 5
    assert page.locator("#al-table tbody tr").count() == 6
    assert unnamed_controls(page) == []
    assert page.locator(".leaflet-overlay-pane path").count() >= 16  # the choropleth of the states
    niedersachsen = page.locator("#al-states tr", has_text="Niedersachsen")
    assert niedersachsen.locator("td").inner_text() == "2"
    screenshot(page, "maps-alliance-desktop")

    # the year slider shows growth: at 2019 only the members known to have joined by then
    page.evaluate(
        "const s = document.getElementById('al-year'); s.value = '2019';s.dispatchEvent(new Event('input'));"
    )
    wait_js(page, "window.poiMapState.visible === 3")  # 2018, 2019 and the undated one
    page.uncheck("#al-unknown")
    wait_js(page, "window.poiMapState.visible === 2")
    page.check("#al-unknown")
    page.evaluate(
        "const s = document.getElementById('al-year'); s.value = s.max; s.dispatchEvent(new Event('input'));"
    )
    wait_js(page, "window.poiMapState.visible === 6")
    page.uncheck("#al-alliances input[value='buendnis']")
    wait_js(page, "window.poiMapState.visible === 4")
    page.check("#al-alliances input[value='buendnis']")

    row = page.locator("#al-table tbody tr", has_text="alert")
    assert row.locator("th button").inner_text() == XSS_NAME
    assert row.locator("a").count() == 0  # javascript: source is not linked
    row.locator("th button").click()
    popup = page.locator(".leaflet-popup .poi-popup")
    popup.wait_for()
    assert popup.locator("h2").inner_text() == XSS_NAME
    assert "Beitritt: 2018" in popup.inner_text()
    assert_clean(page, rec)


def test_alliance_map_phone(chromium: Any, site: Site) -> None:
    context = chromium.new_context(viewport=PHONE, locale="de-DE")
    page = context.new_page()
    rec = open_map(page, site.url + "/maps/alliance?lang=en")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    screenshot(page, "maps-alliance-phone")
    assert_clean(page, rec)
    context.close()


def test_tiles_load_only_after_two_clicks(chromium: Any, tmp_path: Path) -> None:
    store = map_store(tmp_path / "t.gpkg", n_random=10)
    probe = Settings(database_url=str(tmp_path / "t.gpkg"))
    with serve(create_app(probe, store)) as url:
        port = url.rsplit(":", 1)[1]
        # 'localhost' is another origin than 127.0.0.1 (a stand-in for an external tile server)
        settings = Settings(
            database_url=str(tmp_path / "t.gpkg"),
            tile_url=f"http://localhost:{port}/tiles/{{z}}/{{x}}/{{y}}.png",
            tile_attribution="© Test tiles https://tiles.invalid/copyright",
        )
        with serve(create_app(settings, store)) as url2:
            context = chromium.new_context(
                viewport=DESKTOP, locale="de-DE"
            )  # the page follows Accept-Language
            page = context.new_page()
            referers: list[str] = []
            page.on(
                "request",
                lambda r: referers.append(r.headers.get("referer", "")) if "/tiles/" in r.url else None,
            )
            rec = open_map(page, url2 + "/maps/places")
            page.wait_for_timeout(500)
            assert not [u for u in rec.requests if "/tiles/" in u]
            page.get_by_role("button", name="Hintergrundkarte laden").click()
            assert not [u for u in rec.requests if "/tiles/" in u]
            page.get_by_role("button", name="Zustimmen und laden").click()
            wait_js(page, "document.querySelectorAll('img.leaflet-tile').length > 0")
            page.wait_for_timeout(300)
            tiles = [u for u in rec.requests if "/tiles/" in u]
            assert tiles and all(u.startswith(f"http://localhost:{port}/tiles/") for u in tiles)
            assert referers and all(r in ("", url2 + "/") for r in referers)  # origin only
            assert "Test tiles" in page.locator(".leaflet-control-attribution").inner_text()
            screenshot(page, "maps-places-tiles-consented")
            assert rec.foreign(("127.0.0.1", "localhost")) == []
            context.close()
    store.close()


def test_static_files_open_from_disk(chromium: Any, tmp_path: Path) -> None:
    store = map_store(tmp_path / "s.gpkg", n_random=40)
    build_static_maps(store, Settings(database_url=str(tmp_path / "s.gpkg")), tmp_path / "maps")
    store.close()
    for name in ("places", "alliance", "embed.en"):
        context = chromium.new_context(viewport=DESKTOP)
        page = context.new_page()
        rec = open_map(page, (tmp_path / "maps" / f"{name}.html").as_uri())
        assert page.evaluate("window.poiMapState.visible") > 0
        screenshot(page, f"maps-static-{name}")
        assert_clean(page, rec, hosts=("file",))
        context.close()
