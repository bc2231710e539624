"""Map builders without a browser: escaping, attribution, layers, CSP, offline assets, static files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from poi_service.api.app import create_app
from poi_service.attribution import DATA_ATTRIBUTIONS
from poi_service.boundaries import Boundaries
from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.maps import build_static_maps
from poi_service.maps.assets import OWN_STATIC, PACKAGE_FILES, packages
from poi_service.maps.cache import PayloadCache
from poi_service.maps.data import ALLIANCE_COLOURS, address, members_payload, places_payload
from poi_service.maps.html import (
    content_security_policy,
    frame_sources,
    http_url,
    inline_hashes,
    linkify,
    script_json,
    tile_source,
)
from poi_service.store import Store
from tests.browser.data import QUOTES_NAME, XSS_ADDRESS_STREET, XSS_DESCRIPTION, XSS_NAME, map_store
from tests.conftest import DATA_DIR
from tests.server import serve

URL = re.compile(r"https?://[^\s\"'<>\\)`]+", re.IGNORECASE)
# Hosts a generated page may *name* (links in attribution and popups, never loaded): the data licences
# and the sources cited by the test records.
ATTRIBUTION_HOSTS = {"www.govdata.de", "www.geonames.org", "www.openstreetmap.org"}
SVG_NAMESPACE = "http://www.w3.org/2000/svg"  # an XML namespace name in map scripts, not a request


@dataclass
class Served:
    url: str
    client: httpx.Client
    store: Store


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path = tmp_path_factory.mktemp("maps") / "maps.gpkg"
    store = map_store(path)
    settings = Settings(
        database_url=str(path), frame_ancestors=["https://cms.example.org", "bad; script-src *"]
    )
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Served(url, client, store)
    store.close()


@pytest.fixture(scope="module")
def static_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("static")
    store = map_store(out / "s.gpkg", n_random=40)
    build_static_maps(store, Settings(database_url=str(out / "s.gpkg")), out / "maps")
    store.close()
    yield out / "maps"


def config_of(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="poi-map-config">(.*?)</script>', html, re.DOTALL)
    assert match, "page has no config block"
    value: dict[str, object] = json.loads(match.group(1))
    return value


def foreign_urls(text: str, allowed: set[str]) -> list[str]:
    return [u for u in URL.findall(text) if urlsplit(u).hostname not in allowed and u != SVG_NAMESPACE]


class Resources(HTMLParser):
    """Every URL the page itself would load: script src, link href (stylesheets, icons), img src, iframes."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loaded.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.loaded.append(str(a["href"]))


def loaded_resources(html: str) -> list[str]:
    parser = Resources()
    parser.feed(html)
    return parser.loaded


# -- helpers ----------------------------------------------------------------------------------------


