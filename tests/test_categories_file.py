"""POI_CATEGORIES_FILE: operator categories reach the API, the write API and the importer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from poi_service.api.app import create_app
from poi_service.categories import Vocabulary
from poi_service.cli import cli
from poi_service.config import Settings
from poi_service.models import KeyRole
from poi_service.store import open_store
from tests.api.conftest import bearer
from tests.conftest import DATA_DIR
from tests.server import serve

EXTRA = "slug,label_de,label_en,aliases\nrepair_cafe,Reparatur-Café,Repair café,Repaircafé|Reparaturtreff\n"
CAFE = {
    "name": "Repaircafé Harrislee",
    "category": "Reparaturtreff",
    "postcode": "24955",
    "locality": "Harrislee",
}


@pytest.fixture()
def categories_file(tmp_path: Path) -> Path:
    path = tmp_path / "categories.csv"
    path.write_text(EXTRA, encoding="utf-8")
    return path


@pytest.fixture()
def served(tmp_path: Path, categories_file: Path) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    settings = Settings(database_url=str(tmp_path / "store.gpkg"), categories_file=categories_file)
    store = open_store(settings.database_url, DATA_DIR)
    _, key = store.create_key("Redaktion", KeyRole.EDITOR)
    with serve(create_app(settings, store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, bearer(key)
    store.close()


def test_extra_category_is_listed_written_and_queried(served: tuple[httpx.Client, dict[str, str]]) -> None:
    client, editor = served
    assert Vocabulary.load().get("repair_cafe") is None, "the test needs a category that is not shipped"
    slugs = {c["slug"]: c for c in client.get("/categories").json()["categories"]}
    assert slugs["repair_cafe"] == {
        "slug": "repair_cafe",
        "label_de": "Reparatur-Café",
        "label_en": "Repair café",
    }
    assert "church" in slugs, "the shipped categories stay"
    r = client.post("/places", json=CAFE, headers=editor)
    assert r.status_code == 201, r.text
    assert r.json()["properties"]["category"] == "repair_cafe"
    assert r.json()["properties"]["category_label"] == "Reparatur-Café"
    body = client.get("/places", params={"category": "repair_cafe"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Repaircafé Harrislee"]


def test_cli_import_takes_the_extra_category(
    tmp_path: Path, categories_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tmp_path / "cafes.csv"
    rows.write_text(
        "name,category,postcode,locality\nReparaturtreff,Repaircafé,24955,Harrislee\n", encoding="utf-8"
    )
    database = ["--database", str(tmp_path / "store.gpkg")]
    refused = CliRunner().invoke(cli, [*database, "import", str(rows)])
    assert refused.exit_code == 1 and "category" in refused.stderr
    monkeypatch.setenv("POI_CATEGORIES_FILE", str(categories_file))
    result = CliRunner().invoke(cli, [*database, "import", str(rows), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] == 1
    store = open_store(str(tmp_path / "store.gpkg"), DATA_DIR)
    try:
        assert [p.category for p in store.places.iter_all()] == ["repair_cafe"]
    finally:
        store.close()


def test_bad_category_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="categories_file"):
        Settings(categories_file=tmp_path / "missing.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,label\nrepair_cafe,Reparatur-Café\n", encoding="utf-8")
    with pytest.raises(ValueError, match="slug, label_de, label_en"):
        Vocabulary.from_settings(Settings(categories_file=wrong))


def test_analysts_frames_label_the_extra_category(
    tmp_path: Path, categories_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poi_service.analysis import read_places
    from poi_service.models import Address, Geocoding, PlaceData, Point, Precision

    path = tmp_path / "store.gpkg"
    store = open_store(str(path), DATA_DIR)
    geocoding = Geocoding("test", Precision.EXACT, 1.0, datetime.now(UTC))
    store.places.add(
        PlaceData(
            name="Repaircafé",
            category="repair_cafe",
            address=Address(locality="Harrislee"),
            point=Point(9.39, 54.79),
            geocoding=geocoding,
        )
    )
    store.close()
    assert read_places(path)["category_label"].tolist() == ["repair_cafe"]  # shipped vocabulary only
    monkeypatch.setenv("POI_CATEGORIES_FILE", str(categories_file))
    assert read_places(path)["category_label"].tolist() == ["Reparatur-Café"]
    explicit = Vocabulary.load(categories_file)
    monkeypatch.delenv("POI_CATEGORIES_FILE")
    assert read_places(path, vocabulary=explicit)["category_label"].tolist() == ["Reparatur-Café"]


def test_data_check_takes_the_extra_category(tmp_path: Path, categories_file: Path) -> None:
    from poi_service.quality import check_data
    from tests.test_quality import PLACES, append_rows, copy_data

    data = copy_data(tmp_path)
    append_rows(data / PLACES, [{**CAFE, "source_url": "https://example.test/repaircafe"}])

    def about_cafe(vocabulary: Vocabulary | None) -> list[str]:
        report = check_data(data, vocabulary=vocabulary)
        return [f"{f.code}: {f.message}" for f in report.findings if f.subject == CAFE["name"]]

    assert any("category" in text for text in about_cafe(None))
    assert not any("category" in text for text in about_cafe(Vocabulary.load(categories_file)))
