"""The poi-service command line through click's CliRunner, over real GeoPackage store files."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from click.testing import CliRunner, Result
from geopy.distance import geodesic

from poi_service.cli import cli
from poi_service.models import Precision
from poi_service.store import open_store
from tests.conftest import DATA_DIR, ROOT

# rows of the shipped membership file (counted, so that sourced additions need no test edits)
SHIPPED_MEMBERS = sum(1 for _ in (DATA_DIR / "alliance" / "members_sourced.csv").open(encoding="utf-8")) - 1

HARRISLEE = (54.8, 9.39)


def run(*args: str, database: Path | None = None) -> Result:
    """Invokes the CLI (with --database when given); never lets exceptions escape silently."""
    prefix = ["--database", str(database)] if database else []
    result = CliRunner().invoke(cli, [*prefix, *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store loaded once with `init`; tests that write use a copy."""
    path = tmp_path_factory.mktemp("cli") / "seeded.gpkg"
    result = run("init", database=path)
    assert result.exit_code == 0, result.output
    assert f"Loaded 22 places and {SHIPPED_MEMBERS} memberships" in result.stdout
    assert "exact 3, postcode 14, municipality 5" in result.stdout
    return path


@pytest.fixture()
def copy(seeded: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.gpkg"
    shutil.copy(seeded, target)
    return target


def counts(path: Path) -> tuple[int, int, list[str]]:
    store = open_store(str(path), DATA_DIR)
    try:
        return store.places.count(), store.memberships.count(), sorted(p.id for p in store.places.iter_all())
    finally:
        store.close()


def test_init_loads_everything_honestly(seeded: Path) -> None:
    store = open_store(str(seeded), DATA_DIR)
    try:
        assert (store.places.count(), store.memberships.count()) == (22, SHIPPED_MEMBERS)
        for place in store.places.iter_all():
            if place.geocoding.source.startswith("input"):
                assert place.geocoding.precision == Precision.EXACT
            else:
                assert place.geocoding.precision in (Precision.POSTCODE, Precision.MUNICIPALITY)
        precisions = {m.geocoding.precision for m in store.memberships.iter_all()}
        assert precisions == {Precision.MUNICIPALITY, Precision.DISTRICT}
    finally:
        store.close()


def test_init_refuses_a_loaded_store_without_force(copy: Path) -> None:
    before = counts(copy)
    result = run("init", database=copy)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "--force" in result.stderr
    result = run("init", "--force", database=copy)
    assert result.exit_code == 0, result.output
    assert f"replacing {22 + SHIPPED_MEMBERS} records" in result.stdout
    assert counts(copy) == before


def test_import_failure_is_line_numbered_and_writes_nothing(copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,category,postcode,locality\nA,Kirche,24955,Harrislee\nB,Schule,24955,Harrislee\n"
        "C,Fahrschule,2495,Harrislee\n",
        encoding="utf-8",
    )
    before = counts(copy)
    result = run("import", str(path), database=copy)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "line 4: postcode: must be exactly 5 digits" in result.stderr
    assert result.stderr.startswith("error: import of bad.csv: 1 of 3 rows refused")
    assert counts(copy) == before


def test_import_dry_run_and_json(copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("name,category,postcode,locality\nNeu,Kirche,24955,Harrislee\n", encoding="utf-8")
    before = counts(copy)
    result = run("import", str(path), "--dry-run", "--json", database=copy)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["new"], report["written"], report["dry_run"]) == (1, 0, True)
    assert report["precision"] == {"postcode": 1}
    assert counts(copy) == before
    result = run("import", str(path), database=copy)
    assert "1 rows, 1 new, 0 updated, 0 unchanged; 1 written" in result.stdout
    result = run("import", str(path), database=copy)
    assert "1 rows, 0 new, 0 updated, 1 unchanged; 0 written" in result.stdout
    assert counts(copy)[0] == before[0] + 1


def test_import_memberships_kind(copy: Path, tmp_path: Path) -> None:
    shipped = DATA_DIR / "alliance" / "members_sourced.csv"
    result = run("import", str(shipped), "--kind", "memberships", "--json", database=copy)
    report = json.loads(result.stdout)
    assert (report["updated"], report["unchanged"], report["written"]) == (0, SHIPPED_MEMBERS, 0)
    assert counts(copy)[1] == SHIPPED_MEMBERS


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_export_formats(seeded: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"places.{fmt}"
    result = run("export", "--kind", "places", "--format", fmt, "-o", str(out), database=seeded)
    assert result.exit_code == 0 and "Wrote 22 places" in result.stdout
    if fmt == "geojson":
        assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 22
    elif fmt == "csv":
        assert out.read_text(encoding="utf-8").count("\n") == 23
    else:
        frame = gpd.read_file(out, layer="places")
        assert len(frame) == 22 and frame.crs.to_epsg() == 4326
    result = run("export", "--kind", "memberships", "-o", str(tmp_path / "m.geojson"), database=seeded)
    assert f"Wrote {SHIPPED_MEMBERS} memberships" in result.stdout
    assert run("export", "-o", str(tmp_path / "x.txt"), database=seeded).exit_code == 1


def test_geocode(seeded: Path) -> None:
    result = run("geocode", "Harrislee", "--postcode", "24955", database=seeded)
    assert result.exit_code == 0
    assert "postcode" in result.stdout and "01059120" in result.stdout
    result = run("geocode", "Rottenburg am Neckar", "--json", database=seeded)
    body = json.loads(result.stdout)
    props = body["features"][0]["properties"]
    assert (props["ags"], props["precision"], body["ambiguous"]) == ("08416036", "municipality", False)
    result = run("geocode", "Buchholz", database=seeded)
    assert result.stdout.startswith("ambiguous:")
    result = run("geocode", "Xyzzyhausen", database=seeded)
    assert result.exit_code == 1 and result.stderr == "error: no place matches 'Xyzzyhausen'\n"


def test_reverse(seeded: Path) -> None:
    result = run("reverse", *map(str, HARRISLEE), database=seeded)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:3] == [
        "Harrislee (municipality, AGS 01059120)",
        "Schleswig-Flensburg (district, AGS 01059)",
        "Schleswig-Holstein (state, AGS 01)",
    ]
    props = json.loads(run("reverse", "54.8", "9.39", "--json", database=seeded).stdout)["properties"]
    assert (props["municipality_ags"], props["postcode"]) == ("01059120", "24955")
    south = run("reverse", "-33.92", "18.42", "--json", database=seeded)  # negative numbers need no '--'
    assert json.loads(south.stdout)["properties"]["country"] == "ZA"
    assert run("reverse", "91", "9", database=seeded).exit_code == 2


def test_nearby_distances_are_geodesic(seeded: Path) -> None:
    lat, lon = HARRISLEE
    result = run(
        "nearby", str(lat), str(lon), "--radius-m", "3000", "--limit", "50", "--json", database=seeded
    )
    body = json.loads(result.stdout)
    assert body["numberMatched"] == len(body["features"]) > 10
    distances = []
    for feature in body["features"]:
        flon, flat = feature["geometry"]["coordinates"]
        expected = geodesic((lat, lon), (flat, flon)).meters
        assert feature["properties"]["distance_m"] == pytest.approx(expected, abs=0.01)
        assert expected <= 3000
        distances.append(feature["properties"]["distance_m"])
    assert distances == sorted(distances)
    text = run("nearby", str(lat), str(lon), "--radius-m", "3000", "--limit", "3", database=seeded).stdout
    lines = text.splitlines()
    assert lines[-1] == f"3 of {len(distances)} places within 3000 m of {lat}, {lon}"
    shown = [float(re.match(r"\s*([\d.]+) m", line)[1]) for line in lines[:3]]  # type: ignore[index]
    assert shown == pytest.approx(distances[:3], abs=0.06)


def test_nearby_category_filter(seeded: Path) -> None:
    args = ("nearby", "54.79", "9.43", "--radius-m", "10000", "--json")
    body = json.loads(run(*args, "--category", "Stolperstein / Gedenkort", database=seeded).stdout)
    assert body["numberMatched"] == 10  # every shipped Stolperstein row, Harrislee's one included
    assert {f["properties"]["category"] for f in body["features"]} == {"stolperstein"}
    result = run(*args, "--category", "Raumstation", database=seeded)
    assert result.exit_code == 1 and "unknown category 'Raumstation'" in result.stderr


def test_settings_are_read_per_command(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POI_MAX_PAGE_SIZE", "0")  # invalid; importing the CLI must not care
    result = run("reverse", "54.8", "9.39", database=seeded)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: configuration: POI_MAX_PAGE_SIZE")
    monkeypatch.delenv("POI_MAX_PAGE_SIZE")
    monkeypatch.setenv("POI_DATABASE_URL", str(seeded))
    assert "Harrislee" in run("nearby", "54.8", "9.39", "--radius-m", "500").stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_loads_a_fresh_store_first(tmp_path: Path) -> None:
    database, port = tmp_path / "fresh" / "poi.gpkg", _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POI_DATABASE_URL": str(database)}
    command = [sys.executable, "-m", "poi_service.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert body is not None, proc.stdout.read() if proc.poll() is not None and proc.stdout else "timeout"
        assert (body["store"]["places"], body["store"]["memberships"]) == (22, SHIPPED_MEMBERS)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
