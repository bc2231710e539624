"""The geopy adapters against a real local HTTP server that answers in Nominatim's and Photon's formats."""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from poi_service.boundaries import Boundaries
from poi_service.config import Settings
from poi_service.errors import GeocoderUnavailable
from poi_service.geocode import OfflineGeocoder, OnlineGeocoder, make_geocoder
from poi_service.geocode.base import GeocodeQuery
from poi_service.geocode.online import Provider
from poi_service.models import Point, Precision

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
USER_AGENT = "poi-service-tests/1.0 (+https://example.invalid/tests)"
LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
HARRISLEE_ADDRESS = {
    "road": "Süderstraße",
    "village": "Harrislee",
    "county": "Kreis Schleswig-Flensburg",
    "state": "Schleswig-Holstein",
    "ISO3166-2-lvl4": "DE-SH",
    "postcode": "24955",
    "country": "Deutschland",
    "country_code": "de",
}


def nominatim_place(
    osm_id: int, lat: float, lon: float, cls: str, typ: str, addresstype: str, name: str, **address: str
) -> dict[str, Any]:
    """One object of Nominatim's format=json answer (values as Nominatim sends them: coordinates as strings)."""
    return {
        "place_id": 100000 + osm_id,
        "licence": LICENCE,
        "osm_type": "way",
        "osm_id": osm_id,
        "lat": f"{lat:.7f}",
        "lon": f"{lon:.7f}",
        "class": cls,
        "type": typ,
        "place_rank": 30,
        "importance": 0.2,
        "addresstype": addresstype,
        "name": name,
        "display_name": ", ".join([name, *address.values()]),
        "address": address,
        "boundingbox": [
            f"{lat - 0.001:.7f}",
            f"{lat + 0.001:.7f}",
            f"{lon - 0.001:.7f}",
            f"{lon + 0.001:.7f}",
        ],
    }


HOUSE = nominatim_place(
    1, 54.7981, 9.3879, "building", "yes", "building", "101", house_number="101", **HARRISLEE_ADDRESS
)
ROAD = nominatim_place(
    2, 54.7990, 9.3900, "highway", "residential", "road", "Süderstraße", **HARRISLEE_ADDRESS
)
VILLAGE = nominatim_place(
    3,
    54.8004,
    9.3834,
    "boundary",
    "administrative",
    "village",
    "Harrislee",
    **{k: v for k, v in HARRISLEE_ADDRESS.items() if k not in ("road", "village")},
)
POSTCODE = nominatim_place(4, 54.8, 9.38, "place", "postcode", "postcode", "24955", postcode="24955")
COUNTY = nominatim_place(
    5,
    54.62,
    9.55,
    "boundary",
    "administrative",
    "county",
    "Kreis Schleswig-Flensburg",
    state="Schleswig-Holstein",
    country="Deutschland",
    country_code="de",
)
STATE = nominatim_place(
    6, 54.18, 9.82, "boundary", "administrative", "state", "Schleswig-Holstein", country_code="de"
)
NOMINATIM_ANSWERS: dict[str, list[dict[str, Any]]] = {
    "Süderstraße 101, 24955 Harrislee": [HOUSE],
    "Süderstraße 999, Harrislee": [ROAD],
    "Harrislee": [VILLAGE],
    "24955": [POSTCODE],
    "Kreis Schleswig-Flensburg": [COUNTY],
    "Schleswig-Holstein": [STATE],
    "Nowhere At All": [],
    "999 Süderstraße, Harrislee": [ROAD],
}
PHOTON_ANSWERS: dict[str, list[dict[str, Any]]] = {
    "Süderstraße 101, 24955 Harrislee": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [9.3879, 54.7981]},
            "properties": {
                "osm_type": "W",
                "osm_id": 1,
                "osm_key": "building",
                "osm_value": "yes",
                "type": "house",
                "housenumber": "101",
                "street": "Süderstraße",
                "postcode": "24955",
                "city": "Harrislee",
                "county": "Kreis Schleswig-Flensburg",
                "state": "Schleswig-Holstein",
                "country": "Deutschland",
                "countrycode": "DE",
            },
        }
    ],
    "Harrislee": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [9.3834, 54.8004]},
            "properties": {
                "osm_type": "R",
                "osm_id": 3,
                "osm_key": "place",
                "osm_value": "village",
                "type": "city",
                "name": "Harrislee",
                "postcode": "24955",
                "state": "Schleswig-Holstein",
                "country": "Deutschland",
                "countrycode": "DE",
                "extent": [9.33, 54.83, 9.42, 54.77],
            },
        }
    ],
}


@dataclass
class Hit:
    """One request the fake server received."""

    at: float  # time.monotonic() on arrival
    path: str
    params: dict[str, list[str]]
    user_agent: str


