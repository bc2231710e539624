"""The OpenAPI document tells the truth: schemathesis against a served API, writes included.

Deterministic (schemathesis' deterministic generation: the same cases every run) and bounded
(MAX_EXAMPLES cases per operation, about two minutes on one core). Every operation the app has is
covered, so a new route must describe its answers (poi_service.api.contract) to keep this green."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from poi_service.api.app import create_app
from poi_service.config import Settings
from poi_service.models import Alliance, KeyRole, Role
from poi_service.store import open_store
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places
from tests.server import serve

MAX_EXAMPLES = 20
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
    "response_headers_conformance"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    path = tmp_path_factory.mktemp("contract") / "contract.gpkg"
    settings = Settings(database_url=str(path))
    store = open_store(settings.database_url, DATA_DIR)
    store.places.add_many(random_places(30))
    store.memberships.add_many(
        [
            membership(
                "Flensburg",
                Alliance.BUENDNIS,
                9.4375,
                54.7825,
                role=Role.STATE_COORDINATOR,
                state="Schleswig-Holstein",
                ags="01001000",
            ),
            membership("Palermo", Alliance.INTERNATIONAL, 13.36, 38.12, role=Role.COORDINATOR, country="IT"),
        ]
    )
    _, key = store.create_key("Schemathesis", KeyRole.ADMIN)  # admin: purge=true is exercised too
    with serve(create_app(settings, store)) as url:
        yield url, key, path.parent
    store.close()


def operations(url: str) -> int:
    doc = httpx.get(f"{url}/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch"}
    return sum(len(methods & set(item)) for item in doc["paths"].values())


def test_schemathesis_finds_no_failure(served: tuple[str, str, Path]) -> None:
    url, key, workdir = served
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        CHECKS,
        "--generation-deterministic",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "60",
    ]
    run = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-20_000:]
    tested = re.search(r"Tested: (\d+)", out)
    assert tested is not None and int(tested.group(1)) == operations(url), out[-5000:]
    generated = re.search(r"(\d+) generated", out)
    assert generated is not None and int(generated.group(1)) > 1000, out[-5000:]


def _resolve(doc: dict[str, object], schema: dict[str, object]) -> dict[str, object]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        found: dict[str, object] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[index]
        return found
    return schema


def test_every_answer_and_body_is_described(served: tuple[str, str, Path]) -> None:
    """What the schema fuzz of issue 11 found: JSON answers declared as strings, GeoJSON undocumented,
    free-form write bodies, FastAPI's 422 that the service never sends."""
    doc = httpx.get(f"{served[0]}/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert "500" in op["responses"], where
            assert "HTTPValidationError" not in str(op["responses"]), where
            for status, answer in op["responses"].items():
                for media, content in answer.get("content", {}).items():
                    schema = _resolve(doc, content.get("schema", {}))
                    if status.startswith(("4", "5")):
                        assert media == "application/problem+json" and schema["title"] == "Problem", where
                    elif "json" in media and schema:  # file downloads (/export) declare only the media type
                        assert schema.get("type") != "string" and schema.get("properties"), where
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                options = body["schema"].get("anyOf", [body["schema"]])
                assert all(_resolve(doc, o).get("properties") for o in options), where
    geojson = [
        "/places",
        "/places/nearby",
        "/places/nearest",
        "/places/{place_id}",
        "/alliance/members",
        "/alliance/members/nearest",
        "/alliance/members/{member_id}",
        "/geocode",
        "/reverse",
    ]
    for path in geojson:
        assert "application/geo+json" in doc["paths"][path]["get"]["responses"]["200"]["content"], path
    place = doc["components"]["schemas"]["PlaceInput"]
    assert place["additionalProperties"] is False and place["required"] == ["name", "category"]
    assert place["properties"]["name"]["maxLength"] == 200
