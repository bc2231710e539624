"""`osm update`: change files and replication from a local HTTP server, both backends."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed, PoiError
from poi_service.osm.importer import REPLICATION_META, Options, apply_changes, import_extract
from poi_service.osm.replication import catch_up
from poi_service.store import Store
from poi_service.store.records import new_id
from tests.conftest import DATA_DIR
from tests.osm.fixtures import HARRISLEE, inside, node_xml, osc, write_harrislee
from tests.osm.test_import import fingerprint, places

OPTS = Options(Vocabulary.load(), DATA_DIR)


def test_change_file_renames_moves_deletes_adds(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    import_extract(store, s.path, OPTS, area="Harrislee")
    lon, lat = inside(HARRISLEE, 0.003, 0.001)
    body = "\n".join(
        [
            "<modify>",
            node_xml(
                s.cafe, lon, lat, 2, {"amenity": "cafe", "name": "SYNTHETIC Café Neu", "wheelchair": "yes"}
            ),
            "</modify><delete>",
            f'<node id="{s.stolperstein}" version="2" timestamp="2024-04-01T00:00:00Z" changeset="2" uid="1" user="x"'
            ' lat="0" lon="0"/>',
            '<node id="777777" version="3" timestamp="2024-04-01T00:00:00Z" changeset="2" uid="1" user="x"'
            ' lat="0" lon="0"/>',
            "</delete><create>",
            node_xml(
                5001,
                lon + 0.001,
                lat,
                1,
                {"shop": "bakery", "name": "SYNTHETIC Backstube", "note": "synthetic"},
            ),
            node_xml(5002, lon + 0.002, lat, 1, {"amenity": "bench"}),
            "</create>",
        ]
    )
    report = apply_changes(store, osc(tmp_path / "c.osc.gz", body, gz=True), OPTS)
    o = report.outcome
    assert (o.new, o.updated, o.deleted, o.unknown, o.conflicts) == (1, 1, 1, 1, 0)
    got = places(store)
    cafe = got[f"osm:node/{s.cafe}"]
    assert (cafe.name, cafe.point.lon, cafe.point.lat, cafe.wheelchair) == (
        "SYNTHETIC Café Neu",
        lon,
        lat,
        "yes",
    )
    assert (cafe.opening_hours, cafe.osm_version) == (None, 2)  # the tag is gone in version 2
    assert [c.action for c in store.places.history(cafe.id)] == ["import", "import"]
    assert f"osm:node/{s.stolperstein}" not in got
    assert got["osm:node/5001"].category == "bakery" and "osm:node/5002" not in got
    assert got["osm:node/5001"].address.ags == HARRISLEE
    # The same file again changes nothing.
    before = fingerprint(store)
    again = apply_changes(store, tmp_path / "c.osc.gz", OPTS).outcome
    assert (again.new, again.updated, again.deleted) == (0, 0, 0) and fingerprint(store) == before


def test_changes_keep_to_the_imported_area_and_to_editors(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    import_extract(store, s.path, OPTS, area="Harrislee")
    far = (10.0, 53.55)  # Hamburg: outside the imported area
    cafe = places(store)[f"osm:node/{s.cafe}"]
    store.places.delete(cafe.id, expected_version=cafe.version, actor="editor1")
    body = (
        "<create>"
        + node_xml(6001, *far, 1, {"shop": "books", "name": "SYNTHETIC Fern"})
        + "</create><modify>"
        + node_xml(s.cafe, cafe.point.lon, cafe.point.lat, 2, {"amenity": "cafe", "name": "SYNTHETIC Zurück"})
        + node_xml(s.parking, *far, 2, {"amenity": "parking", "capacity:disabled": "3"})
        + "</modify>"
    )
    report = apply_changes(store, osc(tmp_path / "c.osc", body), OPTS)
    assert report.outside == 1 and report.outcome.conflicts == 1 and report.outcome.deleted == 1
    got = places(store)
    assert "osm:node/6001" not in got and f"osm:node/{s.parking}" not in got  # moved away: deleted
    assert store.places.get(cafe.id, include_deleted=True).deleted_at is not None  # the editor's delete stays


def test_bad_change_files(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    import_extract(store, s.path, OPTS)
    before = fingerprint(store)
    placeholder = osc(
        tmp_path / "josm.osc",
        "<create>" + node_xml(-1, 9.4, 54.8, 1, {"shop": "x", "name": "n"}) + "</create>",
    )
    garbage = tmp_path / "garbage.osc"
    garbage.write_text("<osmChange><create><node id='1'", encoding="utf-8")
    not_gzip = tmp_path / "broken.osc.gz"
    not_gzip.write_bytes(b"\x1f\x8bnot really gzip")
    for bad in (placeholder, garbage, not_gzip, tmp_path / "missing.osc"):
        with pytest.raises(ImportFailed):
            apply_changes(store, bad, OPTS)
        assert fingerprint(store) == before


class Replication:
    """A replication directory (state.txt + 000/000/NNN.osc.gz) served over HTTP on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replication"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, seq: int, body: str, stamp: str) -> None:
        """Diff seq and its state file, and the top-level state.txt naming it."""
        folder = self.root / "replication" / "000" / "000"
        folder.mkdir(parents=True, exist_ok=True)
        text = f'<?xml version="1.0"?>\n<osmChange version="0.6">{body}</osmChange>\n'
        (folder / f"{seq:03d}.osc.gz").write_bytes(gzip.compress(text.encode()))
        state = f"#state\nsequenceNumber={seq}\ntimestamp={stamp.replace(':', chr(92) + ':')}\n"
        (folder / f"{seq:03d}.state.txt").write_text(state)
        (self.root / "replication" / "state.txt").write_text(state)