@dataclass
class FakeServer:
    """A Nominatim/Photon look-alike on 127.0.0.1; fail_with holds statuses to send before answering."""

    host: str = ""
    hits: list[Hit] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    fake: FakeServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        self.fake.hits.append(Hit(time.monotonic(), url.path, params, self.headers.get("User-Agent", "")))
        if self.fake.fail_with:
            self._send(self.fake.fail_with.pop(0), {"error": "Service temporarily unavailable"})
            return
        # A structured Nominatim query (street=..., city=...) is looked up as 'street, city'.
        structured = ", ".join(params[k][0] for k in ("street", "city") if k in params)
        query = params.get("q", [structured])[0]
        if url.path == "/search" and params.get("format", [""])[0] in ("json", "jsonv2"):
            self._send(200, NOMINATIM_ANSWERS.get(query, []))
        elif url.path == "/reverse":
            self._send(200, {**VILLAGE, "licence": LICENCE})
        elif url.path == "/api":
            self._send(200, {"type": "FeatureCollection", "features": PHOTON_ANSWERS.get(query, [])})
        else:
            self._send(404, {"error": "unknown endpoint"})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def fake() -> Iterator[FakeServer]:
    state = FakeServer()
    handler = type("BoundHandler", (Handler,), {"fake": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private POI_STATE_DIR per test, so rate-limit files of parallel tests never meet."""
    monkeypatch.setenv("POI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


class DictCache:
    """The simplest GeocodeCache: a dict."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    def cache_get(self, provider: str, key: str) -> str | None:
        return self.data.get((provider, key))

    def cache_put(self, provider: str, key: str, value: str) -> None:
        self.data[(provider, key)] = value


def settings(host: str, provider: Provider = "nominatim", retries: int = 1) -> Settings:
    return Settings(
        geocoder=provider,
        geocoder_domain=host,
        geocoder_scheme="http",
        geocoder_user_agent=USER_AGENT,
        geocoder_timeout_s=3.0,
        geocoder_min_delay_s=1.0,
        geocoder_retries=retries,
        data_dir=DATA_DIR,
    )


def online(host: str, cache: DictCache, provider: Provider = "nominatim", retries: int = 1) -> OnlineGeocoder:
    geocoder = make_geocoder(settings(host, provider, retries), cache)
    assert isinstance(geocoder, OnlineGeocoder) and geocoder.name == provider
    return geocoder


def test_sends_user_agent_and_caches(fake: FakeServer) -> None:
    cache = DictCache()
    geocoder = online(fake.host, cache)
    first = geocoder.geocode(GeocodeQuery(text="Harrislee"))
    assert len(fake.hits) == 1 and fake.hits[0].path == "/search"
    assert fake.hits[0].user_agent == USER_AGENT
    assert fake.hits[0].params["q"] == ["Harrislee"] and fake.hits[0].params["addressdetails"] == ["1"]
    again = geocoder.geocode(GeocodeQuery(text="Harrislee"))
    assert len(fake.hits) == 1, "the second identical query must come from the cache"
    assert again == first and len(cache.data) == 1
    # The cache survives the adapter: a new one with the same store asks nothing either.
    assert online(fake.host, cache).geocode(GeocodeQuery(text=" harrislee ")) == first
    assert len(fake.hits) == 1
    empty = geocoder.geocode(GeocodeQuery(text="Nowhere At All"))
    assert empty.best is None and not empty.candidates
    geocoder.geocode(GeocodeQuery(text="Nowhere At All"))
    assert len(fake.hits) == 2, "a 'no result' answer is cached too"


def test_two_uncached_requests_keep_the_minimum_delay(fake: FakeServer) -> None:
    geocoder = online(fake.host, DictCache())
    geocoder.geocode(GeocodeQuery(text="Harrislee"))
    geocoder.geocode(GeocodeQuery(text="24955"))
    assert len(fake.hits) == 2
    assert fake.hits[1].at - fake.hits[0].at >= 1.0


def test_rate_limit_holds_across_threads(fake: FakeServer) -> None:
    geocoder = online(fake.host, DictCache())
    texts = ["Harrislee", "24955", "Schleswig-Holstein"]
    threads = [threading.Thread(target=geocoder.geocode, args=(GeocodeQuery(text=t),)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    arrivals = sorted(h.at for h in fake.hits)
    assert len(arrivals) == 3
    assert min(np.diff(arrivals)) >= 1.0


def geocode_in_child(host: str, state_dir: str, texts: list[str], ready: Any) -> None:
    """Child-process body: warm up, wait for the sibling, then geocode (uncached) texts."""
    geocoder = make_geocoder(settings(host).model_copy(update={"state_dir": Path(state_dir)}), None)
    assert isinstance(geocoder, OnlineGeocoder)
    _ = geocoder.offline.gazetteer  # loaded before the race starts, so both ask at once
    ready.wait(timeout=60)
    for text in texts:
        geocoder.geocode(GeocodeQuery(text=text))


def test_rate_limit_holds_across_processes(fake: FakeServer, state_dir: Path) -> None:
    # Two worker processes of one host (serve --workers 2) share POI_STATE_DIR, not memory.
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(2)
    work = [["Harrislee", "24955"], ["Schleswig-Holstein", "Kreis Schleswig-Flensburg"]]
    procs = [
        ctx.Process(target=geocode_in_child, args=(fake.host, str(state_dir), texts, ready)) for texts in work
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    arrivals = sorted(h.at for h in fake.hits)
    assert len(arrivals) == 4
    assert min(np.diff(arrivals)) >= 0.99  # the file holds wall-clock time; allow for clock rounding


@pytest.mark.parametrize(
    ("text", "precision", "confidence"),
    [
        ("Süderstraße 101, 24955 Harrislee", Precision.ADDRESS, 0.9),
        ("Süderstraße 999, Harrislee", Precision.STREET, 0.7),  # no house number in the answer
        ("Harrislee", Precision.MUNICIPALITY, 0.9),
        ("24955", Precision.POSTCODE, 0.9),
        ("Kreis Schleswig-Flensburg", Precision.DISTRICT, 0.9),
        ("Schleswig-Holstein", Precision.STATE, 0.9),
    ],
)
def test_nominatim_precision_is_honest(
    fake: FakeServer, text: str, precision: Precision, confidence: float
) -> None:
    found = online(fake.host, DictCache()).geocode(GeocodeQuery(text=text)).best
    assert found is not None and found.precision == precision and found.confidence == confidence
    assert found.source == "nominatim" and found.country == "DE"
    raw = next(iter(NOMINATIM_ANSWERS[text]))
    assert (found.point.lon, found.point.lat) == (float(raw["lon"]), float(raw["lat"]))
    # The AGS is ours, from the shipped boundaries, at the level the answer claims.
    ags = Boundaries.load(DATA_DIR).municipality_ags(
        np.array([found.point.lon]), np.array([found.point.lat])
    )[0]
    assert ags is not None
    expected = {Precision.DISTRICT: ags[:5], Precision.STATE: None}.get(precision, ags)
    assert found.ags == expected and found.state == "Schleswig-Holstein"


def test_structured_query_without_its_house_number_in_the_answer_is_street(fake: FakeServer) -> None:
    geocoder = online(fake.host, DictCache())
    query = GeocodeQuery(street="Süderstraße", housenumber="999", locality="Harrislee", state="SH")
    found = geocoder.geocode(query).best
    params = fake.hits[0].params
    assert params["street"] == ["999 Süderstraße"] and params["city"] == ["Harrislee"] and "q" not in params
    assert params["state"] == ["Schleswig-Holstein"]
    assert found is not None and found.precision == Precision.STREET and found.confidence == 0.7


def test_retries_once_after_503_then_succeeds(fake: FakeServer) -> None:
    fake.fail_with = [503]
    found = online(fake.host, DictCache(), retries=1).geocode(GeocodeQuery(text="Harrislee")).best
    assert found is not None and found.precision == Precision.MUNICIPALITY
    assert len(fake.hits) == 2 and fake.hits[1].at - fake.hits[0].at >= 1.0


def test_gives_up_after_the_configured_retries(fake: FakeServer) -> None:
    fake.fail_with = [503, 503, 503]
    cache = DictCache()
    with pytest.raises(GeocoderUnavailable):
        online(fake.host, cache, retries=1).geocode(GeocodeQuery(text="Harrislee"))
    assert len(fake.hits) == 2 and not cache.data, "errors are not cached"


def test_unreachable_server_raises_geocoder_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on once this socket is closed
        sock.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{sock.getsockname()[1]}"
    geocoder = online(host, DictCache(), retries=0)
    with pytest.raises(GeocoderUnavailable) as err:
        geocoder.geocode(GeocodeQuery(text="Harrislee"))
    assert err.value.status == 503 and err.value.code == "geocoder-unavailable"


def test_reverse_stays_offline(fake: FakeServer) -> None:
    geocoder = online(fake.host, DictCache())
    flensburg = Point(9.43751, 54.78252)
    found = geocoder.reverse(flensburg)
    assert found is not None and found.municipality == "Flensburg" and found.state == "Schleswig-Holstein"
    assert found == OfflineGeocoder(DATA_DIR).reverse(flensburg)
    assert not fake.hits


def test_photon_forward(fake: FakeServer) -> None:
    geocoder = online(fake.host, DictCache(), provider="photon")
    house = geocoder.geocode(GeocodeQuery(text="Süderstraße 101, 24955 Harrislee")).best
    assert fake.hits[0].path == "/api" and fake.hits[0].user_agent == USER_AGENT
    assert house is not None and house.precision == Precision.ADDRESS and house.source == "photon"
    assert (house.point.lon, house.point.lat) == (9.3879, 54.7981)
    assert house.postcode == "24955" and house.country == "DE" and house.ags == "01059120"
    village = geocoder.geocode(GeocodeQuery(text="Harrislee")).best
    assert village is not None and village.precision == Precision.MUNICIPALITY
    assert fake.hits[1].at - fake.hits[0].at >= 1.0


def test_make_geocoder_never_calls_a_third_party_unasked() -> None:
    assert isinstance(make_geocoder(Settings(data_dir=DATA_DIR), None), OfflineGeocoder)
    providers: tuple[Provider, ...] = ("nominatim", "photon")
    for provider in providers:
        with pytest.raises(ValueError, match="POI_GEOCODER_DOMAIN"):
            make_geocoder(Settings(geocoder=provider, geocoder_domain="", data_dir=DATA_DIR), None)
