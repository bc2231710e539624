"""Data quality report of the shipped data (`poi-service data check`): check_data() and render_text()."""

from __future__ import annotations

from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed
from poi_service.geocode import OfflineGeocoder
from poi_service.geocode.base import Geocoder
from poi_service.ingest.build import RawRow
from poi_service.ingest.plausible import stored_doubts
from poi_service.ingest.readers import read_csv
from poi_service.ingest.seed import MEMBERS_FILE, PLACES_FILE
from poi_service.quality.checks import (
    count_comparisons,
    coverage_findings,
    documented_counts,
    member_findings,
    place_findings,
    store_findings,
)
from poi_service.quality.hours import hours_findings
from poi_service.quality.report import CountComparison, Finding, QualityReport, Severity, render_text
from poi_service.store import Store

__all__ = ["CountComparison", "Finding", "QualityReport", "Severity", "check_data", "render_text"]


def _rows(data_dir: Path, relative: Path, findings: list[Finding]) -> list[RawRow] | None:
    path = data_dir / relative
    if not path.is_file():
        findings.append(
            Finding(Severity.ERROR, "missing-file", str(relative), None, str(relative), "not found")
        )
        return None
    try:
        return read_csv(path).rows
    except ImportFailed as exc:
        reasons = "; ".join(f"{p.name}: {p.reason}" for p in exc.invalid_params)
        findings.append(
            Finding(
                Severity.ERROR,
                "unreadable",
                str(relative),
                None,
                str(relative),
                f"{exc.detail}{': ' + reasons if reasons else ''}",
            )
        )
        return None


def check_data(
    data_dir: Path,
    store: Store | None = None,
    geocoder: Geocoder | None = None,
    vocabulary: Vocabulary | None = None,
) -> QualityReport:
    """Checks the shipped alliance and places files (and, given a store, that it holds them).

    Geocodes offline by default, with the same rules as `poi-service init`; takes a few seconds.
    """
    data_dir = data_dir.resolve()
    geocoder = geocoder or OfflineGeocoder(data_dir)
    findings: list[Finding] = []
    counts: list[CountComparison] = []
    rows: dict[str, int] = {}
    members = _rows(data_dir, MEMBERS_FILE, findings)
    if members is not None:
        rows[str(MEMBERS_FILE)] = len(members)
        findings += member_findings(members, geocoder, data_dir)
        findings += coverage_findings(members)
        counts, count_issues = count_comparisons(members)
        findings += count_issues + documented_counts(data_dir, counts)
        if store is not None:
            findings += store_findings(store, members)
    if store is not None:
        findings += hours_findings(store)
    places = _rows(data_dir, PLACES_FILE, findings)
    if places is not None:
        rows[str(PLACES_FILE)] = len(places)
        findings += place_findings(places, geocoder, data_dir, vocabulary)
    if store is not None:  # edits made through the API with force=true, or before the check existed
        findings += [
            Finding(
                Severity.WARNING,
                "implausible-location",
                "store",
                None,
                f"{p.name} ({p.id})",
                f"{field}: {why}",
            )
            for p in store.places.iter_all()
            for field, why in stored_doubts(p, data_dir)
        ]
    findings.sort(key=lambda f: (f.severity is not Severity.ERROR, f.code, f.file, f.line or 0))
    return QualityReport(str(data_dir), rows, findings, counts, store.url if store else None)
