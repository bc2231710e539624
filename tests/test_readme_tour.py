"""The README's five-minute tour, run command by command against a real server on the shipped data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from geopy.distance import geodesic

import poi_service.analysis as pa
from poi_service.api.app import create_app
from poi_service.config import Settings
from tests.conftest import DATA_DIR
from tests.server import serve

ROOT = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:8000"


def tour_paragraphs() -> list[str]:
    """The tour's bash block, split at blank lines: one paragraph per step."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## A five-minute tour", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    return [p.strip() for p in block.split("\n\n") if p.strip()]


def json_documents(text: str) -> list[Any]:
    """Every JSON document in a step's output (curl prints them back to back)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Any]]]:
    path = tmp_path_factory.mktemp("tour") / "poi.gpkg"
    store = pa.open_shipped_store(path, DATA_DIR)
    try:
        with serve(create_app(Settings(database_url=str(path)), store)) as url:
            result: dict[str, list[Any]] = {}
            for step in tour_paragraphs():
                script = "set -euo pipefail\n" + step.replace(README_URL, url)
                run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
                assert run.returncode == 0, f"{step}\n{run.stderr}"
                result[step.splitlines()[0]] = json_documents(run.stdout)
            yield result
    finally:
        store.close()


def step(outputs: dict[str, list[Any]], words: str) -> list[Any]:
    [docs] = [v for k, v in outputs.items() if words in k]
    assert docs, f"step '{words}' printed nothing"
    return docs


def test_every_step_answers_json(outputs: dict[str, list[Any]]) -> None:
    assert len(outputs) == len(tour_paragraphs()) >= 8
    assert all(outputs.values())


def test_town_hall_and_places_near_it(outputs: dict[str, list[Any]]) -> None:
    [hall] = step(outputs, "town hall? ")
    assert "Rathaus" in hall["features"][0]["properties"]["name"]
    lon, lat = hall["features"][0]["geometry"]["coordinates"]
    [near] = step(outputs, "town hall's stored point")
    assert near["features"], "nothing near the town hall"
    dists = [f["properties"]["distance_m"] for f in near["features"]]
    assert dists == sorted(dists) and dists[-1] <= 1000
    for f in near["features"]:
        flon, flat = f["geometry"]["coordinates"]
        assert f["properties"]["distance_m"] == pytest.approx(geodesic((lat, lon), (flat, flon)).m, abs=0.01)


def test_members_stats_reverse_geocode_and_bad_input(outputs: dict[str, list[Any]]) -> None:
    [members] = step(outputs, "Niedersachsen")
    assert members["numberMatched"] > 0
    assert {f["properties"]["state"] for f in members["features"]} == {"Niedersachsen"}
    [reverse] = step(outputs, "this point in Flensburg")
    assert "Flensburg" in json.dumps(reverse, ensure_ascii=False)
    typo, ambiguous, resolved = step(outputs, "Geocode offline")
    assert "Rottenburg am Neckar" in json.dumps(typo, ensure_ascii=False)
    assert "Wümme" in json.dumps(resolved, ensure_ascii=False)
    assert ambiguous["ambiguous"] and len(ambiguous["features"]) >= 2
    assert not resolved["ambiguous"]
    [bad] = step(outputs, "Bad input")
    assert bad["status"] == 400 and "lat" in json.dumps(bad)


def editing_recipe() -> str:
    """The README's editing recipe (the bash block of the "Editing" section), as one script."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Editing", 1)[1]
    return section.split("```bash", 1)[1].split("```", 1)[0].strip()


def test_the_editing_recipe_runs_as_written(tmp_path: Path) -> None:
    """Key, id, ETag, PATCH and a dry-run import, command by command, against a served copy of the data."""
    path = tmp_path / "poi.gpkg"
    store = pa.open_shipped_store(path, DATA_DIR)
    workdir = tmp_path / "clone"  # a checkout's layout: .venv/bin/poi-service beside the files it writes
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.prefix))  # the venv running the tests
    try:
        places_before = store.places.count()
        with serve(create_app(Settings(database_url=str(path)), store)) as url:
            script = "set -euo pipefail\n" + editing_recipe().replace(README_URL, url)
            env = {**os.environ, "POI_DATABASE_URL": str(path)}
            run = subprocess.run(
                ["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=workdir, env=env
            )
            assert run.returncode == 0, f"{script}\n{run.stderr}"
        patched, report = json_documents(run.stdout)
        assert patched["properties"]["phone"] == "+494611234", patched
        hall = store.places.get(patched["id"])
        assert "Rathaus" in hall.name and hall.phone == "+494611234"
        [change] = [c for c in store.places.history(hall.id) if c.action == "update"]
        assert change.actor == store.list_keys()[0].id  # the key the recipe created, never its secret
        assert (report["rows"], report["new"], report["written"], report["dry_run"]) == (1, 1, 0, True), (
            report
        )
        assert store.places.count() == places_before  # a dry run writes nothing
    finally:
        store.close()
