"""Opt-in online geocoding through geopy (Nominatim or Photon): rate-limited, retried and cached."""

from __future__ import annotations

import fcntl
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeVar

from geopy.exc import (
    GeocoderRateLimited,
    GeocoderServiceError,
    GeocoderTimedOut,
    GeopyError,
)
from geopy.exc import (
    GeocoderUnavailable as GeopyUnavailable,
)
from geopy.geocoders import Nominatim, Photon

from poi_service.boundaries import Area, Boundaries, Level
from poi_service.config import Settings
from poi_service.errors import GeocoderUnavailable
from poi_service.geocode.base import GeocodeAnswer, GeocodeCache, GeocodeQuery, GeocodeResult, ReverseResult
from poi_service.geocode.normalize import fold, street_key
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.geocode.parse import parse_query
from poi_service.geocode.precision import nominatim_precision, photon_precision
from poi_service.models import Point, Precision

Provider = Literal["nominatim", "photon"]
T = TypeVar("T")
LIMIT = 5
CONF_FIRST = 0.9  # the provider's top answer: plausible, but we cannot check it
CONF_OTHER = 0.5  # its further answers
CONF_MISSING_NUMBER = 0.7  # the answer lacks the house number the query gave
MAX_BACKOFF_S = 60.0


class MemoryCache:
    """A process-local GeocodeCache, used when the store provides none."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def cache_get(self, provider: str, key: str) -> str | None:
        """The cached JSON answer, if any."""
        with self._lock:
            return self._data.get((provider, key))

    def cache_put(self, provider: str, key: str, value: str) -> None:
        """Keeps a JSON answer."""
        with self._lock:
            self._data[(provider, key)] = value


class RateLimiter:
    """Serialises calls and leaves min_delay_s between the end of one call and the start of the next.

    With a lock_file the spacing holds across processes on this host (serve --workers N, a CLI
    import beside the server): the file is flock'ed during the call and holds the last call's end.
    """

    def __init__(self, min_delay_s: float, lock_file: Path | None = None) -> None:
        self.min_delay_s = min_delay_s
        self.lock_file = lock_file
        self._lock = threading.Lock()  # flock is per open file, so threads of one process queue here
        self._last_end = float("-inf")
        if lock_file is not None:
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            lock_file.touch()

    def call(self, fn: Callable[[], T]) -> T:
        """Runs fn once its turn has come."""
        with self._lock:
            if self.lock_file is None:
                return self._spaced(fn, self._last_end, time.monotonic, self._remember)
            with self.lock_file.open("r+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
                # Wall-clock seconds: the only clock every process reads alike.
                last = _read_time(handle.read())
                return self._spaced(fn, last, time.time, lambda end: _write_time(handle, end))

    def _spaced(
        self, fn: Callable[[], T], last_end: float, clock: Callable[[], float], done: Callable[[float], None]
    ) -> T:
        wait = last_end + self.min_delay_s - clock()
        if wait > 0:
            time.sleep(min(wait, self.min_delay_s))  # a clock set back must not stall us for longer
        try:
            return fn()
        finally:
            done(clock())

    def _remember(self, end: float) -> None:
        self._last_end = end


def _read_time(data: bytes) -> float:
    try:
        return float(data.decode("ascii"))
    except ValueError:
        return float("-inf")  # empty (new) or damaged file: no call to wait for


def _write_time(handle: BinaryIO, end: float) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(repr(end).encode("ascii"))
    handle.flush()


def lock_file(state_dir: Path, provider: str, domain: str) -> Path:
    """The per-host rate-limit file of one provider server."""
    return state_dir / f"geocoder-{provider}-{re.sub(r'[^A-Za-z0-9.-]', '_', domain)}.lock"


def cache_key(query: GeocodeQuery) -> str:
    """Provider-independent key: each field folded, so case, ß/ss and punctuation do not split the cache."""
    fields = asdict(query)
    normal = {k: (street_key(v) if k == "street" else fold(v)) for k, v in fields.items() if v}
    return json.dumps(normal, sort_keys=True, ensure_ascii=False)


class OnlineGeocoder:
    """Nominatim or Photon via geopy; reverse geocoding and AGS come from the offline boundaries."""

    def __init__(
        self,
        provider: Provider,
        *,
        domain: str,
        scheme: str = "https",
        user_agent: str,
        timeout_s: float = 5.0,
        min_delay_s: float = 1.0,
        retries: int = 2,
        cache: GeocodeCache | None = None,
        data_dir: Path,
        state_dir: Path | None = None,
    ) -> None:
        if not domain:
            raise ValueError("an online geocoder needs a domain (POI_GEOCODER_DOMAIN)")
        self.name: str = provider
        self.domain = domain
        self.retries = retries
        self._cache: GeocodeCache = cache if cache is not None else MemoryCache()
        # Without a state_dir the limit holds per process only.
        lock = lock_file(state_dir, provider, domain) if state_dir is not None else None
        self._limiter = RateLimiter(min_delay_s, lock)
        # One lookup of a key at a time, so a key is never fetched twice by this process.
        self._lock = threading.Lock()
        # Reverse geocoding stays offline: the shipped boundaries give the AGS no provider returns, and it
        # saves rate-limited requests to a third party.
        self.offline = OfflineGeocoder(data_dir)
        factory = Nominatim if provider == "nominatim" else Photon
        self._geopy = factory(domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout_s)

    @classmethod
    def from_settings(cls, settings: Settings, cache: GeocodeCache | None) -> OnlineGeocoder:
        """The adapter configured by POI_GEOCODER_* settings."""
        if settings.geocoder == "offline":
            raise ValueError("settings select the offline geocoder")
        return cls(
            settings.geocoder,
            domain=settings.geocoder_domain,
            scheme=settings.geocoder_scheme,
            user_agent=settings.geocoder_user_agent,
            timeout_s=settings.geocoder_timeout_s,
            min_delay_s=settings.geocoder_min_delay_s,
            retries=settings.geocoder_retries,
            cache=cache,
            data_dir=settings.data_dir,
            state_dir=settings.state_dir,
        )

    def geocode(self, query: GeocodeQuery) -> GeocodeAnswer:
        """The provider's answer, from the cache when this query was asked before."""
        if query.is_empty():
            return GeocodeAnswer(None, [])
        key = cache_key(query)
        cached = self._cache.cache_get(self.name, key)
        if cached is None:
            with self._lock:
                cached = self._cache.cache_get(self.name, key)
                if cached is None:
                    cached = _dump(self._fetch(query))
                    self._cache.cache_put(self.name, key, cached)
        return _load(cached)

    def reverse(self, point: Point) -> ReverseResult | None:
        """Delegated to the offline geocoder (see __init__)."""
        return self.offline.reverse(point)

    def _fetch(self, query: GeocodeQuery) -> GeocodeAnswer:
        parsed = parse_query(query, self.offline.gazetteer)
        has_number = bool(parsed.housenumber)
        if self.name == "nominatim":
            params: dict[str, Any] = {"exactly_one": False, "limit": LIMIT, "addressdetails": True}
            if parsed.country:
                params["country_codes"] = parsed.country.lower()
            locations = self._request(lambda: self._geopy.geocode(self._nominatim_query(query), **params))
        else:
            locations = self._request(
                lambda: self._geopy.geocode(self._text(query), exactly_one=False, limit=LIMIT)
            )
        results = [self._result(loc.raw, i, has_number) for i, loc in enumerate(locations or [])]
        return GeocodeAnswer(results[0] if results else None, results)

    def _request(self, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return self._limiter.call(fn)
            except (GeocoderTimedOut, GeopyUnavailable, GeocoderRateLimited) as exc:
                error: GeopyError = exc
            except GeocoderServiceError as exc:
                if type(exc) is not GeocoderServiceError:  # query, auth or quota errors: retrying cannot help
                    raise GeocoderUnavailable(
                        f"{self.name} at {self.domain} refused the request: {exc}"
                    ) from exc
                error = exc
            except GeopyError as exc:
                raise GeocoderUnavailable(f"{self.name} at {self.domain} failed: {exc}") from exc
            if attempt >= self.retries:
                raise GeocoderUnavailable(
                    f"{self.name} at {self.domain} is unavailable after {attempt + 1} attempts: {error}"
                ) from error
            # Exponential backoff on top of the limiter's pause: 1x, 2x, 4x the minimum delay in all.
            extra = self._limiter.min_delay_s * (2**attempt - 1)
            retry_after = getattr(error, "retry_after", None)
            if retry_after:
                extra = max(extra, float(retry_after) - self._limiter.min_delay_s)
            time.sleep(min(extra, MAX_BACKOFF_S))
            attempt += 1

    def _nominatim_query(self, query: GeocodeQuery) -> str | dict[str, str]:
        if query.text:
            return self._text(query)
        street = " ".join(p for p in (query.housenumber, query.street) if p)
        parts = {
            "street": street,
            "city": query.locality,
            "postalcode": query.postcode,
            "state": self._state_name(query.state),
            "country": query.country,
        }
        return {k: v for k, v in parts.items() if v}

    def _text(self, query: GeocodeQuery) -> str:
        street = " ".join(p for p in (query.street, query.housenumber) if p)
        town = " ".join(p for p in (query.postcode, query.locality) if p)
        parts = [query.text, street, town, self._state_name(query.state), query.country]
        return ", ".join(p for p in parts if p)

    def _state_name(self, state: str | None) -> str | None:
        # Providers know 'Niedersachsen', not our codes ('NI', 'DE-NI').
        gaz = self.offline.gazetteer
        code = gaz.state_code(state)
        return gaz.states.get(code, state) if code else state

    def _result(self, raw: Mapping[str, Any], index: int, has_number: bool) -> GeocodeResult:
        try:
            if self.name == "nominatim":
                lon, lat = float(raw["lon"]), float(raw["lat"])
                precision = nominatim_precision(raw, has_number)
                address = raw.get("address") or {}
                answered_number = bool(address.get("house_number"))
                label, country = str(raw.get("display_name") or ""), str(address.get("country_code") or "")
                postcode = address.get("postcode")
            else:
                lon, lat = (float(c) for c in raw["geometry"]["coordinates"][:2])
                precision = photon_precision(raw, has_number)
                props = raw.get("properties") or {}
                answered_number = bool(props.get("housenumber"))
                label = ", ".join(
                    str(props[k])
                    for k in ("name", "street", "housenumber", "postcode", "city")
                    if props.get(k)
                )
                country, postcode = str(props.get("countrycode") or ""), props.get("postcode")
        except (KeyError, TypeError, ValueError) as exc:
            raise GeocoderUnavailable(
                f"{self.name} at {self.domain} sent an unexpected answer: {exc}"
            ) from exc
        conf = CONF_FIRST if index == 0 else CONF_OTHER
        if has_number and not answered_number:
            conf = min(conf, CONF_MISSING_NUMBER)
        point = Point(lon, lat)
        # Our boundaries add the AGS and names; an answer without a country code is placed by them too.
        areas = {} if country.upper() not in ("", "DE") else self._areas(point)
        level = {Precision.DISTRICT: Level.DISTRICT, Precision.STATE: None, Precision.COUNTRY: None}.get(
            precision, Level.MUNICIPALITY
        )
        keyed = areas.get(level) if level else None
        district, state = areas.get(Level.DISTRICT), areas.get(Level.STATE)
        return GeocodeResult(
            point,
            precision,
            conf,
            self.name,
            label,
            country.upper() or ("DE" if areas else ""),
            keyed.ags if keyed else None,
            state.name if state else None,
            district.name if district else None,
            str(postcode) if postcode else None,
        )

    def _areas(self, point: Point) -> dict[Level, Area]:
        return {a.level: a for a in Boundaries.load(self.offline.data_dir).containing(point.lon, point.lat)}


def _dump(answer: GeocodeAnswer) -> str:
    results = answer.candidates or ([answer.best] if answer.best else [])
    best = results.index(answer.best) if answer.best in results else None
    rows = [{**asdict(r), "point": [r.point.lon, r.point.lat]} for r in results]
    return json.dumps({"best": best, "results": rows}, ensure_ascii=False)


def _load(text: str) -> GeocodeAnswer:
    data = json.loads(text)
    results = []
    for row in data["results"]:
        lon, lat = row.pop("point")
        row["precision"] = Precision(row["precision"])
        results.append(GeocodeResult(point=Point(lon, lat), **row))
    best = results[data["best"]] if data["best"] is not None else None
    return GeocodeAnswer(best, results)
