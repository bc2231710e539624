"""Fields.text's fast path for plain printable cells gives the full checks' answer for every character."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from poi_service.errors import InvalidParam
from poi_service.ingest.build import PROVENANCE_COLUMNS, given_geocoding
from poi_service.ingest.validate import BLANK_LETTERS, Fields
from poi_service.models import Geocoding, Precision
from tests.ingest.test_import_equal import Cell


def both(text: str, max_len: int = 200, multiline: bool = False) -> tuple[object, object]:
    """(fast, full) answers for one cell: the value (or None) and the errors."""
    fast, full = Fields({"x": text}), Fields({"x": Cell(text)})
    a = (fast.text("x", max_len, multiline=multiline), [(e.name, e.reason) for e in fast.errors])
    b = (full.text("x", max_len, multiline=multiline), [(e.name, e.reason) for e in full.errors])
    return a, b


def test_every_character_alone_and_after_a_letter() -> None:
    codes = [*range(0x30000), *range(0x30000, sys.maxunicode + 1, 97)]
    for code in codes:
        c = chr(code)
        for text in (c, "a" + c, c + "a", f" {c} "):
            for multiline in (False, True):
                fast, full = both(text, multiline=multiline)
                assert fast == full, (hex(code), text, multiline)


def test_lengths_blanks_and_fillers() -> None:
    for text in (
        "",
        "   ",
        "x" * 200,
        "x" * 201,
        " " + "x" * 200 + " ",
        *BLANK_LETTERS,
        "\u3164a",
        "a\u3164",
    ):
        fast, full = both(text)
        assert fast == full, text
    assert both("x" * 201)[0] == (None, [("x", "must be at most 200 characters, got 201")])


def test_missing_columns_are_blank() -> None:
    for raw in ({}, {"x": None}, {"x": float("nan")}, {"x": ""}, {"x": Cell("")}):
        optional, required = Fields(raw), Fields(raw)
        assert optional.text("x") is None and optional.errors == []
        assert required.text("x", required=True) is None
        assert [(e.name, e.reason) for e in required.errors] == [("x", "is required")]


def test_rows_without_provenance_columns_are_input_exact() -> None:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    blank = {c: Cell("") for c in PROVENANCE_COLUMNS}
    errors: list[InvalidParam] = []
    assert given_geocoding({}, at, errors, "line 2") == given_geocoding(blank, at, errors, "line 2")
    assert given_geocoding({}, at, errors, "line 2") == Geocoding("input", Precision.EXACT, 1.0, at)
    assert errors == []
