"""Shared checks of the OGC tests: following next links, brute-force expectations."""

from __future__ import annotations

from typing import Any

import httpx

from tests.ogc.conftest import Ogc


def link(body: dict[str, Any], rel: str, type_: str | None = None) -> dict[str, Any] | None:
    """The first link of a relation (and media type)."""
    return next((x for x in body["links"] if x["rel"] == rel and (type_ is None or x["type"] == type_)), None)


def fetch_all(
    ogc: Ogc, path: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every feature by following next links; also returns each page body. Checks the counts as it goes."""
    features: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    r: httpx.Response = ogc.client.get(path, params=params)
    while True:
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/geo+json")
        body = r.json()
        assert body["numberReturned"] == len(body["features"])
        if pages:
            assert body["numberMatched"] == pages[0]["numberMatched"]
        pages.append(body)
        features += body["features"]
        nxt = link(body, "next")
        if nxt is None:
            break
        assert nxt["type"] == "application/geo+json"
        r = ogc.client.get(nxt["href"])
    assert len(features) == pages[0]["numberMatched"]
    return features, pages