@pytest.fixture()
def replication(tmp_path: Path) -> Iterator[Replication]:
    r = Replication(tmp_path / "www")
    (tmp_path / "www" / "replication").mkdir(parents=True)
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_replication_catches_up_and_resumes(store: Store, tmp_path: Path, replication: Replication) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf", sequence=100)
    import_extract(store, s.path, OPTS, area="Harrislee")
    lon, lat = inside(HARRISLEE, 0.001, 0.002)
    for seq in (101, 102, 103):
        tags = {"shop": "books", "name": f"SYNTHETIC Buch {seq}"}
        replication.publish(
            seq,
            "<create>" + node_xml(7000 + seq, lon, lat, 1, tags) + "</create>",
            f"2024-04-0{seq - 100}T00:00:00Z",
        )
    reports = catch_up(store, replication.url, OPTS, max_diffs=2)  # interrupted after two diffs
    assert [r.outcome.new for r in reports] == [1, 1]
    assert json.loads(store.meta_get(REPLICATION_META) or "{}")["sequence"] == 102
    reports = catch_up(store, replication.url, OPTS)  # resumes
    assert [r.replication["sequence"] for r in reports if r.replication] == [103]
    assert {f"osm:node/{7000 + q}" for q in (101, 102, 103)} <= set(places(store))
    assert catch_up(store, replication.url, OPTS) == []  # up to date
    # The CLI follows POI_OSM_REPLICATION_URL.
    from poi_service.cli import cli

    replication.publish(
        104, "<delete>" + node_xml(7101, lon, lat, 2, {}) + "</delete>", "2024-04-05T00:00:00Z"
    )
    if not store.url.startswith("sqlite"):
        return  # the CLI run needs the store's URL with its password: the embedded store shows the same
    result = CliRunner().invoke(
        cli, ["--database", store.url, "osm", "update"], env={"POI_OSM_REPLICATION_URL": replication.url}
    )
    assert result.exit_code == 0, result.output
    assert "1 deleted" in result.output
    assert store.places.get(new_id("osm:node/7101"), include_deleted=True).deleted_at is not None


