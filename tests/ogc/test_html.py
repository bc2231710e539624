"""The HTML encoding: every resource as a page, escaped, self-contained (no external resource), with a
map of the features (self-hosted Leaflet) and a table; the map checked in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.chromium import DESKTOP, attach, screenshot, wait_js
from tests.ogc.conftest import XSS_NAME, Ogc

PAGES = (
    "/ogc",
    "/ogc/conformance",
    "/ogc/api",
    "/ogc/collections",
    "/ogc/collections/places",
    "/ogc/collections/places/items",
    "/ogc/collections/alliance-members/items?sortby=name",
    "/ogc/collections/districts/items?limit=5",
    "/ogc/collections/states/items/01",
    "/ogc/collections/alliance-members/queryables",
)


class Resources(HTMLParser):
    """Every URL the page would load (scripts, stylesheets, images, frames) and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(str(a["src"]))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.loads.append(str(a["href"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))


def parse(html: str) -> Resources:
    p = Resources()
    p.feed(html)
    return p


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_self_contained_and_have_a_strict_policy(ogc: Ogc, path: str) -> None:
    r = ogc.client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = parse(r.text)
    for url in page.loads:
        parts = urlsplit(url)
        assert parts.scheme in ("", "http") and parts.netloc in ("", urlsplit(ogc.url).netloc), url
        assert ogc.client.get(url).status_code == 200, url
    assert "<script>alert" not in r.text


def test_items_page_has_a_map_a_table_and_paging(ogc: Ogc) -> None:
    html = ogc.client.get("/ogc/collections/places/items", params={"f": "html", "limit": 7}).text
    page = parse(html)
    assert "ogc-map" in page.ids and "ogc-map-config" in page.ids
    assert any("/static/leaflet/" in u and u.endswith("leaflet.js") for u in page.loads)
    assert html.count("<tr>") == 1 + 7
    nxt = [u for u in page.links if "offset=7" in u]
    assert nxt and all("f=html" in u for u in nxt)
    assert ogc.client.get(nxt[0]).status_code == 200


def test_user_text_is_escaped(ogc: Ogc) -> None:
    r = ogc.client.get("/ogc/collections/places/items", params={"f": "html", "q": "ogc Kirche", "limit": 50})
    assert "&lt;script&gt;alert(&#39;ogc&#39;)&lt;/script&gt; Kirche" in r.text
    assert XSS_NAME not in r.text
    place = next(p for p in ogc.places() if p.name == XSS_NAME)
    item = ogc.client.get(f"/ogc/collections/places/items/{place.id}?f=html").text
    assert XSS_NAME not in item and "&lt;script&gt;" in item


def test_form_with_empty_fields_counts_them_as_not_given(ogc: Ogc) -> None:
    r = ogc.client.get("/ogc/collections/places/items?f=html&bbox=&filter=&sortby=&q=&limit=5")
    assert r.status_code == 200
    nxt = [u for u in parse(r.text).links if "offset=5" in u]
    assert nxt and "bbox=" not in nxt[0] and "filter=" not in nxt[0]
    assert ogc.client.get("/ogc/collections/places/items?bbox=").status_code == 400  # JSON stays strict


@pytest.fixture()
def page(ogc: Ogc, chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_map_draws_the_page_features_in_chromium(ogc: Ogc, page: Any) -> None:
    rec = attach(page)
    response = page.goto(f"{ogc.url}/ogc/collections/places/items?f=html&q=Kirche&limit=50")
    assert response is not None and response.status == 200
    shown = int(wait_js(page, "document.getElementById('ogc-map').getAttribute('data-features')"))
    assert shown == page.locator("tbody tr").count() > 0
    assert page.locator("path.leaflet-interactive").count() >= shown
    screenshot(page, "ogc-items-places")
    page.goto(f"{ogc.url}/ogc/collections/districts/items/01001?f=html")
    assert int(wait_js(page, "document.getElementById('ogc-map').getAttribute('data-features')")) == 1
    screenshot(page, "ogc-item-district")
    page.goto(f"{ogc.url}/ogc/collections/districts?f=html")
    assert int(wait_js(page, "document.getElementById('ogc-map').getAttribute('data-features')")) == 400
    screenshot(page, "ogc-collection-districts")
    assert rec.foreign() == [] and rec.errors == [] and rec.dialogs == []
    assert page.evaluate("window.__xss") == []
    assert not [c for c in rec.console if "Content Security Policy" in c or c.startswith("error")]
