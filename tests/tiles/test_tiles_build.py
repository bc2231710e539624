"""`poi-service osm tiles` on the real Helsinki extract: streets with their OSM names, water, parks, buildings."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import osmium
import pytest

from poi_service.config import Settings
from poi_service.osm.tiles import build_tiles
from tests.tiles.data import CENTRE, HELSINKI, helsinki_tiles, require_tilemaker, tile_of


def _tile(path: Path, z: int, x: int, y: int) -> dict[str, list[dict[str, object]]]:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, (1 << z) - 1 - y),
        ).fetchone()
    assert row is not None, (z, x, y)
    decoded = mapbox_vector_tile.decode(gzip.decompress(row[0]))
    return {name: layer["features"] for name, layer in decoded.items()}


def _complete_street_names() -> set[str]:
    """Names of highways whose nodes are all in the extract (the ones the tiles can draw)."""
    nodes = {n.id for n in osmium.FileProcessor(str(HELSINKI), osmium.osm.NODE)}
    names = set()
    for w in osmium.FileProcessor(str(HELSINKI), osmium.osm.WAY):
        if "highway" in w.tags and "name" in w.tags and all(r.ref in nodes for r in w.nodes):
            names.add(w.tags["name"])
    return names


def test_centre_tile_holds_streets_water_parks_buildings() -> None:
    report = helsinki_tiles()
    assert report.clean.dropped_ways > 0  # the clipped extract has incomplete ways; tilemaker needs them gone
    layers = _tile(report.out, 14, *tile_of(*CENTRE, 14))
    names = {str(f["properties"].get("name:latin")) for f in layers["transportation_name"]}
    expected = _complete_street_names()
    assert "Aleksanterinkatu" in expected  # the reference itself knows the main street of the centre
    assert len(names & expected) >= 20
    assert names - {"None"} <= _all_names()  # every label is a name of the extract (ways or relations)
    assert {f["properties"]["class"] for f in layers["water"]} & {"lake", "ocean"}
    assert any(f["properties"].get("subclass") == "park" for f in layers["landcover"])
    assert len(layers["building"]) > 100


def _all_names() -> set[str]:
    return {str(o.tags["name"]) for o in osmium.FileProcessor(str(HELSINKI)) if "name" in o.tags}


def test_metadata_and_bounds() -> None:
    report = helsinki_tiles()
    with sqlite3.connect(report.out) as db:
        meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
    assert meta["attribution"] == "© OpenStreetMap contributors"
    header = osmium.io.Reader(str(HELSINKI), osmium.osm.osm_entity_bits.NOTHING).header().box()
    bounds = [float(v) for v in meta["bounds"].split(",")]
    assert bounds == pytest.approx(
        [header.bottom_left.lon, header.bottom_left.lat, header.top_right.lon, header.top_right.lat], abs=1e-6
    )
    assert '"vector_layers"' in meta["json"] and int(meta["maxzoom"]) == 14


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poi_service.cli", "osm", "tiles", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_cli_refuses_a_bad_extract_and_keeps_the_old_file(tmp_path: Path) -> None:
    require_tilemaker()
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf at all" * 100)
    out = tmp_path / "tiles.mbtiles"
    out.write_bytes(b"previous")
    r = _cli(str(bad), "--out", str(out))
    assert r.returncode == 1 and "not a readable OSM" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == b"previous"  # atomic: nothing replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.osm.pbf",
        "tiles.mbtiles",
    ]  # no temp files left
    r = _cli(str(HELSINKI), "--out", str(out), "--bbox", "25,60,24,61")
    assert r.returncode == 1 and "bbox" in r.stderr


def test_cli_says_how_to_install_tilemaker(tmp_path: Path) -> None:
    env_path = str(Path(sys.executable).parent)  # python is found, tilemaker is not
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "poi_service.cli",
            "osm",
            "tiles",
            str(HELSINKI),
            "--out",
            str(tmp_path / "t.mbtiles"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": env_path, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert r.returncode == 1 and "apt-get install tilemaker" in r.stderr, r.stderr
    assert not (tmp_path / "t.mbtiles").exists()


def test_lake_cut_by_the_edge_is_drawn_inside() -> None:
    # Töölönlahti (way 122872049) has 14 of its 217 nodes in the extract: dropped from the cleaned copy,
    # its part inside the extract comes back as a clipped polygon.
    report = helsinki_tiles()
    layers = _tile(report.out, 14, *tile_of(24.9355, 60.1785, 14))
    assert any(f["properties"].get("class") == "lake" for f in layers["water"])
    assert report.sea_polygons >= 2  # the harbour's sea and the lake


def test_extract_without_header_box_uses_its_ways(tmp_path: Path) -> None:
    require_tilemaker()
    src = tmp_path / "synthetic.osm.pbf"  # SYNTHETIC: a 3 x 3 street grid written here
    writer = osmium.SimpleWriter(str(src))
    ids = {}
    for r in range(3):
        for c in range(3):
            ids[r, c] = len(ids) + 1
            writer.add_node(
                osmium.osm.mutable.Node(id=ids[r, c], location=(9.40 + c * 0.01, 54.78 + r * 0.002))
            )
    for i in range(3):
        writer.add_way(
            osmium.osm.mutable.Way(
                id=10 + i,
                nodes=[ids[i, c] for c in range(3)],
                tags={"highway": "residential", "name": f"Row {i}"},
            )
        )
    writer.close()
    report = build_tiles(src, tmp_path / "t.mbtiles")
    assert report.bbox == pytest.approx((9.40, 54.78, 9.42, 54.784))
    layers = _tile(report.out, 14, *tile_of(9.41, 54.782, 14))
    assert {f["properties"].get("name:latin") for f in layers["transportation_name"]} == {
        "Row 0",
        "Row 1",
        "Row 2",
    }


def test_cli_writes_where_the_service_reads(tmp_path: Path) -> None:
    require_tilemaker()
    target = tmp_path / "served.mbtiles"
    env = {**os.environ, "POI_TILES_FILE": str(target)}
    r = subprocess.run(
        [sys.executable, "-m", "poi_service.cli", "osm", "tiles", str(HELSINKI)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert f"Wrote {target}" in r.stdout and "incomplete ways" in r.stdout
    assert Settings(tiles_file=target).tiles_path() == target and target.stat().st_size > 50_000
