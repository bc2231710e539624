"""`osm import` on both backends: the real Helsinki extract, the synthetic Harrislee one, bad files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import osmium
import pytest

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed, PoiError
from poi_service.models import Place
from poi_service.osm.importer import REPLICATION_META, Options, import_extract
from poi_service.osm.mapping import load_mapping
from poi_service.osm.places import NO_NAME, UNMAPPED
from poi_service.store import Store
from tests.conftest import DATA_DIR
from tests.osm.fixtures import FLENSBURG, HARRISLEE, HELSINKI, write_harrislee

VOCABULARY = Vocabulary.load()
OPTS = Options(VOCABULARY, DATA_DIR)


def places(store: Store) -> dict[str, Place]:
    return {p.external_key or "": p for p in store.places.iter_all()}


def fingerprint(store: Store) -> list[tuple[object, ...]]:
    """Everything an import may change, deleted records and history included."""
    rows = [(p.id, p.version, p.name, p.point, p.deleted_at) for p in store.places.iter_all()]
    history = sum(len(store.places.history(p.id)) for p in store.places.iter_all())
    return [*sorted(rows, key=str), ("history", history), ("meta", store.meta_get(REPLICATION_META))]


class TaggedNodes(osmium.SimpleHandler):  # type: ignore[misc]
    """The reference: every named node of the file with its tags, read independently."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[int, dict[str, str]] = {}

    def node(self, n: osmium.osm.Node) -> None:
        tags = {t.k: t.v for t in n.tags}
        if tags.get("name"):
            self.nodes[n.id] = tags


def test_helsinki_import_matches_the_tags(store: Store) -> None:
    report = import_extract(store, HELSINKI, OPTS)
    got = places(store)
    assert len(got) >= 1000 and report.outcome.new == len(got)
    assert report.skipped["incomplete geometry"] > 0  # the clipped ways, counted, no crash
    reference = TaggedNodes()
    reference.apply_file(str(HELSINKI))
    mapping = load_mapping(VOCABULARY)
    checked = hours = wheelchair = 0
    for node_id, tags in reference.nodes.items():
        category = mapping.category(tags)
        place = got.get(f"osm:node/{node_id}")
        if category is None:
            assert place is None
            continue
        assert place is not None, tags
        assert place.category == category and place.name == tags["name"].strip()
        assert place.source == f"https://www.openstreetmap.org/node/{node_id}"
        want_hours = tags.get("opening_hours", "").strip() or None
        assert place.opening_hours == want_hours
        raw = tags.get("wheelchair", "").casefold()
        assert place.wheelchair == (raw if raw in ("yes", "limited", "no") else None)
        assert place.geocoding.source == "osm" and place.geocoding.precision.value == "exact"
        checked += 1
        hours += want_hours is not None
        wheelchair += place.wheelchair is not None
    assert checked >= 1000 and hours >= 300 and wheelchair >= 200
    # Spelled out, independent of the mapping code: the plain amenity and shop values.
    plain = {"cafe": "cafe", "restaurant": "restaurant", "pharmacy": "health", "bank": "bank", "pub": "bar"}
    spelled = 0
    for node_id, tags in reference.nodes.items():
        if set(tags) & {"memorial", "parking_space", "capacity:disabled"}:
            continue
        want = plain.get(tags.get("amenity", ""))
        others = {"amenity", "tourism", "leisure", "historic", "healthcare", "emergency", "office", "craft"}
        if want is None and tags.get("shop") and not set(tags) & others:
            want = {"supermarket": "supermarket", "convenience": "supermarket", "bakery": "bakery"}.get(
                tags["shop"], "business"
            )
        if want is not None:
            assert got[f"osm:node/{node_id}"].category == want, tags
            spelled += 1
    assert spelled >= 600
    cafes = [p for p in got.values() if p.category == "cafe"]
    assert len(cafes) >= 30
    # Same extract again: nothing changes.
    before = fingerprint(store)
    again = import_extract(store, HELSINKI, OPTS)
    o = again.outcome
    assert (o.new, o.updated, o.deleted, o.conflicts, o.unchanged) == (0, 0, 0, 0, len(got))
    assert fingerprint(store) == before


def test_ways_get_a_point_inside_and_relations_are_areas(store: Store) -> None:
    import shapely

    import_extract(store, HELSINKI, OPTS)
    ways = {
        p.external_key: p for p in store.places.iter_all() if (p.external_key or "").startswith("osm:way/")
    }
    assert len(ways) >= 40
    relations = [p for p in store.places.iter_all() if (p.external_key or "").startswith("osm:relation/")]
    assert len(relations) >= 1

    class Polygons(osmium.SimpleHandler):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.shapes: dict[int, object] = {}

        def way(self, w: osmium.osm.Way) -> None:
            if f"osm:way/{w.id}" in ways and w.is_closed():
                self.shapes[w.id] = shapely.Polygon([(n.lon, n.lat) for n in w.nodes])

    polygons = Polygons()
    polygons.apply_file(str(HELSINKI), locations=True)
    assert len(polygons.shapes) >= 40
    for way_id, polygon in polygons.shapes.items():
        p = ways[f"osm:way/{way_id}"].point
        assert shapely.make_valid(polygon).covers(shapely.Point(p.lon, p.lat))  # type: ignore[arg-type]


