"""Opening hours and wheelchair access on the resident map and the widget, in real headless Chromium:
the popup and list say "geöffnet · schließt 18:00" and the wheelchair state with icon and text, and the
"Jetzt geöffnet" / "Rollstuhlgerecht" toggles filter the markers and the list."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.maps.open_state import states
from poi_service.models import PlaceData, Point
from poi_service.store import Store, open_store
from tests.browser.chromium import PHONE, Recorder, attach, screenshot, unnamed_controls, wait_js
from tests.browser.conftest import Site
from tests.conftest import DATA_DIR, require_chromium
from tests.factories import random_places
from tests.server import serve

pytestmark = pytest.mark.browser
READY = "window.poiMapState && window.poiMapState.ready === true"
HOURS_READY = "window.poiMapState && window.poiMapState.hoursAt"
WIDE = {"width": 1280, "height": 800}
# Synthetic places (tests/factories.py) with hours and wheelchair values.
OFFICE_HOURS = "Mo-Fr 09:00-18:00; PH off"
KINDS = [
    ("24/7", "yes"),
    ("24/7", "limited"),
    ("24/7", None),
    ("Mo-Su off", "yes"),
    (OFFICE_HOURS, "no"),
    ("Mo-Su 09:00-02:00", "limited"),
    ("kaputt, nur im Sommer", None),
    (None, "yes"),
    (None, None),
]


def hours_places() -> list[PlaceData]:
    base = random_places(45, seed=21)
    out = []
    for i, p in enumerate(base):
        oh, wc = KINDS[i % len(KINDS)]
        out.append(dataclasses.replace(p, opening_hours=oh, wheelchair=wc))
    office = dataclasses.replace(
        base[0],
        name="Bürgerbüro (Testort)",
        point=Point(9.3866, 54.7998),
        opening_hours=OFFICE_HOURS,
        wheelchair="yes",
        external_key="test:hours:office",
        category="public_administration",
    )
    return [*out, office]


@pytest.fixture(scope="module")
def hsite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    path: Path = tmp_path_factory.mktemp("hours-browser") / "hours.gpkg"
    store: Store = open_store(str(path), DATA_DIR)
    store.places.add_many(hours_places())
    settings = Settings(database_url=str(path))
    with serve(create_app(settings, store)) as url:
        yield Site(url, store, settings)
    store.close()


def open_map(chromium: Any, url: str, viewport: dict[str, int], locale: str) -> tuple[Any, Any, Recorder]:
    context = chromium.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    rec = attach(page)
    response = page.goto(url)
    assert response is not None and response.status == 200
    wait_js(page, READY)
    wait_js(page, HOURS_READY)
    return context, page, rec


def count(page: Any) -> str:
    text: str = page.locator("#poi-status").inner_text()
    return text


def expected_line(payload: dict[str, Any], name: str, at: str, lang: str) -> str:
    """The state line the page should show, from the server's own evaluation at the page's minute."""
    i = payload["name"].index(name)
    rows = [[i, text] for j, text in payload["oh"] if j == i]
    from opening_hours import OpeningHours

    parsed = [(i, rows[0][1], OpeningHours(rows[0][1], coords=(payload["lat"][i], payload["lon"][i])))]
    ((_, flag, hhmm, dow),) = states(parsed, datetime.fromisoformat(at))
    words = {
        "de": ("geöffnet", "geschlossen", "schließt", "öffnet", "Mo,Di,Mi,Do,Fr,Sa,So"),
        "en": ("open", "closed", "closes", "opens", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    }[lang]
    day = words[4].split(",")[dow] + " " if dow >= 0 else ""
    return f"{words[0] if flag == 1 else words[1]} · {words[2] if flag == 1 else words[3]} {day}{hhmm}"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_filters_and_popup_on_the_resident_map(chromium: Any, hsite: Site, lang: str) -> None:
    context, page, rec = open_map(chromium, f"{hsite.url}/maps/places?lang={lang}", WIDE, f"{lang}-DE")
    places = list(hsite.store.places.iter_all())
    total = len(places)
    always = sum(1 for p in places if p.opening_hours == "24/7")
    accessible = sum(1 for p in places if p.wheelchair in ("yes", "limited"))
    both = sum(1 for p in places if p.opening_hours == "24/7" and p.wheelchair in ("yes", "limited"))
    of = "von" if lang == "de" else "of"
    assert count(page).startswith(f"{total} {of} {total}")
    labels = {"de": ("Jetzt geöffnet", "Rollstuhlgerecht"), "en": ("Open now", "Wheelchair accessible")}[lang]
    open_box = page.get_by_label(labels[0])
    wheel_box = page.get_by_label(labels[1], exact=False)
    # Every place with hours says open (24/7) or closed, except the never-open and the broken hours:
    # "open now" can only keep 24/7 places and those open by their hours at this minute.
    open_box.check()
    at = page.evaluate("window.poiMapState.hoursAt")
    payload = page.evaluate("fetch('/maps/places/data.json').then(r => r.json())")
    open_now = [
        r[0]
        for r in page.evaluate("fetch('/maps/places/open.json').then(r => r.json())")["rows"]
        if r[1] == 1
    ]
    wait_js(page, f"window.poiMapState.visible === {len(open_now)}")
    assert len(open_now) >= always
    wheel_box.check()
    wc = {i: v for i, v in payload["wc"]}
    want_both = sum(1 for i in open_now if wc.get(i) in ("yes", "limited"))
    assert want_both >= both
    wait_js(page, f"window.poiMapState.visible === {want_both}")
    open_box.uncheck()
    wait_js(page, f"window.poiMapState.visible === {accessible}")
    wheel_box.uncheck()
    wait_js(page, f"window.poiMapState.visible === {total}")
    assert unnamed_controls(page) == []

    # The office's popup: state line, raw hours, wheelchair icon and text.
    page.fill("#poi-q", "Bürgerbüro")
    wait_js(page, "window.poiMapState.visible === 1")
    item = page.locator("#poi-list li.poi-item").first
    assert item.locator(".poi-hours-state").inner_text() == expected_line(
        payload, "Bürgerbüro (Testort)", at, lang
    )
    hours_label = "Öffnungszeiten" if lang == "de" else "Opening hours"
    assert item.locator(".poi-hours-raw").inner_text() == f"{hours_label}: {OFFICE_HOURS}"
    wheel = item.locator(".poi-wheelchair")
    assert wheel.inner_text() == ("rollstuhlgerecht" if lang == "de" else "wheelchair accessible")
    assert wheel.locator("svg.poi-wc-icon").count() == 1
    # A 24/7 place: open, with no change to announce.
    always_name = next(payload["name"][i] for i, text in payload["oh"] if text == "24/7")
    page.fill("#poi-q", always_name)
    wait_js(page, f"document.querySelector('#poi-list button')?.innerText === {json.dumps(always_name)}")
    first = page.locator("#poi-list li.poi-item").first
    assert first.locator(".poi-hours-state").inner_text() == ("geöffnet" if lang == "de" else "open")
    page.fill("#poi-q", "Bürgerbüro")
    wait_js(page, "window.poiMapState.visible === 1")
    item.locator("button").click()
    popup = page.locator(".leaflet-popup .poi-popup")
    popup.wait_for()
    assert popup.locator(".poi-hours-state").count() == 1 and popup.locator(".poi-wheelchair").count() == 1
    page.wait_for_timeout(400)  # the popup's fade-in
    screenshot(page, f"maps-hours-{lang}-1280")
    assert rec.errors == [] and rec.foreign(("127.0.0.1",)) == []
    context.close()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_phone_width_and_the_widget(chromium: Any, hsite: Site, lang: str) -> None:
    context, page, rec = open_map(chromium, f"{hsite.url}/maps/places?lang={lang}", PHONE, f"{lang}-DE")
    page.fill("#poi-q", "Bürgerbüro")
    wait_js(page, "window.poiMapState.visible === 1")
    page.locator("#poi-list li.poi-item button").first.click()
    page.locator(".leaflet-popup .poi-popup .poi-wheelchair").wait_for()
    page.wait_for_timeout(400)  # the popup's fade-in
    screenshot(page, f"maps-hours-{lang}-390")
    page.locator("#poi-filters").scroll_into_view_if_needed()
    screenshot(page, f"maps-hours-{lang}-390-filters")
    context.close()
    context, page, rec = open_map(chromium, f"{hsite.url}/maps/embed?lang={lang}", PHONE, f"{lang}-DE")
    page.locator("#poi-list-toggle").click()
    label = "Jetzt geöffnet" if lang == "de" else "Open now"
    page.get_by_label(label).check()
    rows = page.evaluate("fetch('/maps/places/open.json').then(r => r.json())")["rows"]
    wait_js(page, f"window.poiMapState.visible === {sum(1 for r in rows if r[1] == 1)}")
    screenshot(page, f"maps-hours-embed-{lang}-390")
    assert rec.errors == []
    context.close()
