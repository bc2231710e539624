"""The checks behind `poi-service data check`, run on the shipped CSV files (and optionally a store).

Errors (exit 1): rows without a source, exact duplicates, unparseable fields and dates, records that do
not geocode under the import's own rules, known non-members listed as members, a dataset larger than
the official count. Warnings: names resolved only by the state column, variant or typo matches, coarse
locations, undated or range-dated joins, partial counts, Bündnis members without a declaration row,
stale documented counts, and a store that does not match the files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed, InvalidParam
from poi_service.geocode import member_query
from poi_service.geocode.base import Geocoder
from poi_service.ingest.build import RawRow, build_places, member_key
from poi_service.ingest.importer import source_alias
from poi_service.ingest.members import build_memberships
from poi_service.ingest.seed import MEMBERS_FILE, PLACES_FILE
from poi_service.ingest.validate import YEAR_RANGE, check_member, check_place
from poi_service.models import Alliance, Precision
from poi_service.quality.report import CountComparison, Finding, Severity
from poi_service.quality.traps import DISPUTED, MISSPELLINGS, NOT_BUENDNIS
from poi_service.store import Store

E, W = Severity.ERROR, Severity.WARNING
SOURCES_FILE = Path("SOURCES.md")
DOCUMENTED = re.compile(
    r"Partial: (\d+) of (\d+) Bündnis members, (\d+) of (\d+) IASH members, (\d+) of about (\d+) declarations"
)
CODES = {"joined": "bad-date", "source_url": "bad-source", "source": "bad-source"}


def key(text: str) -> str:
    """Case-, accent- and space-insensitive comparison key."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def line_of(where: str) -> int | None:
    """'line 7' -> 7."""
    found = re.search(r"\d+", where)
    return int(found.group()) if found else None


def _text(row: RawRow, name: str) -> str:
    value = row.fields.get(name)
    return "" if value is None else str(value).strip()


def _problems(file: str, row: RawRow, subject: str, problems: Iterable[InvalidParam]) -> list[Finding]:
    out = []
    for p in problems:
        field = p.name.split(":", 1)[-1].strip()
        out.append(
            Finding(
                E,
                CODES.get(field, "invalid-field"),
                file,
                line_of(row.where),
                subject,
                f"{field}: {p.reason}",
            )
        )
    return out


def _import_verdict(build: ImportFailed) -> str:
    return "; ".join(p.reason for p in build.invalid_params) or build.detail


def member_findings(rows: list[RawRow], geocoder: Geocoder, data_dir: Path) -> list[Finding]:
    """Checks every alliance row; geocodes each valid row with the import's own rules."""
    file, at = str(MEMBERS_FILE), datetime.now(UTC)
    out: list[Finding] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    for row in rows:
        name, line = _text(row, "name"), line_of(row.where)
        alliance, country = _text(row, "alliance").casefold(), (_text(row, "country") or "DE").upper()
        if not (_text(row, "source_url")):
            out.append(Finding(E, "missing-source", file, line, name, "no source_url"))
        dup = (key(name), alliance, country)
        if dup in seen:
            out.append(Finding(E, "duplicate", file, line, name, f"{alliance} row repeats line {seen[dup]}"))
        seen.setdefault(dup, line)
        joined = _text(row, "joined")
        if YEAR_RANGE.fullmatch(joined):
            out.append(Finding(W, "date-range", file, line, name, f"joined {joined!r} is stored as unknown"))
        out += _traps(file, line, name, alliance)
        fields, problems = check_member(row.fields)
        out += _problems(file, row, name, [*row.problems, *problems])
        if fields is None:
            continue
        try:
            build_memberships([row], geocoder, data_dir, at=at, what=file)
        except ImportFailed as exc:
            out.append(Finding(E, "unmatched-name", file, line, name, _import_verdict(exc)))
            continue
        out += _name_warnings(file, line, name, fields.kind, fields.state, fields.country, geocoder)
    return out


