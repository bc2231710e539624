"""Every served HTML page, in both languages, reads as text for people: no Python repr leaks into it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from poi_service.api.app import create_app
from tests.api.conftest import Api

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# A Python object's repr, or None/True/False printed where a text belongs (an element's text or an attribute).
REPR = re.compile(
    r"(<|&lt;)built-in|<bound method|<function |object at 0x|>\s*(None|True|False)\s*<|=\"(None|True|False)\""
)
START = ("/", "/maps", "/embed", "/maps/places", "/maps/embed", "/maps/alliance", "/ogc")
MAX_PAGES = 120


class Links(HTMLParser):
    """The href of every link and the action of every form."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))


def _with_lang(path: str, lang: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "lang"] + [("lang", lang)]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def _crawl(api: Api, lang: str) -> dict[str, str]:
    """Every HTML page reachable from the start pages on this server (bounded), path -> text."""
    host = urlsplit(api.url).netloc
    todo = [p if p.startswith("/ogc") else _with_lang(p, lang) for p in START]
    seen: dict[str, str] = {}
    while todo and len(seen) < MAX_PAGES:
        path = todo.pop(0)
        if path in seen:
            continue
        r = api.client.get(path, headers={**HTML, "Accept-Language": lang})
        seen[path] = r.text if r.headers.get("content-type", "").startswith("text/html") else ""
        if not seen[path]:
            continue
        links = Links()
        links.feed(r.text)
        for href in links.hrefs:
            parts = urlsplit(href)
            if (
                parts.scheme not in ("", "http")
                or parts.netloc not in ("", host)
                or parts.path.startswith("/static")
            ):
                continue
            if not parts.path.startswith("/"):
                continue
            nxt = urlunsplit(("", "", parts.path, parts.query, ""))
            if not nxt.startswith(("/ogc", "/docs", "/redoc")):
                nxt = _with_lang(nxt, lang)
            if nxt not in seen and nxt not in todo:
                todo.append(nxt)
    return seen


def test_no_page_shows_a_python_repr(api: Api) -> None:
    html_routes = {
        r.path
        for r in create_app(api.settings, api.store).routes
        if isinstance(r, APIRoute) and r.response_class is HTMLResponse and "{" not in r.path
    }
    for lang in ("de", "en"):
        pages = _crawl(api, lang)
        crawled = {urlsplit(p).path for p, text in pages.items() if text}
        assert html_routes <= crawled, f"HTML routes never reached by a link: {html_routes - crawled}"
        assert any(p.startswith("/ogc/collections/") and "/items" in p for p in crawled)
        for path, text in pages.items():
            found = REPR.search(text)
            assert found is None, (
                f"{path} ({lang}) shows {text[max(0, found.start() - 80) : found.end() + 40]!r}"
            )
