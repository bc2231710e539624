"""api/query.py refuses bad query parameters in pydantic's words, without pydantic: checked here against
what FastAPI itself answers for the same parameters declared the ordinary way, so a pydantic upgrade
that changes its wording fails this test instead of leaving the hot routes speaking differently."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query

from poi_service.api import query
from poi_service.api.problems import install_problem_handlers
from poi_service.errors import InvalidInput
from tests.server import serve

LAT = query.Param("lat", "number", "", required=True)
K = query.Param("k", "integer", "", default=10)


def _declared_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/declared")
    def declared(lat: Annotated[float, Query(allow_inf_nan=False)], k: int = 10) -> dict[str, float]:
        return {"lat": lat, "k": k}

    return app


def _reader_reasons(raw: bytes) -> dict[str, str]:
    r = query.Reader.of(raw)
    r.number(LAT)
    r.integer(K)
    with pytest.raises(InvalidInput) as caught:
        r.done()
    return {p.name: p.reason for p in caught.value.invalid_params}


@pytest.mark.parametrize(
    "raw",
    [b"", b"lat=north", b"lat=inf", b"lat=nan", b"lat=1&k=ten", b"lat=1&k=1.5", b"k=x", b"lat=-Infinity&k="],
)
def test_the_reader_words_its_refusals_as_fastapi_does(raw: bytes) -> None:
    with serve(_declared_app()) as base:
        answer = httpx.get(f"{base}/declared?{raw.decode()}")
    assert answer.status_code == 400
    declared = {p["name"]: p["reason"] for p in answer.json()["invalid_params"]}
    assert _reader_reasons(raw) == declared