def test_script_json_cannot_close_the_script_block() -> None:
    value = {"name": "</script><script>alert(1)</script><!-- & \u2028\u2029 `'\"\\"}
    text = script_json(value)
    for raw in ("</script", "<!--", "<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == value


def test_http_url_accepts_only_absolute_http_links() -> None:
    assert http_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert http_url(" http://example.org ") == "http://example.org"
    for bad in (
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,x",
        "//example.org",
        "/local",
        "ftp://example.org",
        "https://",
        "https://exa mple.org",
        "",
        None,
    ):
        assert http_url(bad) is None


def test_linkify_escapes_text_and_links_only_urls() -> None:
    html = linkify('<b>© BKG</b> "q" https://www.govdata.de/dl-de/by-2-0) and javascript:alert(1)')
    assert "<b>" not in html and "&lt;b&gt;" in html and "&quot;q&quot;" in html
    assert '<a href="https://www.govdata.de/dl-de/by-2-0" rel="noopener noreferrer"' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html


def test_frame_sources_keep_self_and_drop_malformed_origins() -> None:
    assert frame_sources([]) == "'self'"
    value = frame_sources(["https://cms.example.org/", "bad; script-src *", "https://*.example.net", "x y"])
    assert value == "'self' https://cms.example.org https://*.example.net"


def test_tile_source_of_templates() -> None:
    assert (
        tile_source("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
        == "https://*.tile.openstreetmap.org"
    )
    assert tile_source("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert tile_source("javascript:alert(1)") is None


def test_csp_hashes_inline_scripts_but_not_json_blocks() -> None:
    html = '<script>var a=1;</script><script type="application/json">{"x":1}</script><script src="/a.js"></script>'
    scripts, styles = inline_hashes(html)
    assert len(scripts) == 1 and not styles
    csp = content_security_policy(html, tile_url="https://{s}.tiles.example/{z}/{x}/{y}.png")
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp
    assert "img-src 'self' data: https://*.tiles.example" in csp
    assert "frame-ancestors 'self'" in csp


# -- payloads -------------------------------------------------------------------------------------


def test_places_payload_is_columnar_sorted_and_keeps_texts_plain(served: Served) -> None:
    payload = places_payload(served.store.places.iter_all(), Vocabulary.load())
    n = payload["n"]
    assert n == 153 and all(len(payload[k]) == n for k in ("lon", "lat", "kp", "name", "street", "town"))
    folded = [name.casefold() for name in payload["name"]]
    assert folded[:3] == sorted(folded)[:3]
    assert XSS_NAME in payload["name"] and QUOTES_NAME in payload["name"]
    i = payload["name"].index(XSS_NAME)
    assert address(payload, i) == f"{XSS_ADDRESS_STREET} 1, 24955 Harrislee"
    assert payload["categories"][payload["kp"][i] // payload["prec_base"]]["slug"] == "church"
    assert not any(row[0] == i for row in payload["web"])  # javascript: website dropped
    assert [i, XSS_DESCRIPTION] in payload["desc"]
    labels = {c["slug"]: (c["de"], c["en"]) for c in payload["categories"]}
    assert labels["church"] == ("Kirche", "Church")
    assert len({c["color"] for c in payload["categories"][:15]}) == 15
    precision = payload["precision_labels"]["de"]
    assert precision["municipality"] == "Lage ungefähr: Ortsmitte"
    assert precision["postcode"] == "Lage ungefähr: Postleitzahlgebiet"


def test_members_payload_has_states_alliances_and_safe_sources(served: Served) -> None:
    payload = members_payload(served.store.memberships.iter_all(), Boundaries.load(DATA_DIR))
    rows = {r["name"]: r for r in payload["rows"]}
    assert rows["Potsdam"]["st"] == "12" and rows["Göttingen"]["st"] == "03" and rows["Palermo"]["st"] is None
    assert rows["Potsdam"]["r"] == "coordinator" and rows[XSS_NAME]["src"] is None
    assert rows[XSS_NAME]["joined"] == "2018" and rows["Hannover"]["year"] is None
    assert {a["code"]: a["color"] for a in payload["alliances"]} == ALLIANCE_COLOURS
    assert len(set(ALLIANCE_COLOURS.values())) == 3
    assert len(payload["states"]) == 16


def test_payload_cache_rebuilds_when_the_token_changes() -> None:
    cache = PayloadCache(ttl_s=60)
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return {"n": len(calls)}

    first = cache.get("k", 1, build)
    assert cache.get("k", 1, build) is first and len(calls) == 1
    assert json.loads(cache.get("k", 2, build).body) == {"n": 2}


# -- served pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/maps/places",
        "/maps/places?lang=en",
        "/maps/alliance",
        "/maps/embed",
        "/maps/embed?category=church&center=54.79,9.39&radius_m=2000&zoom=14&lang=en",
    ],
)
def test_pages_are_offline_credited_and_hashed(served: Served, path: str) -> None:
    r = served.client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert foreign_urls(html, ATTRIBUTION_HOSTS) == []
    assert all(not re.match(r"(?i)(https?:)?//", u) for u in loaded_resources(html)), loaded_resources(html)
    config = config_of(html)
    credits = str(config["attribution"])
    for line in DATA_ATTRIBUTIONS:
        assert linkify(line) in credits
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for digest in inline_hashes(html)[0]:
        assert digest in csp
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert config["tiles"] is None
    lang = "en" if "lang=en" in path else "de"
    assert f'<html lang="{lang}">' in html


def test_only_the_widget_may_be_framed_by_configured_origins(served: Served) -> None:
    embed = served.client.get("/maps/embed")
    assert "frame-ancestors 'self' https://cms.example.org" in embed.headers["content-security-policy"]
    assert "script-src *" not in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    for path in ("/maps/places", "/maps/alliance", "/embed"):
        r = served.client.get(path)
        assert r.headers["x-frame-options"] == "SAMEORIGIN"
        assert r.headers["content-security-policy"].endswith("frame-ancestors 'self'")


def test_embed_help_shows_an_escaped_snippet(served: Served) -> None:
    r = served.client.get("/embed", params={"category": "church", "q": '"><script>alert(1)</script>'})
    assert r.status_code == 200
    assert "&lt;iframe src=" in r.text and "<script>alert(1)" not in r.text
    assert "/maps/embed?category=church" in r.text


def test_data_endpoint_filters_compresses_and_revalidates(served: Served) -> None:
    r = served.client.get("/maps/places/data.json", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.json()["n"] == 153
    plain = served.client.get("/maps/places/data.json", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == r.json()
    assert plain.headers["etag"] == r.headers["etag"]
    again = served.client.get("/maps/places/data.json", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304
    near = served.client.get(
        "/maps/places/data.json", params={"center": "54.7945,9.3905", "radius_m": 300}
    ).json()
    assert XSS_NAME in near["name"] and near["n"] < 153
    church = served.client.get("/maps/places/data.json", params={"category": "church"}).json()
    slugs = {church["categories"][kp // church["prec_base"]]["slug"] for kp in church["kp"]}
    assert slugs == {"church"}
    bad = served.client.get("/maps/places/data.json", params={"radius_m": 300})
    assert bad.status_code == 400 and bad.json()["invalid_params"][0]["name"] == "radius_m"
    assert served.client.get("/maps/embed", params={"center": "north"}).status_code == 400
    assert served.client.get("/maps/embed", params={"zoom": 30}).status_code == 400


def test_alliance_data_endpoint(served: Served) -> None:
    data = served.client.get("/maps/alliance/data.json").json()
    assert len(data["rows"]) == 6 and {a["code"] for a in data["alliances"]} == set(ALLIANCE_COLOURS)


def test_basemap_is_compact_and_bounded(served: Served) -> None:
    states = served.client.get("/maps/basemap/state.json", headers={"accept-encoding": "gzip"})
    assert states.status_code == 200 and "max-age" in states.headers["cache-control"]
    fc = states.json()
    assert states.headers["content-encoding"] == "gzip"
    assert len(fc["features"]) == 16 and len(states.content) < 100_000  # decoded; about 20 KB gzipped
    assert set(fc["features"][0]["properties"]) == {"ags", "name", "lp", "a"}
    munis = served.client.get(
        "/maps/basemap/municipality.json", params={"bbox": "9.3,54.75,9.5,54.85"}
    ).json()
    names = {f["properties"]["name"] for f in munis["features"]}
    assert {"Harrislee", "Flensburg"} <= names
    assert served.client.get("/maps/basemap/municipality.json").status_code == 400
    assert (
        served.client.get("/maps/basemap/municipality.json", params={"bbox": "5,47,15,55"}).status_code == 400
    )
    assert served.client.get("/maps/basemap/country.json").status_code in (400, 404, 422)


def test_assets_are_self_hosted_with_long_cache(served: Served) -> None:
    html = served.client.get("/maps/places").text
    for url in loaded_resources(html):
        if url.startswith("data:"):
            continue
        r = served.client.get(url)
        assert r.status_code == 200, url
        if url == "/maps/places/data.json":  # preloaded while the scripts load; revalidated by ETag
            assert r.headers["cache-control"] == "no-cache" and r.headers["etag"]
            continue
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.client.get("/static/leaflet/1.9.3/../../config.py").status_code == 404
    assert served.client.get("/static/leaflet/1.9.3/leaflet-src.js.map").status_code == 404
    css = served.client.get(f"/static/leaflet/{packages()['leaflet'].version}/leaflet.css").text
    assert all(not u.startswith(("http", "//")) for u in re.findall(r"url\(([^)]+)\)", css))


def test_own_scripts_name_no_other_host() -> None:
    for name in PACKAGE_FILES["poi-maps"]:
        assert foreign_urls((OWN_STATIC / name).read_text(encoding="utf-8"), set()) == [], name


def test_tile_server_needs_consent_and_is_allowed_by_csp(tmp_path: Path) -> None:
    from poi_service.maps.assets import asset_urls
    from poi_service.maps.pages import Target, places_page

    settings = Settings(
        database_url=str(tmp_path / "t.gpkg"),
        tile_url="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
        tile_attribution="© OpenStreetMap contributors https://www.openstreetmap.org/copyright",
    )
    page = places_page(
        settings, Target(asset_urls("/static")), lang="de", nav=[], data_url="/maps/places/data.json"
    )
    tiles = config_of(page.html)["tiles"]
    assert isinstance(tiles, dict) and tiles["host"] == "tile.openstreetmap.org"
    assert '<a href="https://www.openstreetmap.org/copyright"' in tiles["attribution"]
    assert "img-src 'self' data: https://*.tile.openstreetmap.org" in page.csp
    assert all(not re.match(r"(?i)(https?:)?//", u) for u in loaded_resources(page.html))


# -- static build ---------------------------------------------------------------------------------


def test_static_maps_are_self_contained(static_dir: Path) -> None:
    pages = sorted(p.name for p in static_dir.glob("*.html"))
    assert pages == [
        "alliance.en.html",
        "alliance.html",
        "embed.en.html",
        "embed.html",
        "index.html",
        "places.en.html",
        "places.html",
    ]
    for page in static_dir.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert foreign_urls(html, ATTRIBUTION_HOSTS | {"example.org", "www.harrislee.de"}) == [], page.name
        for url in loaded_resources(html):
            assert url.startswith("data:") or (static_dir / url).is_file(), (page.name, url)
        assert XSS_NAME not in html and "<img src=x" not in html
        assert XSS_ADDRESS_STREET not in html
        if page.name != "index.html":
            assert 'http-equiv="Content-Security-Policy"' in html
            config = config_of(html)
            data = config["data"]
            assert isinstance(data, dict)
            names = data.get("name") or [r["name"] for r in data["rows"]]
            assert XSS_NAME in names
    assert (static_dir / "assets" / "leaflet" / "leaflet.js").is_file()
    assert (static_dir / "assets" / "basemap" / "district.js").is_file()
