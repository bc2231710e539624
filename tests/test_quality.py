"""`poi-service data check`: the shipped data passes; each kind of broken row is an error (exit 1)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from poi_service.cli.quality import data_group
from poi_service.quality import QualityReport, Severity, check_data, render_text
from poi_service.store import Store, open_store
from tests.conftest import DATA_DIR
from tests.test_analysis import shipped_store  # noqa: F401  (session fixture)

MEMBERS = Path("alliance") / "members_sourced.csv"
PLACES = Path("places") / "harrislee_flensburg_places_sourced.csv"
# The shipped rows, counted: sourced additions to the file need no test edits.
ROWS = list(csv.DictReader((DATA_DIR / MEMBERS).open(encoding="utf-8", newline="")))
PER_ALLIANCE = {
    a: sum(1 for r in ROWS if r["alliance"] == a)
    for a in ("buendnis", "international", "seebruecke_declared")
}


@pytest.fixture(scope="module")
def shipped_report() -> QualityReport:
    return check_data(DATA_DIR)


def copy_data(target: Path) -> Path:
    """A data directory with copies of the CSV files and links to the large reference files."""
    for sub in ("boundaries", "gazetteer"):
        (target / sub).symlink_to(DATA_DIR / sub, target_is_directory=True)
    for rel in (MEMBERS, PLACES, Path("SOURCES.md")):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_DIR / rel, target / rel)
    return target


def append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    with path.open("a", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writerows({k: row.get(k, "") for k in header} for row in rows)


def member(name: str, alliance: str = "buendnis", **extra: str) -> dict[str, str]:
    row = {
        "name": name,
        "kind": "Stadt",
        "state": "",
        "country": "DE",
        "alliance": alliance,
        "joined": "2020",
        "role": "member",
        "source_url": "https://example.org/source",
    }
    return {**row, **extra}


def test_shipped_data_passes(shipped_report: QualityReport) -> None:
    assert shipped_report.errors == [], render_text(shipped_report)
    assert shipped_report.exit_code() == 0
    assert shipped_report.rows == {str(MEMBERS): len(ROWS), str(PLACES): 22}
    counts = {c.alliance: (c.dataset, c.official) for c in shipped_report.counts}
    official = {"buendnis": 120, "international": 36, "seebruecke_declared": 320}  # data/alliance/NOTES.md
    assert counts == {a: (PER_ALLIANCE[a], official[a]) for a in official}
    codes = {f.code for f in shipped_report.warnings}
    assert {"partial-count", "ambiguous-name", "undated"} <= codes
    oldenburg = [f for f in shipped_report.findings if f.code == "ambiguous-name"]
    assert {f.subject for f in oldenburg} == {"Oldenburg"}  # Oldenburg (Oldb) vs Oldenburg in Holstein
    assert shipped_report.exit_code(strict=True) == 1


def test_text_report(shipped_report: QualityReport) -> None:
    text = render_text(shipped_report)
    assert "buendnis" in text and f"{PER_ALLIANCE['buendnis']} of 120" in text
    assert text.splitlines()[-1].startswith("passed: 0 errors")


def test_each_broken_row_is_an_error(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    append_rows(
        data / MEMBERS,
        [
            member("Xyzzyhausen", state="Bayern"),  # unmatched-name (the first line after the shipped rows)
            member(
                "Kiel", state="Schleswig-Holstein", joined="2019-06-14"
            ),  # duplicate of Kiel's shipped row
            member(
                "Rostock", alliance="international", state="Mecklenburg-Vorpommern", joined="2021-13"
            ),  # bad-date
            member(
                "Bonn", alliance="international", state="Nordrhein-Westfalen", source_url=""
            ),  # missing-source... and duplicate
            member("Rotenburg am Neckar", state="Baden-Württemberg"),  # known-trap
            member("Celle", state="Niedersachsen"),  # known-non-member
        ],
    )
    append_rows(
        data / PLACES,
        [{"name": "Ohne Quelle", "category": "Kirche", "postcode": "24955", "locality": "Harrislee"}],
    )
    report = check_data(data)
    errors = {(f.code, f.subject) for f in report.errors}
    assert ("unmatched-name", "Xyzzyhausen") in errors
    assert ("duplicate", "Kiel") in errors and ("duplicate", "Bonn") in errors
    assert ("bad-date", "Rostock") in errors
    assert ("missing-source", "Bonn") in errors and ("missing-source", "Ohne Quelle") in errors
    assert ("known-trap", "Rotenburg am Neckar") in errors
    assert ("known-non-member", "Celle") in errors
    lines = {f.subject: f.line for f in report.errors if f.code == "unmatched-name"}
    assert lines["Xyzzyhausen"] == len(ROWS) + 2  # line 1 is the header
    assert report.exit_code() == 1
    assert {"stale-docs"} <= {f.code for f in report.warnings}  # SOURCES.md still states the shipped counts


def test_more_rows_than_official_is_an_error(tmp_path: Path) -> None:
    data = copy_data(tmp_path)
    append_rows(data / MEMBERS, [member("Napoli", alliance="international", country="IT")])  # a 37th IASH row
    report = check_data(data)
    assert ("count-exceeds-official", "international") in {(f.code, f.subject) for f in report.errors}


def test_store_check(tmp_path: Path, shipped_store: Store) -> None:  # noqa: F811
    assert not [f for f in check_data(DATA_DIR, shipped_store).findings if f.code == "not-in-store"]
    empty = open_store(str(tmp_path / "empty.gpkg"), DATA_DIR)
    try:
        report = check_data(DATA_DIR, empty)
    finally:
        empty.close()
    missing = [f for f in report.findings if f.code == "not-in-store"]
    assert len(missing) == len(ROWS) and all(f.severity is Severity.WARNING for f in missing)


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(data_group, ["check", "--data-dir", str(DATA_DIR), "--json"])
    assert ok.exit_code == 0, ok.output
    body = json.loads(ok.output)
    assert body["ok"] is True and body["errors"] == 0 and body["warnings"] > 0
    data = copy_data(tmp_path)
    append_rows(data / MEMBERS, [member("Xyzzyhausen", state="Bayern")])
    failed = runner.invoke(data_group, ["check", "--data-dir", str(data)])
    assert failed.exit_code == 1
    assert "unmatched-name" in failed.output and failed.output.rstrip().splitlines()[-1].startswith("FAILED")
