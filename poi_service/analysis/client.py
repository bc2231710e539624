"""A small typed HTTP client of a running poi-service: follows `next` links, returns GeoDataFrames."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any

import geopandas as gpd
import httpx

from poi_service.analysis.frames import (
    membership_feature_row,
    memberships_frame,
    place_feature_row,
    places_frame,
)

PAGE_SIZE = 500
MAX_PAGES = 10_000  # a server whose `next` links never end is a bug, not a reason to loop forever

Params = Mapping[str, str | int | float | Sequence[str] | None]


class PoiClientError(RuntimeError):
    """The service answered with an error (problem+json detail in the message) or broke the paging contract."""

    def __init__(self, message: str, status: int | None = None, problem: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.problem = dict(problem or {})


def _clean(params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            if value:
                out[key] = ",".join(value)
        else:
            out[key] = value
    return out


class PoiClient:
    """Client of the poi-service HTTP API at base_url, e.g. PoiClient('http://127.0.0.1:8000')."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0, page_size: int = PAGE_SIZE) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, headers={"Accept": "application/geo+json"}
        )

    def __enter__(self) -> PoiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    def get_json(self, path: str, params: Params | None = None) -> dict[str, Any]:
        """One GET; PoiClientError with the problem+json detail on 4xx/5xx."""
        response = self._http.get(path, params=_clean(params or {}))
        return self._json(response)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            detail = problem.get("detail") if isinstance(problem, dict) else None
            raise PoiClientError(
                f"{response.request.method} {response.request.url} -> {response.status_code}: "
                f"{detail or response.text[:200]}",
                response.status_code,
                problem if isinstance(problem, dict) else None,
            )
        body = response.json()
        if not isinstance(body, dict):
            raise PoiClientError(f"{response.request.url}: expected a JSON object")
        return body

    def features(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every feature of a paged collection, following rel=next links; checks numberMatched at the end."""
        body = self.get_json(path, params)
        matched = body.get("numberMatched")
        seen = 0
        for _ in range(MAX_PAGES):
            feats = body.get("features", [])
            seen += len(feats)
            yield from feats
            nxt = next((link["href"] for link in body.get("links", []) if link.get("rel") == "next"), None)
            if nxt is None:
                break
            if not feats:
                raise PoiClientError(f"{path}: a `next` link after an empty page")
            body = self._json(self._http.get(nxt))
        else:
            raise PoiClientError(f"{path}: more than {MAX_PAGES} pages")
        if isinstance(matched, int) and seen != matched:
            raise PoiClientError(f"{path}: numberMatched is {matched} but {seen} features were returned")

    def members(
        self,
        *,
        alliance: str | None = None,
        state: str | None = None,
        country: str | None = None,
        role: str | None = None,
        joined_after: date | None = None,
        joined_before: date | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        area: str | None = None,
        q: str | None = None,
    ) -> gpd.GeoDataFrame:
        """All memberships matching the filters (GET /alliance/members, every page)."""
        params: Params = {
            "alliance": alliance,
            "state": state,
            "country": country,
            "role": role,
            "joined_after": joined_after.isoformat() if joined_after else None,
            "joined_before": joined_before.isoformat() if joined_before else None,
            "bbox": ",".join(map(str, bbox)) if bbox else None,
            "area": area,
            "q": q,
            "limit": self.page_size,
        }
        return memberships_frame(
            membership_feature_row(f) for f in self.features("/alliance/members", params)
        )

    def members_nearest(
        self, lat: float, lon: float, k: int = 10, *, alliance: str | None = None, role: str | None = None
    ) -> gpd.GeoDataFrame:
        """The k nearest memberships with distance_m (GET /alliance/members/nearest)."""
        params: Params = {"lat": lat, "lon": lon, "k": k, "alliance": alliance, "role": role}
        feats = self.get_json("/alliance/members/nearest", params)["features"]
        return memberships_frame(membership_feature_row(f) for f in feats)

    def places(
        self,
        *,
        bbox: tuple[float, float, float, float] | None = None,
        area: str | None = None,
        category: Sequence[str] | str | None = None,
        q: str | None = None,
    ) -> gpd.GeoDataFrame:
        """All places in a bbox and/or named area (GET /places, every page)."""
        params: Params = {
            "bbox": ",".join(map(str, bbox)) if bbox else None,
            "area": area,
            "category": _categories(category),
            "q": q,
            "limit": self.page_size,
        }
        return places_frame(place_feature_row(f) for f in self.features("/places", params))

    def nearby(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        category: Sequence[str] | str | None = None,
        q: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Every place within radius_m metres, nearest first, with distance_m (GET /places/nearby)."""
        params: Params = {
            "lat": lat,
            "lon": lon,
            "radius_m": radius_m,
            "category": _categories(category),
            "q": q,
            "limit": self.page_size,
        }
        return places_frame(place_feature_row(f) for f in self.features("/places/nearby", params))

    def nearest(
        self,
        lat: float,
        lon: float,
        k: int = 10,
        *,
        category: Sequence[str] | str | None = None,
        q: str | None = None,
    ) -> gpd.GeoDataFrame:
        """The k nearest places with distance_m (GET /places/nearest)."""
        params: Params = {"lat": lat, "lon": lon, "k": k, "category": _categories(category), "q": q}
        return places_frame(
            place_feature_row(f) for f in self.get_json("/places/nearest", params)["features"]
        )


def _categories(category: Sequence[str] | str | None) -> list[str] | None:
    if category is None:
        return None
    return [category] if isinstance(category, str) else list(category)
