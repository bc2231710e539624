"""Real clients: OWSLib's Features (collections, bbox, paging, into geopandas) and GDAL's OAPIF driver
through pyogrio (every collection read completely by following next links)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import geopandas as gpd

# Hard imports (not importorskip): both are in the test extra; a missing client fails the run.
import owslib.ogcapi.features as owslib_features
import pyogrio
import pytest
import shapely

from tests.ogc.conftest import Ogc

LOOPBACK = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}  # never via a proxy
# GDAL (pyogrio) holds the GIL while it downloads, so it must not share a process with the in-thread
# test server: the reads run in a child Python.
GDAL_SCRIPT = """
import json, sys
import pyogrio
url, jobs = sys.argv[1], json.loads(sys.argv[2])
out = {"layers": [[str(a), str(b)] for a, b in pyogrio.list_layers("OAPIF:" + url)]}
for name, job in jobs.items():
    opts = {"PAGE_SIZE": job["page_size"]} if job.get("page_size") else {}
    df = pyogrio.read_dataframe("OAPIF:" + url, layer=job["layer"], bbox=tuple(job["bbox"]) if job.get("bbox") else None, where=job.get("where"), **opts)
    out[name] = {"ids": [str(i) for i in df["id"]], "crs": str(df.crs), "columns": list(df.columns),
                 "bounds": [float(v) for v in df.total_bounds] if len(df) else None,
                 "types": sorted(set(df.geometry.geom_type))}
print(json.dumps(out))
"""


def gdal(ogc: Ogc, jobs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", GDAL_SCRIPT, f"{ogc.url}/ogc", json.dumps(jobs)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **LOOPBACK},
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


SIZES = {"places": 50, "alliance-members": 4, "states": 5, "districts": 100}
BOX = (9.35, 54.75, 9.5, 54.83)


@pytest.fixture(scope="module")
def gdal_reads(ogc: Ogc) -> tuple[dict[str, Any], list[str]]:
    """One child GDAL run of every read below, and the requests the server saw meanwhile."""
    if "OAPIF" not in pyogrio.list_drivers():
        pytest.fail("this pyogrio wheel's GDAL has no OAPIF driver")
    jobs: dict[str, dict[str, Any]] = {cid: {"layer": cid, "page_size": n} for cid, n in SIZES.items()}
    jobs["default-page"] = {"layer": "districts"}
    jobs["box"] = {"layer": "places", "bbox": list(BOX)}
    jobs["where"] = {"layer": "places", "where": "category = 'church'"}
    start = len(ogc.seen)
    out = gdal(ogc, jobs)
    return out, ogc.seen[start:]


def test_gdal_oapif_reads_every_collection_through_next_links(
    ogc: Ogc, gdal_reads: tuple[dict[str, Any], list[str]]
) -> None:
    out, seen = gdal_reads
    assert out["layers"] == [
        ["places", "Point"],
        ["alliance-members", "Point"],
        ["states", "Unknown"],
        ["districts", "Unknown"],
    ]
    want = {
        "places": [p.id for p in ogc.places()],
        "alliance-members": [m.id for m in ogc.members()],
        "states": sorted(a for a in _ags(ogc, "state")),
        "districts": sorted(_ags(ogc, "district")),
    }
    for cid, ids in want.items():
        got = out[cid]
        assert sorted(got["ids"]) == sorted(ids) and len(got["ids"]) == len(ids), cid
        assert got["crs"] == "EPSG:4326" and "geometry" in got["columns"]
    assert sorted(out["default-page"]["ids"]) == want["districts"]
    assert out["states"]["types"] == ["MultiPolygon", "Polygon"] or out["states"]["types"] in (
        ["MultiPolygon"],
        ["Polygon"],
    )
    for cid, n in SIZES.items():
        pages = {r for r in seen if r.startswith(f"/ogc/collections/{cid}/items?") and f"limit={n}" in r}
        follow = [r for r in pages if "offset=" in r]
        assert len(follow) >= -(-len(want[cid]) // n) - 1, (cid, sorted(pages))


def _ags(ogc: Ogc, level: str) -> list[str]:
    from poi_service.boundaries import Boundaries

    return [a.ags for a in Boundaries.load(ogc.settings.data_dir).areas if a.level == level]


def test_gdal_bbox_and_where_match_brute_force(
    ogc: Ogc, gdal_reads: tuple[dict[str, Any], list[str]]
) -> None:
    out, seen = gdal_reads
    assert any("bbox=" in r for r in seen)
    shape = shapely.box(*BOX)
    assert sorted(out["box"]["ids"]) == sorted(
        p.id for p in ogc.places() if shape.intersects(shapely.Point(p.point.lon, p.point.lat))
    )
    assert sorted(out["where"]["ids"]) == sorted(p.id for p in ogc.places() if p.category == "church")


def test_owslib_lists_collections_and_pages_through_a_bbox(ogc: Ogc, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOOPBACK.items():
        monkeypatch.setenv(name, value)
    api = owslib_features.Features(f"{ogc.url}/ogc")
    assert api.feature_collections() == ["places", "alliance-members", "states", "districts"]
    assert "/collections/places/items" in api.api()["paths"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    box = [9.35, 54.75, 9.5, 54.83]
    shape = shapely.box(*box)
    want = {p.id for p in ogc.places() if shape.intersects(shapely.Point(p.point.lon, p.point.lat))}
    features: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = api.collection_items("places", bbox=box, limit=8, offset=offset)
        assert page["numberMatched"] == len(want)
        features += page["features"]
        if not any(x["rel"] == "next" for x in page["links"]):
            break
        offset += 8
    assert [f["id"] for f in features] and {f["id"] for f in features} == want and len(features) == len(want)
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
    assert len(frame) == len(want) and set(frame.geom_type) == {"Point"}
    assert frame.geometry.within(shape.buffer(1e-9)).all()
    assert {"name", "category", "address"} <= set(frame.columns)
    assert set(api.collection_queryables("alliance-members")["properties"]) >= {
        "alliance",
        "joined_date",
        "geometry",
    }
    members = api.collection_items("alliance-members", sortby=("name", "desc"), limit=100)
    names = [f["properties"]["name"] for f in members["features"]]
    assert names == sorted(names, key=str.casefold, reverse=True)
    states = gpd.GeoDataFrame.from_features(
        api.collection_items("states", limit=16)["features"], crs="EPSG:4326"
    )
    assert len(states) == 16 and states.geometry.is_valid.all()
