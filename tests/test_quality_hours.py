"""`poi-service data check --store` lists places whose opening_hours do not parse, raw, as warnings;
the places themselves stay stored and shown."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from poi_service.cli import cli
from poi_service.hours import valid
from poi_service.store import open_store
from tests.conftest import DATA_DIR
from tests.hours_data import with_hours


def test_unparseable_hours_are_listed_raw(tmp_path: Path) -> None:
    path = tmp_path / "hours.gpkg"
    store = open_store(str(path), DATA_DIR)
    places = with_hours(120)
    store.places.add_many(places)
    store.close()
    bad = sorted((p.name, p.opening_hours) for p in places if p.opening_hours and not valid(p.opening_hours))
    assert {h for _, h in bad} == {"Seasonal, only summer time", "Mo-Fr 9-17"}
    result = CliRunner().invoke(cli, ["--database", str(path), "data", "check", "--store", "--json"])
    body = json.loads(result.output)
    found = sorted((f["subject"], f["message"]) for f in body["findings"] if f["code"] == "unparseable-hours")
    assert [name for name, _ in found] == [name for name, _ in bad]
    for (_, message), (_, text) in zip(found, bad, strict=True):
        assert repr(text) in message
    assert all(f["severity"] == "warning" for f in body["findings"] if f["code"] == "unparseable-hours")
    text = CliRunner().invoke(cli, ["--database", str(path), "data", "check", "--store"]).output
    assert "unparseable-hours" in text and "Seasonal, only summer time" in text
    again = open_store(str(path), DATA_DIR)
    try:  # never dropped
        assert again.places.count() == 120
    finally:
        again.close()
