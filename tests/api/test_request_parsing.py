"""The hot routes' own query-string and URL handling equals Starlette's on the same scopes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from poi_service.api.links import request_url
from poi_service.api.query import query_pairs

QUERIES = [
    b"",
    b"lat=54.8&lon=9.4",
    b"lat=54.8&&lon=9.4&",
    b"a&b=&=c&d=1=2",
    b"q=M%C3%BChle+Hafen&limit=5",
    b"q=%ZZ&x=%2",
    b"category=a,b&category=c",
    b"q=a+b",
    b"q=%E4",
    b"name=\xe4",
    b"lat=1;lon=2",
]


def _random_query(rng: random.Random) -> bytes:
    alphabet = "ab=&+%;,.-_~/?é0123456789AFaf"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))).encode("utf-8")


def test_query_pairs_equal_starlettes_query_params() -> None:
    rng = random.Random(11)
    for raw in [*QUERIES, *(_random_query(rng) for _ in range(3000))]:
        assert query_pairs(raw) == QueryParams(raw).multi_items(), raw


def _scope(**kw: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/places/nearby",
        "root_path": "",
        "query_string": b"lat=1&lon=2",
        "headers": [(b"host", b"example.test:8000")],
        "server": ("127.0.0.1", 8000),
    }
    return {**scope, **kw}


@pytest.mark.parametrize(
    "scope",
    [
        _scope(),
        _scope(query_string=b""),
        _scope(query_string=b"q=M%C3%BChle+x&y=%3Cb%3E"),
        _scope(headers=[]),
        _scope(headers=[], server=("::1", 8000)),
        _scope(headers=[], server=("127.0.0.1", 80)),
        _scope(headers=[], server=None),
        _scope(scheme="https", headers=[(b"host", b"example.test:443")]),
        _scope(headers=[(b"host", b"[::1]:8000")]),
        _scope(headers=[(b"host", b"bad host/<x>")]),
        _scope(headers=[(b"host", b"example.test:99999")]),
        _scope(headers=[(b"accept", b"*/*"), (b"host", b"second.test")]),
        _scope(path="/prefix/places/nearby", root_path="/prefix"),
        _scope(path="/a?b#c\\d"),
        _scope(path="//evil.test/places"),
        _scope(path="//x", headers=[], server=None),
    ],
)
def test_request_url_equals_starlettes(scope: dict[str, Any]) -> None:
    request = Request(scope)
    assert request_url(request) == str(request.url)
