"""Imports a CSV, GeoJSON or GeoPackage file: every row checked and geocoded first, then one atomic write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from poi_service.categories import Vocabulary
from poi_service.config import DEFAULT_DATA_DIR
from poi_service.errors import ImportFailed
from poi_service.geocode.base import Geocoder
from poi_service.geocode.world import gc_paused
from poi_service.ingest import overlap
from poi_service.ingest.build import PROVENANCE_COLUMNS, Progress, RawRow, build_places, no_progress
from poi_service.ingest.members import build_memberships
from poi_service.ingest.readers import Table, read_table
from poi_service.models import Geocoding, MembershipData, PlaceData
from poi_service.store import ImportPlan, Store

Kind = Literal["places", "memberships"]
KINDS: tuple[Kind, ...] = ("places", "memberships")
PROVENANCE = PROVENANCE_COLUMNS
COLUMNS: dict[Kind, tuple[str, ...]] = {
    "places": (
        "name",
        "category",
        "street",
        "housenumber",
        "postcode",
        "locality",
        "phone",
        "website",
        "description",
        "lat",
        "lon",
        "geometry",
        "source",
        "source_url",
        "external_key",
        *PROVENANCE,
        "opening_hours",
        "wheelchair",
        "names",
        "osm_version",
        "osm_timestamp",
    ),
    "memberships": (
        "name",
        "kind",
        "state",
        "country",
        "alliance",
        "joined",
        "role",
        "source_url",
        "lat",
        "lon",
        "geometry",
        "external_key",
        *PROVENANCE,
    ),
}
# Columns of our own exports that an import recomputes (not reported as ignored).
DERIVED = frozenset(
    {
        "id",
        "wkt",
        "ags",
        "address",
        "district",
        "category_label",
        "category_label_en",
        "phone_display",
        "joined_date",
        "joined_precision",
        "distance_m",
        "created_at",
        "updated_at",
    }
)
REQUIRED: dict[Kind, tuple[str, ...]] = {"places": ("name", "category"), "memberships": ("name", "alliance")}
T = TypeVar("T", PlaceData, MembershipData)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    path: str
    kind: Kind
    rows: int
    new: int  # external keys not in the store yet
    updated: int  # rows changing the stored record with the same external key
    unchanged: int  # rows equal to their stored record (geocoded_at aside): the store skips them
    written: int  # records added or changed (new + updated); 0 on a dry run
    dry_run: bool
    precision: dict[str, int] = field(default_factory=dict)  # geocoding precision -> rows
    ignored_columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (for --json)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "rows": self.rows,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "written": self.written,
            "dry_run": self.dry_run,
            "precision": self.precision,
            "ignored_columns": list(self.ignored_columns),
        }


def precision_counts(geocodings: Sequence[Geocoding]) -> dict[str, int]:
    """Rows per precision, best precision first."""
    counts = Counter(g.precision for g in geocodings)
    return {p.value: counts[p] for p in sorted(counts, key=lambda p: p.rank)}


def check_columns(table: Table, kind: Kind, name: str) -> tuple[str, ...]:
    """Refuses a file without the required columns; returns the columns it will ignore."""
    missing = [c for c in REQUIRED[kind] if c not in table.columns]
    if missing:
        raise ImportFailed(f"{name}: missing column(s) {', '.join(missing)} for {kind}")
    return tuple(sorted(table.columns - set(COLUMNS[kind]) - DERIVED))


def source_alias(rows: list[RawRow]) -> list[RawRow]:
    """Places accept 'source_url' (the shipped CSV's column) where 'source' is absent."""
    out = []
    for row in rows:
        fields = row.fields
        if fields.get("source") in (None, "") and fields.get("source_url") not in (None, ""):
            fields = {**fields, "source": fields["source_url"]}
            row = RawRow(row.where, fields, row.problems)
        out.append(row)
    return out


def import_file(
    store: Store,
    path: Path,
    geocoder: Geocoder,
    *,
    dry_run: bool = False,
    kind: Kind = "places",
    progress: Progress = no_progress,
    data_dir: Path = DEFAULT_DATA_DIR,
    vocabulary: Vocabulary | None = None,
    layer: str | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Checks and geocodes every row, then writes all of them in one transaction (or nothing).

    actor (an API key id, 'cli') goes to the history: one 'import' change per changed record.
    """
    if kind not in KINDS:
        raise ImportFailed(f"unknown kind {kind!r}; use places or memberships")
    # The rows' objects hold no cycles: the collector would rescan millions of them to free nothing.
    with gc_paused():
        return _import(store, path, geocoder, dry_run, kind, progress, data_dir, vocabulary, layer, actor)


def _import(
    store: Store,
    path: Path,
    geocoder: Geocoder,
    dry_run: bool,
    kind: Kind,
    progress: Progress,
    data_dir: Path,
    vocabulary: Vocabulary | None,
    layer: str | None,
    actor: str | None,
) -> ImportReport:
    table = read_table(path, layer, prefer=kind)
    ignored = check_columns(table, kind, path.name)
    if not table.rows:
        raise ImportFailed(f"{path.name} holds no records")
    at = datetime.now(UTC)
    what = f"import of {path.name}"
    if kind == "places":
        rows = source_alias(table.rows)
        vocabulary = vocabulary or Vocabulary.load()
        if not dry_run and overlap.can_overlap(rows, geocoder):
            done, plan = overlap.import_places(
                store, rows, geocoder, vocabulary, data_dir, at=at, what=what, progress=progress, actor=actor
            )
            return _report(path, kind, done, plan, dry_run, ignored)
        places = build_places(rows, geocoder, vocabulary, data_dir, at=at, what=what, progress=progress)
        report = _report(path, kind, places, store.places.plan(places), dry_run, ignored)
        if not dry_run:
            write_places(store, places, progress, actor)
        return report
    members = build_memberships(table.rows, geocoder, data_dir, at=at, what=what, progress=progress)
    report = _report(path, kind, members, store.memberships.plan(members), dry_run, ignored)
    if not dry_run:
        write_memberships(store, members, progress, actor)
    return report


def tracked(rows: Sequence[T], progress: Progress) -> Iterator[T]:
    """Yields rows, reporting each one written."""
    for i, row in enumerate(rows, start=1):
        yield row
        progress("write", i, len(rows))


def write_places(
    store: Store, rows: Sequence[PlaceData], progress: Progress = no_progress, actor: str | None = None
) -> int:
    """Upserts places in one transaction."""
    with store.transaction():
        return store.places.add_many(tracked(rows, progress), actor=actor)


def write_memberships(
    store: Store, rows: Sequence[MembershipData], progress: Progress = no_progress, actor: str | None = None
) -> int:
    """Upserts memberships in one transaction."""
    with store.transaction():
        return store.memberships.add_many(tracked(rows, progress), actor=actor)


def _report(
    path: Path,
    kind: Kind,
    data: Sequence[PlaceData] | Sequence[MembershipData],
    plan: ImportPlan,
    dry_run: bool,
    ignored: tuple[str, ...],
) -> ImportReport:
    """What writing data will do, as the store plans it (the rows it would add, change or leave alone)."""
    return ImportReport(
        path=str(path),
        kind=kind,
        rows=len(data),
        new=plan.new,
        updated=plan.updated,
        unchanged=plan.unchanged,
        written=0 if dry_run else plan.new + plan.updated,
        dry_run=dry_run,
        precision=precision_counts([d.geocoding for d in data]),
        ignored_columns=ignored,
    )
