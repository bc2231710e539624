"""POST /imports: the CLI importer over HTTP for CSV, GeoJSON and GeoPackage uploads."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
from shapely.geometry import Point as ShapelyPoint

from tests.api.conftest import EditApi
from tests.api.test_bad_input import assert_problem

HEADER = "name,category,street,housenumber,postcode,locality,lat,lon,external_key\n"
ROWS = (
    "Kirche am Hang,Kirche,,,24955,Harrislee,,,office:1\n"
    "Schule am Wald,Schule,,,,,54.79,9.42,office:2\n"
    "Bücherei,Bibliothek,Holm,1,24937,Flensburg,,,office:3\n"
)


def upload(api: EditApi, name: str, content: bytes, **params: str) -> dict[str, object]:
    r = api.client.post("/imports", params=params, files={"file": (name, content)}, headers=api.editor)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def versions(api: EditApi) -> dict[str | None, tuple[str, int]]:
    return {p.external_key: (p.id, p.version) for p in api.store.places.iter_all()}


def test_csv_dry_run_import_and_idempotent_reupload(edit_api: EditApi) -> None:
    csv = (HEADER + ROWS).encode()
    before = versions(edit_api)
    report = upload(edit_api, "office.csv", csv, dry_run="true")
    assert (report["rows"], report["new"], report["written"], report["dry_run"]) == (3, 3, 0, True)
    assert report["precision"] == {"exact": 1, "postcode": 2}
    assert versions(edit_api) == before
    report = upload(edit_api, "office.csv", csv)
    assert (report["new"], report["written"]) == (3, 3)
    after = versions(edit_api)
    assert len(after) == len(before) + 3 and {after[f"office:{i}"][1] for i in (1, 2, 3)} == {1}
    report = upload(edit_api, "office.csv", csv)
    assert (report["new"], report["updated"], report["unchanged"], report["written"]) == (0, 0, 3, 0)
    assert versions(edit_api) == after  # same ids, same versions: a re-upload changes nothing
    record_id = after["office:1"][0]
    changes = edit_api.client.get(f"/places/{record_id}/history", headers=edit_api.editor).json()["changes"]
    assert [(c["action"], c["actor"]) for c in changes] == [("import", edit_api.editor_id)]
    changed = upload(edit_api, "office.csv", csv.replace(b"Kirche am Hang", b"Kirche am Berg"))
    assert (changed["updated"], changed["unchanged"], changed["written"]) == (1, 2, 1)
    assert versions(edit_api)["office:1"][1] == 2 and versions(edit_api)["office:2"][1] == 1


def test_bad_rows_are_named_by_line_and_nothing_is_written(edit_api: EditApi) -> None:
    text = (
        HEADER
        + ROWS.replace("office:", "bad:")
        + "Kaputt,Kirche,,,2495,Harrislee,,,bad:4\nOhne Ort,Kirche,,,,,,,bad:5\n"
    )
    before = versions(edit_api)
    r = edit_api.client.post("/imports", files={"file": ("bad.csv", text.encode())}, headers=edit_api.editor)
    problem = assert_problem(r, 422, None)
    assert [p["name"] for p in problem["invalid_params"]] == ["line 5: postcode", "line 6: lat"]
    assert "2 of 5 rows refused" in problem["detail"]
    assert versions(edit_api) == before


def test_geojson_and_geopackage_uploads(edit_api: EditApi, tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [9.40 + i / 1000, 54.80]},
            "properties": {"name": f"GeoJSON {i}", "category": "artwork", "external_key": f"gj:{i}"},
        }
        for i in range(3)
    ]
    doc = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert upload(edit_api, "art.geojson", doc)["new"] == 3
    frame = gpd.GeoDataFrame(
        {"name": ["GPKG 1", "GPKG 2"], "category": ["church", "school"], "external_key": ["gp:1", "gp:2"]},
        geometry=[ShapelyPoint(9.41, 54.79), ShapelyPoint(9.42, 54.79)],
        crs=4326,
    )
    path = tmp_path / "layer.gpkg"
    frame.to_file(path, layer="places")
    assert upload(edit_api, "layer.gpkg", path.read_bytes())["new"] == 2
    stored = versions(edit_api)
    assert {"gj:0", "gj:1", "gj:2", "gp:1", "gp:2"} <= set(stored)


def test_upload_limits_and_refusals(edit_api: EditApi) -> None:
    h = edit_api.editor
    too_big = HEADER.encode() + b"x" * (edit_api.settings.max_upload_bytes + 1)
    assert_problem(
        edit_api.client.post("/imports", files={"file": ("big.csv", too_big)}, headers=h), 413, None
    )
    # Bigger than POI_MAX_BODY_BYTES but within the upload limit: accepted (and refused row by row).
    rows = "".join(f"Ort {i},Kirche,,,,,54.8,9.4,lim:{i}\n" for i in range(700))
    big_ok = (HEADER + rows).encode()
    assert edit_api.settings.max_body_bytes < len(big_ok) < edit_api.settings.max_upload_bytes
    assert upload(edit_api, "many.csv", big_ok, dry_run="true")["rows"] == 700
    assert_problem(
        edit_api.client.post("/imports", files={"file": ("x.xlsx", b"PK")}, headers=h), 400, "file"
    )
    assert_problem(edit_api.client.post("/imports", data={"x": "1"}, headers=h), 400, "file")
    r = edit_api.client.post("/imports", params={"kind": "shops"}, files={"file": ("a.csv", b"x")}, headers=h)
    assert_problem(r, 400, "kind")
    assert_problem(
        edit_api.client.post("/imports", files={"file": ("e.csv", b"name,category\n")}, headers=h), 422, None
    )
