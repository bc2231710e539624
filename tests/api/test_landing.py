"""GET / for browsers is a page with links to the maps (JSON for clients), and map pages without `lang`
follow Accept-Language (issue 14.14)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api
from tests.api.test_pages_text import HTML, Links

CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_browsers_get_a_landing_page_with_working_links(api: Api) -> None:
    r = api.client.get("/", headers={"Accept": CHROME, "Accept-Language": "de-DE,de;q=0.9"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert (
        "accept" in r.headers["vary"].lower() and "default-src 'none'" in r.headers["content-security-policy"]
    )
    assert '<html lang="de">' in r.text
    links = Links()
    links.feed(r.text)
    for must in ("/maps/places?lang=de", "/maps/alliance?lang=de", "/embed?lang=de", "/docs", "/ogc"):
        assert must in links.hrefs, must
    for href in links.hrefs:
        got = api.client.get(href, headers=HTML)
        assert got.status_code == 200, href
    en = api.client.get("/", headers={"Accept": CHROME, "Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in en.text and "/maps/places?lang=en" in en.text
    assert '<html lang="en">' in api.client.get("/?lang=en", headers={"Accept": CHROME}).text


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json, text/html;q=0.5"])
def test_clients_get_json(api: Api, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    r = api.client.get("/", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json()["links"]["docs"].endswith("/docs")


@pytest.mark.parametrize("path", ["/maps", "/maps/places", "/maps/embed", "/maps/alliance", "/embed"])
@pytest.mark.parametrize(
    ("accept_language", "lang", "want"),
    [
        ("en", None, "en"),
        ("en-US,en;q=0.9,de;q=0.8", None, "en"),
        ("fr-FR,fr;q=0.9,de;q=0.7,en;q=0.5", None, "de"),
        ("fr", None, "de"),
        (None, None, "de"),
        ("en", "de", "de"),  # an explicit lang wins
    ],
)
def test_map_pages_follow_accept_language(
    api: Api, path: str, accept_language: str | None, lang: str | None, want: str
) -> None:
    headers = {"Accept": CHROME, **({"Accept-Language": accept_language} if accept_language else {})}
    r = api.client.get(path, params={"lang": lang} if lang else {}, headers=headers)
    assert r.status_code == 200
    assert re.search(r'<html lang="([a-z]+)"', r.text).group(1) == want  # type: ignore[union-attr]
    assert "Accept-Language" in r.headers.get("vary", "")
