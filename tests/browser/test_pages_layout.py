"""What a visitor sees at desktop and phone width (issue 14): nothing hides under the map controls, the
header stays compact, labels stay readable, "show more" appears only when there is more, the browser's
language is honoured; and a screenshot of every page at 1280 and 390 px, German and English."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from poi_service.models import Point
from tests.browser.chromium import attach, screenshot, wait_js
from tests.browser.conftest import Site
from tests.factories import random_places

pytestmark = pytest.mark.browser
READY = "window.poiMapState && window.poiMapState.ready === true"
WIDE = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
PAGES = {
    "landing": "/",
    "maps-index": "/maps",
    "places": "/maps/places",
    "embed": "/maps/embed?category=church",
    "embed-help": "/embed",
    "embed-help-invalid": "/embed?center=abc&zoom=99",
    "alliance": "/maps/alliance",
    "ogc-landing": "/ogc",
    "ogc-items": "/ogc/collections/places/items?f=html",
    "ogc-members": "/ogc/collections/alliance-members/items?f=html&limit=20",
}
MAPS = ("places", "embed", "alliance")

# Rectangles (viewport px) of the markers and clusters, and of every map control.
RECTS_JS = """() => {
  const r = (el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  const map = document.querySelector('.leaflet-container');
  const markers = [...document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon')]
    .filter((el) => el.checkVisibility()).map(r);
  const controls = [...document.querySelectorAll('.leaflet-control, .poi-embed-tools')]
    .filter((el) => el.checkVisibility()).map((el) => [el.className, ...r(el)]);
  return {map: r(map), markers, controls};
}"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


@pytest.fixture(scope="module", autouse=True)
def corners(site: Site) -> None:
    """Two places close together amid the others: a view fitted to them alone puts them far apart."""
    a, b = random_places(2, seed=5)
    site.store.places.add_many(
        [
            dataclasses.replace(
                a, name="Eckhaus Nordwest", point=Point(9.37, 54.805), external_key="corner:nw"
            ),
            dataclasses.replace(
                b, name="Eckhaus Südost", point=Point(9.41, 54.785), external_key="corner:se"
            ),
        ]
    )


@pytest.fixture(params=[WIDE, PHONE], ids=["1280", "390"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


def _page(chromium: Any, viewport: dict[str, int], lang: str = "de") -> Iterator[Any]:
    context = chromium.new_context(viewport=viewport, locale=f"{lang}-DE" if lang == "de" else "en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture()
def page(chromium: Any, viewport: dict[str, int]) -> Iterator[Any]:
    yield from _page(chromium, viewport)


def _open(page: Any, url: str) -> Any:
    rec = attach(page)
    response = page.goto(url)
    assert response is not None and response.status == 200
    wait_js(page, READY)
    page.wait_for_timeout(300)
    wait_js(
        page, "!document.querySelector('.leaflet-cluster-anim, .leaflet-zoom-anim')"
    )  # the fitted view settled
    page.wait_for_timeout(300)
    return rec


@pytest.mark.parametrize(
    "path", ["/maps/places", "/maps/embed?category=church", "/maps/embed?q=Eckhaus", "/maps/places?q=Eckhaus"]
)
def test_markers_fit_the_view_and_none_hides_under_a_control(page: Any, site: Site, path: str) -> None:
    rec = _open(page, site.url + path)
    rects = page.evaluate(RECTS_JS)
    assert rects["markers"], "no marker on the map"
    for m in rects["markers"]:
        assert _overlap(m, rects["map"]) and m[0] >= rects["map"][0] - 1 and m[2] <= rects["map"][2] + 1, m
        for name, *c in rects["controls"]:
            assert not _overlap(m, c), f"a marker at {m} hides under {name} at {c}"
    if "Eckhaus" in path:  # the filtered view is fitted to the two filtered markers, not to all places
        assert len(rects["markers"]) == 2
        width = rects["map"][2] - rects["map"][0]
        xs = sorted((m[0] + m[2]) / 2 - rects["map"][0] for m in rects["markers"])
        assert xs[0] < width / 3 and xs[1] > 2 * width / 3, xs
    assert rec.errors == []


def test_scale_bar_and_credits_do_not_overlap(page: Any, site: Site) -> None:
    for path in ("/maps/places", "/maps/alliance", "/maps/embed"):
        _open(page, site.url + path)
        scale = page.locator(".leaflet-control-scale").bounding_box()
        credits = page.locator(".leaflet-control-attribution").bounding_box()
        a = [scale["x"], scale["y"], scale["x"] + scale["width"], scale["y"] + scale["height"]]
        b = [credits["x"], credits["y"], credits["x"] + credits["width"], credits["y"] + credits["height"]]
        assert not _overlap(a, b), (path, a, b)


def test_header_keeps_one_line_for_the_title_and_one_for_the_links(page: Any, site: Site) -> None:
    for path in ("/maps/places", "/maps/alliance"):
        _open(page, site.url + path)
        line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.poi-bar h1')).lineHeight)")
        title = page.locator(".poi-bar h1").bounding_box()
        assert title["height"] <= line * 1.3, path
        tops = {round(b["y"]) for b in (a.bounding_box() for a in page.locator(".poi-nav a").all())}
        assert len(tops) == 1, f"{path}: the links wrap onto {len(tops)} lines"
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1


def test_state_labels_are_drawn_above_the_member_dots(page: Any, site: Site) -> None:
    _open(page, site.url + "/maps/alliance")
    wait_js(page, "document.querySelectorAll('.poi-area-label-state').length > 0")
    z = page.evaluate(
        "[...['.leaflet-marker-pane', '.leaflet-poi-labels-pane'].map((s) =>"
        " Number(getComputedStyle(document.querySelector(s)).zIndex))]"
    )
    assert z[1] > z[0], f"labels pane z-index {z[1]} is below the markers' {z[0]}"


def test_show_more_appears_only_when_there_is_more_and_works(page: Any, site: Site) -> None:
    _open(page, site.url + "/maps/places")
    more = page.locator("#poi-more")
    total = site.store.places.count()
    assert total > 100 and more.is_visible()
    more.click()
    assert page.locator("#poi-list li.poi-item").count() == 100
    page.fill("#poi-q", "Rathaus Harrislee")
    wait_js(page, "window.poiMapState.visible === 1")
    assert page.locator("#poi-list li.poi-item").count() == 1 and not more.is_visible()
    page.fill("#poi-q", "zzzzzz")
    wait_js(page, "window.poiMapState.visible === 0")
    assert not more.is_visible()


def test_ogc_column_headers_never_break_mid_word(page: Any, site: Site) -> None:
    page.goto(site.url + "/ogc/collections/places/items?f=html")
    heads = page.evaluate(
        "[...document.querySelectorAll('thead th')].map((th) => [th.innerText,"
        " th.getBoundingClientRect().height, parseFloat(getComputedStyle(th).lineHeight)])"
    )
    assert any(name == "phone_display" for name, _, _ in heads) or len(heads) > 5
    for name, height, line in heads:
        assert height < 2 * line, f"column header {name!r} wraps"


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_browser_language_picks_the_page_language(chromium: Any, site: Site, lang: str) -> None:
    for page in _page(chromium, PHONE, lang):
        for path in ("/", "/maps/places", "/maps/alliance", "/embed"):
            page.goto(site.url + path)
            assert page.evaluate("document.documentElement.lang") == lang, path


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot_every_page(chromium: Any, site: Site, name: str, lang: str) -> None:
    for viewport, label in ((WIDE, "1280"), (PHONE, "390")):
        for page in _page(chromium, viewport, lang):
            rec = attach(page)
            sep = "&" if "?" in PAGES[name] else "?"
            response = page.goto(
                site.url + PAGES[name] + ("" if name.startswith("ogc") else f"{sep}lang={lang}")
            )
            assert response is not None and response.status == 200
            if name in MAPS:
                wait_js(page, READY)
                page.wait_for_timeout(400)
            screenshot(page, f"page-{name}-{label}-{lang}")
            assert rec.errors == [], rec.errors
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, name


@pytest.mark.parametrize("lang", ["de", "en"])
def test_alliance_years_after_the_last_dated_join_are_unknown(chromium: Any, site: Site, lang: str) -> None:
    last = max(m.joined.year for m in site.store.memberships.iter_all() if m.joined)
    for page in _page(chromium, WIDE, lang):
        _open(page, site.url + f"/maps/alliance?lang={lang}")
        this_year = page.evaluate("new Date().getFullYear()")
        assert page.evaluate("document.getElementById('al-year').max") == str(max(last, this_year))
        assert page.evaluate("document.getElementById('al-year').value") == str(last)
        assert not page.evaluate("window.poiMapState.unknownYear")
        if this_year > last:
            page.evaluate(
                "const s = document.getElementById('al-year'); s.value = s.max;"
                "s.dispatchEvent(new Event('input'));"
            )
            status = page.locator("#poi-status").inner_text()
            assert ("unbekannt" if lang == "de" else "unknown") in status and str(last) in status
            assert page.evaluate("window.poiMapState.unknownYear")
            assert "poi-year-unknown" in page.locator(".leaflet-container").get_attribute("class")
            screenshot(page, f"page-alliance-unknown-years-{lang}")