def _traps(file: str, line: int | None, name: str, alliance: str) -> list[Finding]:
    out = []
    if key(name) in MISSPELLINGS:
        out.append(Finding(E, "known-trap", file, line, name, f"misspelling of {MISSPELLINGS[key(name)]}"))
    if alliance == Alliance.BUENDNIS and key(name) in NOT_BUENDNIS:
        out.append(Finding(E, "known-non-member", file, line, name, NOT_BUENDNIS[key(name)]))
    if key(name) in DISPUTED:
        out.append(Finding(W, "disputed", file, line, name, DISPUTED[key(name)]))
    return out


def _name_warnings(
    file: str, line: int | None, name: str, kind: str, state: str | None, country: str, geocoder: Geocoder
) -> list[Finding]:
    with_state = geocoder.geocode(member_query(name, kind, state, country)).best
    if with_state is None:
        return []
    out = []
    if state:
        alone = geocoder.geocode(member_query(name, kind, None, country))
        if alone.best is None or alone.best.ags != with_state.ags:
            others = "; ".join(f"{c.label} ({c.state})" for c in alone.candidates[:5])
            out.append(
                Finding(
                    W,
                    "ambiguous-name",
                    file,
                    line,
                    name,
                    f"resolved only by state {state!r} to {with_state.label}; candidates: {others}",
                )
            )
    if with_state.confidence < 1.0:
        out.append(
            Finding(
                W,
                "variant-match",
                file,
                line,
                name,
                f"matched {with_state.label!r} ({with_state.precision.value}, "
                f"confidence {with_state.confidence:.2f})",
            )
        )
    return out


def coverage_findings(rows: list[RawRow]) -> list[Finding]:
    """Undated joins per alliance, and Bündnis members without a declaration row (a superset)."""
    file = str(MEMBERS_FILE)
    out: list[Finding] = []
    by_alliance: dict[str, list[RawRow]] = {}
    for row in rows:
        by_alliance.setdefault(_text(row, "alliance").casefold(), []).append(row)
    for alliance, members in by_alliance.items():
        undated = [r for r in members if not _text(r, "joined") or YEAR_RANGE.fullmatch(_text(r, "joined"))]
        if undated:
            out.append(
                Finding(
                    W,
                    "undated",
                    file,
                    None,
                    alliance,
                    f"{len(undated)} of {len(members)} rows have no usable join date",
                )
            )
    declared = {key(_text(r, "name")) for r in by_alliance.get(Alliance.SEEBRUECKE_DECLARED, [])}
    for row in by_alliance.get(Alliance.BUENDNIS, []):
        if key(_text(row, "name")) not in declared:
            out.append(
                Finding(
                    W,
                    "not-declared",
                    file,
                    line_of(row.where),
                    _text(row, "name"),
                    "Bündnis member without a seebruecke_declared row (declarations are a superset)",
                )
            )
    return out


def count_comparisons(rows: list[RawRow]) -> tuple[list[CountComparison], list[Finding]]:
    """Rows per alliance against OFFICIAL_TOTALS: partial is a warning, more than official an error."""
    from poi_service.analysis.official import OFFICIAL_TOTALS

    counts, out = [], []
    for alliance, official in OFFICIAL_TOTALS.items():
        n = sum(1 for r in rows if _text(r, "alliance").casefold() == alliance.value)
        counts.append(CountComparison(alliance.value, n, official.count, official.approximate, official.note))
        if n > official.count and not official.approximate:
            out.append(
                Finding(
                    E,
                    "count-exceeds-official",
                    str(MEMBERS_FILE),
                    None,
                    alliance.value,
                    f"{n} rows but the official count is {official.count}",
                )
            )
        elif n < official.count:
            out.append(
                Finding(
                    W,
                    "partial-count",
                    str(MEMBERS_FILE),
                    None,
                    alliance.value,
                    f"{n} of {'about ' if official.approximate else ''}{official.count} members listed",
                )
            )
    return counts, out