def test_harrislee_area_fields_and_skips(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "harrislee.osm.pbf")
    report = import_extract(store, s.path, OPTS, area="Harrislee")
    got = places(store)
    assert set(got) == {f"osm:node/{i}" for i in (s.cafe, s.stolperstein, s.parking, s.bad_phone)} | {
        f"osm:way/{s.school_way}"
    }
    cafe = got[f"osm:node/{s.cafe}"]
    assert (cafe.category, cafe.opening_hours, cafe.wheelchair) == ("cafe", "Mo-Su 09:00-02:00", "limited")
    assert cafe.phone == "+494611234567"  # the first of two numbers, as E.164
    assert cafe.names == (("da", "SYNTHETIC Café Grænseudsigt"),) and cafe.address.ags == HARRISLEE
    assert (cafe.osm_version, cafe.osm_timestamp) == (1, "2024-03-01T12:00:00Z")
    assert got[f"osm:node/{s.stolperstein}"].category == "stolperstein"
    parking = got[f"osm:node/{s.parking}"]
    assert (parking.category, parking.name) == ("accessible_parking", "Behindertenparkplatz")
    krug = got[f"osm:node/{s.bad_phone}"]
    assert (krug.phone, krug.wheelchair) == (None, None)
    assert report.invalid_fields == {"phone": 1}
    assert report.skipped[NO_NAME] == 1 and report.skipped[UNMAPPED] == 1
    assert report.skipped["incomplete geometry"] == 1 and report.outside == 1
    assert json.loads(store.meta_get(REPLICATION_META) or "{}")["sequence"] == 100
    # With the whole file, the Flensburg shop comes in; --area with an AGS works alike.
    import_extract(store, s.path, OPTS, area=FLENSBURG)
    assert places(store)[f"osm:node/{s.flensburg_shop}"].address.ags == FLENSBURG


def test_editor_change_survives_and_gone_objects_are_deleted(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "harrislee.osm.pbf")
    import_extract(store, s.path, OPTS, area="Harrislee")
    cafe = places(store)[f"osm:node/{s.cafe}"]
    store.places.update(cafe.id, dataclasses.replace(cafe, name="Café (vom Amt korrigiert)"), actor="editor1")
    report = import_extract(store, s.path, OPTS, area="Harrislee")
    assert report.outcome.conflicts == 1 and report.outcome.conflict_keys == [f"osm:node/{s.cafe}"]
    assert store.places.get(cafe.id).name == "Café (vom Amt korrigiert)"
    # An editor's own place (no osm: key) is never touched, even inside the area.
    own = dataclasses.replace(cafe, name="Rathaus-Info", external_key="places:rathaus-info", osm_version=None)
    mine = store.places.add(own, actor="editor1")
    # The stolperstein disappears from the extract (a new file without it): soft-deleted, once.
    s2 = tmp_path / "without.osm.pbf"
    with osmium.SimpleWriter(str(s2)) as w:
        for obj in osmium.FileProcessor(str(s.path)):
            if not (obj.is_node() and obj.id == s.stolperstein):
                w.add(obj)
    report = import_extract(store, s2, OPTS, area="Harrislee")
    assert report.outcome.deleted == 1
    stolperstein = store.places.get(places_id(s.stolperstein), include_deleted=True)
    assert stolperstein.deleted_at is not None
    assert [c.action for c in store.places.history(stolperstein.id)] == ["import", "delete"]
    assert store.places.get(mine.id).deleted_at is None
    assert import_extract(store, s2, OPTS, area="Harrislee").outcome.deleted == 0
    # Back in the extract: the record comes back.
    assert import_extract(store, s.path, OPTS, area="Harrislee").outcome.updated == 1
    assert store.places.get(stolperstein.id).deleted_at is None


def places_id(node_id: int) -> str:
    from poi_service.store.records import new_id

    return new_id(f"osm:node/{node_id}")


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "harrislee.osm.pbf")
    report = import_extract(store, s.path, dataclasses.replace(OPTS, dry_run=True), area="Harrislee")
    assert report.outcome.new == 5 and store.places.count() == 0 and store.meta_get(REPLICATION_META) is None


def test_bad_files_leave_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "harrislee.osm.pbf")
    import_extract(store, s.path, OPTS)
    before = fingerprint(store)
    not_pbf = tmp_path / "notes.osm.pbf"
    not_pbf.write_text("this is not an OSM file\n", encoding="utf-8")
    truncated = tmp_path / "truncated.osm.pbf"
    data = HELSINKI.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    for bad in (not_pbf, truncated, tmp_path / "missing.osm.pbf"):
        with pytest.raises(ImportFailed) as info:
            import_extract(store, bad, OPTS)
        assert bad.name in info.value.detail
        assert fingerprint(store) == before
    with pytest.raises(PoiError, match="no state, district or municipality"):
        import_extract(store, s.path, OPTS, area="Atlantis")
    assert fingerprint(store) == before
