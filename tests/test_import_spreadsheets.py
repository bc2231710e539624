"""CSV files as German spreadsheets save them, and a CSV export Excel opens in German locales (issue 14.13)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from poi_service.errors import ImportFailed
from poi_service.geocode import OfflineGeocoder
from poi_service.ingest.export import export_records
from poi_service.ingest.importer import import_file
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.test_import import GOOD_ROWS, HEADER


@pytest.fixture(scope="module")
def geocoder() -> OfflineGeocoder:
    return OfflineGeocoder(DATA_DIR)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "import.gpkg"), DATA_DIR)
    yield s
    s.close()


def _semicolons(text: str) -> str:
    """The same table with `;` between fields and decimal commas, as German Excel writes it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow([c.replace(".", ",") if c.replace(".", "", 1).isdigit() else c for c in row])
    return out.getvalue()


def _stored(store: Store) -> list[tuple[str, str, float, float, str | None]]:
    return sorted(
        (p.name, p.category, p.point.lon, p.point.lat, p.address.postcode) for p in store.places.iter_all()
    )


def test_semicolons_bom_and_windows_1252_read_like_the_utf8_file(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    reference = open_store(str(tmp_path_factory.mktemp("ref") / "ref.gpkg"), DATA_DIR)
    plain = tmp_path / "plain.csv"
    plain.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    import_file(reference, plain, geocoder)
    want = _stored(reference)
    reference.close()
    assert len(want) == 3 and any(lat == 54.801944 for _, _, _, lat, _ in want)
    text = _semicolons(HEADER + GOOD_ROWS)
    for name, data in (
        ("semicolon-utf8.csv", text.encode("utf-8")),
        ("semicolon-bom.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("semicolon-cp1252.csv", text.encode("cp1252")),
        ("comma-cp1252.csv", (HEADER + GOOD_ROWS).encode("cp1252")),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        report = import_file(store, path, geocoder)
        assert report.rows == 3, name
        assert _stored(store) == want, name  # same names (umlauts intact), categories, points


def test_bytes_no_encoding_explains_say_how_to_fix(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(HEADER.encode() + b"Fahrschule \x81\x8d,Fahrschule,,,24955,Harrislee,,,,,,x\n")
    with pytest.raises(ImportFailed) as err:
        import_file(store, path, geocoder)
    assert "CSV UTF-8" in err.value.invalid_params[0].reason and err.value.invalid_params[0].name == "line 2"


def test_excel_export_opens_in_german_locales_and_reads_back(
    store: Store, geocoder: OfflineGeocoder, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    import_file(store, plain, geocoder)
    out = tmp_path / "excel.csv"
    assert export_records(store, "places", "csv", out, excel=True) == 3
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    places = {p.id: p for p in store.places.iter_all()}
    assert {r["id"] for r in rows} == set(places)
    for r in rows:  # decimal commas: Excel in a German locale reads them as numbers
        p = places[r["id"]]
        assert float(r["lat"].replace(",", ".")) == p.point.lat and "." not in r["lat"]
    before = _stored(store)
    report = import_file(store, out, geocoder)
    assert (report.new, report.updated) == (0, 0) and _stored(store) == before