def test_replication_failures_leave_the_store_unchanged(
    store: Store, tmp_path: Path, replication: Replication
) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf", sequence=100)
    import_extract(store, s.path, OPTS, area="Harrislee")
    before = fingerprint(store)
    with pytest.raises(PoiError, match="no valid replication state"):
        catch_up(store, replication.url, OPTS)  # 404: no state.txt
    (replication.root / "replication" / "state.txt").write_text("<html>garbage</html>\n")
    with pytest.raises(PoiError, match="no valid replication state"):
        catch_up(store, replication.url, OPTS)
    replication.publish(101, "<create>", "2024-04-01T00:00:00Z")
    folder = replication.root / "replication" / "000" / "000"
    (folder / "101.osc.gz").write_bytes(b"garbage, not gzip")
    with pytest.raises(PoiError, match="diff 101"):
        catch_up(store, replication.url, OPTS)
    (folder / "101.osc.gz").unlink()
    with pytest.raises(PoiError, match="diff 101"):
        catch_up(store, replication.url, OPTS)  # the diff is missing (404)
    assert fingerprint(store) == before
    with pytest.raises(PoiError, match="no replication URL"):
        catch_up(store, None, OPTS)


def test_way_without_its_nodes_keeps_its_point_and_takes_its_tags(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    import_extract(store, s.path, OPTS, area="Harrislee")
    school = places(store)[f"osm:way/{s.school_way}"]
    refs = "".join(f'<nd ref="{n}"/>' for n in (9000, 9001, 9002, 9003, 9000))
    body = (
        f'<modify><way id="{s.school_way}" version="2" timestamp="2024-04-01T00:00:00Z" changeset="2" uid="1" '
        f'user="x">{refs}<tag k="amenity" v="school"/><tag k="name" v="SYNTHETIC Gemeinschaftsschule"/>'
        '<tag k="wheelchair" v="yes"/></way></modify>'
    )
    report = apply_changes(store, osc(tmp_path / "way.osc", body), OPTS)
    assert report.outcome.updated == 1
    got = store.places.get(school.id)
    assert (got.name, got.wheelchair, got.osm_version) == ("SYNTHETIC Gemeinschaftsschule", "yes", 2)
    assert got.point == school.point  # the file carries none of its nodes
    # A new way whose nodes the file lacks cannot be placed: skipped, counted.
    new = (
        body.replace("<modify>", "<create>")
        .replace("</modify>", "</create>")
        .replace(f'id="{s.school_way}"', 'id="2999"')
    )
    report = apply_changes(store, osc(tmp_path / "new.osc", new), OPTS)
    assert report.skipped == {"incomplete geometry": 1} and "osm:way/2999" not in places(store)


def test_updates_keep_to_every_imported_area(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    import_extract(store, s.path, OPTS, area="Harrislee")
    import_extract(store, s.path, OPTS, area="Flensburg")  # a second municipality, same extract
    import_extract(store, s.path, OPTS, area="Flensburg")  # again: the scope list does not grow
    cafe = places(store)[f"osm:node/{s.cafe}"]
    shop = places(store)[f"osm:node/{s.flensburg_shop}"]
    body = (
        "<modify>"
        + node_xml(
            s.cafe, cafe.point.lon, cafe.point.lat, 2, {"amenity": "cafe", "name": "SYNTHETIC Harrislee neu"}
        )
        + node_xml(
            s.flensburg_shop, shop.point.lon, shop.point.lat, 2, {"shop": "books", "name": "SYNTHETIC FL neu"}
        )
        + "</modify>"
    )
    report = apply_changes(store, osc(tmp_path / "c.osc", body), OPTS)
    assert (report.outcome.updated, report.outside) == (2, 0)
    assert json.loads(store.meta_get("osm.scope") or "[]") == [
        {"area": HARRISLEE, "bbox": None, "boxes": []},
        {"area": "01001", "bbox": None, "boxes": []},  # Flensburg: the kreisfreie Stadt (district)
    ]