def documented_counts(data_dir: Path, counts: list[CountComparison]) -> list[Finding]:
    """SOURCES.md states the partial counts ('53 of 120 Bündnis members, ...'): they must match the file."""
    path = data_dir / SOURCES_FILE
    found = DOCUMENTED.search(path.read_text(encoding="utf-8")) if path.is_file() else None
    if found is None:
        return [
            Finding(W, "stale-docs", str(SOURCES_FILE), None, "counts", "no 'Partial: N of M ...' line found")
        ]
    stated = dict(
        zip(
            ("buendnis", "international", "seebruecke_declared"),
            (int(found.group(i)) for i in (1, 3, 5)),
            strict=True,
        )
    )
    return [
        Finding(
            W,
            "stale-docs",
            str(SOURCES_FILE),
            None,
            c.alliance,
            f"documents {stated[c.alliance]} rows, the file has {c.dataset}",
        )
        for c in counts
        if stated.get(c.alliance, c.dataset) != c.dataset
    ]


def place_findings(
    rows: list[RawRow], geocoder: Geocoder, data_dir: Path, vocabulary: Vocabulary | None = None
) -> list[Finding]:
    """Checks every place row: source, duplicates, fields, and that it geocodes (warns when coarse);
    categories against `vocabulary` (default: the shipped one)."""
    file, at, vocabulary = str(PLACES_FILE), datetime.now(UTC), vocabulary or Vocabulary.load()
    out: list[Finding] = []
    seen: dict[tuple[str, ...], int | None] = {}
    for row in source_alias(rows):
        name, line = _text(row, "name"), line_of(row.where)
        source = _text(row, "source")
        if not source:
            out.append(Finding(E, "missing-source", file, line, name, "no source_url"))
        elif "http://" not in source and "https://" not in source:
            out.append(
                Finding(W, "unconfirmed-source", file, line, name, f"source is not a web page: {source}")
            )
        dup = tuple(key(_text(row, f)) for f in ("name", "street", "housenumber", "locality"))
        if dup in seen:
            out.append(Finding(E, "duplicate", file, line, name, f"repeats line {seen[dup]}"))
        seen.setdefault(dup, line)
        fields, problems = check_place(row.fields, vocabulary)
        out += _problems(file, row, name, [*row.problems, *problems])
        if fields is None:
            continue
        try:
            (place,) = build_places([row], geocoder, vocabulary, data_dir, at=at, what=file)
        except ImportFailed as exc:
            out.append(Finding(E, "unmatched-address", file, line, name, _import_verdict(exc)))
            continue
        if place.geocoding.precision.rank >= Precision.MUNICIPALITY.rank:
            out.append(
                Finding(
                    W,
                    "coarse-location",
                    file,
                    line,
                    name,
                    f"no coordinates; located only to {place.geocoding.precision.value} level",
                )
            )
    return out


def store_findings(store: Store, rows: list[RawRow]) -> list[Finding]:
    """The store against the alliance file: rows missing from it, German members stored without AGS."""
    file = str(MEMBERS_FILE)
    stored = {m.external_key: m for m in store.memberships.iter_all()}
    out = []
    for row in rows:
        k = member_key(
            _text(row, "alliance").casefold(), (_text(row, "country") or "DE").upper(), _text(row, "name")
        )
        m = stored.get(k)
        if m is None:
            out.append(
                Finding(
                    W,
                    "not-in-store",
                    file,
                    line_of(row.where),
                    _text(row, "name"),
                    f"{k} is not in the store (run `poi-service init --force`)",
                )
            )
        elif m.municipality.country == "DE" and not m.municipality.ags:
            out.append(
                Finding(
                    W,
                    "no-ags",
                    file,
                    line_of(row.where),
                    _text(row, "name"),
                    "stored without a municipality key: population joins skip it",
                )
            )
    return out
