"""The address index over HTTP (real uvicorn) and the command line, on the SYNTHETIC German extract."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from geopy.distance import geodesic

from poi_service.api.app import create_app
from poi_service.cli import cli
from poi_service.config import Settings
from poi_service.models import KeyRole
from poi_service.store import Store, open_store
from tests.api.conftest import bearer
from tests.api.test_bad_input import assert_problem
from tests.conftest import DATA_DIR
from tests.osm.synthetic import HARRISLEE, write_extract
from tests.server import serve

DOOR_12 = next(d for d in HARRISLEE if d.number == "12")


def _m(lon: float, lat: float, door: object = DOOR_12) -> float:
    return float(geodesic((lat, lon), (door.lat, door.lon)).meters)  # type: ignore[attr-defined]


def run(*args: str, database: Path) -> Result:
    result = CliRunner().invoke(cli, ["--database", str(database), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@dataclass
class Served:
    client: httpx.Client
    store: Store
    editor: dict[str, str]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with the synthetic extract's addresses, loaded through the CLI."""
    tmp = tmp_path_factory.mktemp("addr")
    extract = tmp / "harrislee_synthetic.osm.pbf"
    write_extract(extract)
    path = tmp / "s.gpkg"
    result = run("osm", "addresses", str(extract), "--json", database=path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["addresses"], report["streets"], report["incomplete_ways"]) == (13, 3, 1)
    return path


@pytest.fixture(scope="module")
def served(db: Path) -> Iterator[Served]:
    settings = Settings(database_url=str(db))
    store = open_store(settings.database_url, DATA_DIR)
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Served(client, store, bearer(key))
    store.close()


def test_geocode_endpoint_answers_the_door(served: Served) -> None:
    r = served.client.get("/geocode", params={"q": "Suederstr. 12, 24955 Harrislee"})
    assert r.status_code == 200, r.text
    best = r.json()["features"][0]
    assert best["properties"]["precision"] == "address" and best["properties"]["confidence"] == 1.0
    assert _m(*best["geometry"]["coordinates"]) < 1.0
    r = served.client.get(
        "/geocode", params={"street": "Süderstraße", "housenumber": "55", "locality": "Harrislee"}
    )
    assert r.json()["features"][0]["properties"]["precision"] == "street"


def test_reverse_endpoint_names_the_door(served: Served) -> None:
    r = served.client.get("/reverse", params={"lat": DOOR_12.lat + 0.00003, "lon": DOOR_12.lon})
    assert r.status_code == 200, r.text
    props = r.json()["properties"]
    assert props["municipality"] == "Harrislee" and props["state"] == "Schleswig-Holstein"
    address = props["address"]
    assert (address["street"], address["housenumber"], address["postcode"]) == ("Süderstraße", "12", "24955")
    expected = geodesic((DOOR_12.lat + 0.00003, DOOR_12.lon), (DOOR_12.lat, DOOR_12.lon)).meters
    assert address["distance_m"] == pytest.approx(expected, abs=0.01)
    far = served.client.get("/reverse", params={"lat": 54.8100, "lon": 9.3860}).json()["properties"]
    assert far["address"] is None and far["municipality"] == "Harrislee"


def test_a_10_kb_address_query_is_a_400(served: Served) -> None:
    for params in ({"q": "Süderstraße 12 " * 700}, {"street": "x" * 10_240, "locality": "Harrislee"}):
        assert_problem(served.client.get("/geocode", params=params), 400, next(iter(params)))
    body = {
        "name": "Test",
        "category": "public_administration",
        "street": "Süderstraße " * 900,
        "locality": "Harrislee",
    }
    r = served.client.post("/places", json=body, headers=served.editor)
    assert_problem(r, 400, "street")


def test_a_write_geocodes_to_the_door(served: Served) -> None:
    body = {
        "name": "Ein Testort",
        "category": "public_administration",
        "street": "Süderstr.",
        "housenumber": "12",
        "postcode": "24955",
        "locality": "Harrislee",
    }
    r = served.client.post("/places", json=body, headers=served.editor)
    assert r.status_code == 201, r.text
    feature = r.json()
    assert feature["properties"]["geocoding"]["precision"] == "address"
    assert _m(*feature["geometry"]["coordinates"]) < 1.0


def test_cli_geocode_reverse_and_refresh(db: Path) -> None:
    result = run("geocode", "Süderstraße 12 A, 24955 Harrislee", "--json", database=db)
    assert result.exit_code == 0, result.output
    best = json.loads(result.stdout)["features"][0]
    door = next(d for d in HARRISLEE if d.number == "12a")
    assert best["properties"]["precision"] == "address" and _m(*best["geometry"]["coordinates"], door) < 1.0
    result = run("reverse", str(DOOR_12.lat), str(DOOR_12.lon), database=db)
    assert result.exit_code == 0 and "Süderstraße 12, 24955 Harrislee (0.0 m)" in result.stdout
    result = run("geocode", "refresh", "--json", database=db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == 0  # everything written since is already at the door
    assert run("geocode", "Harrislee", database=db).exit_code == 0  # the plain lookup still works
    result = run("geocode", "Süderstraße 12 " * 700, database=db)
    assert result.exit_code == 1 and "at most 200 characters" in result.output


def test_cli_rejects_bad_extracts(tmp_path: Path) -> None:
    db = tmp_path / "s.gpkg"
    result = run("osm", "addresses", str(tmp_path / "missing.osm.pbf"), database=db)
    assert result.exit_code == 1 and "no such file" in result.output
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not an extract" * 100)
    result = run("osm", "addresses", str(bad), database=db)
    assert result.exit_code == 1 and "cannot read" in result.output
    truncated = tmp_path / "truncated.osm.pbf"
    truncated.write_bytes(
        (Path(__file__).parent.parent / "data" / "osm" / "helsinki_centre.osm.pbf").read_bytes()[:300_000]
    )
    result = run("osm", "addresses", str(truncated), database=db)
    assert result.exit_code == 1 and "cannot read" in result.output
    result = run("osm", "addresses", str(bad), "--bbox", "1,2,3", database=db)
    assert result.exit_code == 1 and "bbox" in result.output
