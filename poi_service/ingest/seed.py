"""The shipped places and alliance members, geocoded honestly and loaded in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from poi_service.categories import Vocabulary
from poi_service.errors import ImportFailed
from poi_service.geocode.base import Geocoder
from poi_service.ingest.build import Progress, RawRow, build_places, no_progress
from poi_service.ingest.importer import precision_counts, source_alias, tracked
from poi_service.ingest.members import build_memberships
from poi_service.ingest.readers import read_csv
from poi_service.models import MembershipData, PlaceData
from poi_service.store import Store

PLACES_FILE = Path("places") / "harrislee_flensburg_places_sourced.csv"
MEMBERS_FILE = Path("alliance") / "members_sourced.csv"


@dataclass(frozen=True, slots=True)
class SeedReport:
    """Records loaded from the shipped data and their geocoding precision."""

    places: int
    memberships: int
    removed: int = 0  # records dropped first (init --force)
    precision: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> precision -> count


def _stage(progress: Progress, kind: str) -> Progress:
    def report(stage: str, done: int, total: int) -> None:
        progress(f"{stage} {kind}", done, total)

    return report


def _rows_of(data_dir: Path, relative: Path) -> list[RawRow]:
    path = data_dir / relative
    if not path.is_file():
        raise ImportFailed(f"shipped data missing: {path}")
    return read_csv(path).rows


def shipped_places(
    data_dir: Path, geocoder: Geocoder, *, at: datetime | None = None, progress: Progress = no_progress
) -> list[PlaceData]:
    """PlaceData for data/places/...csv; ImportFailed naming the line of any row that fails."""
    rows = source_alias(_rows_of(data_dir, PLACES_FILE))
    return build_places(
        rows,
        geocoder,
        Vocabulary.load(),
        data_dir,
        at=at or datetime.now(UTC),
        what=str(PLACES_FILE),
        progress=_stage(progress, "places"),
    )


def shipped_memberships(
    data_dir: Path, geocoder: Geocoder, *, at: datetime | None = None, progress: Progress = no_progress
) -> list[MembershipData]:
    """MembershipData for data/alliance/members_sourced.csv; ImportFailed naming any failing line."""
    return build_memberships(
        _rows_of(data_dir, MEMBERS_FILE),
        geocoder,
        data_dir,
        at=at or datetime.now(UTC),
        what=str(MEMBERS_FILE),
        progress=_stage(progress, "memberships"),
    )


def load_shipped(
    store: Store,
    data_dir: Path,
    geocoder: Geocoder,
    progress: Progress = no_progress,
    *,
    replace: bool = False,
) -> SeedReport:
    """Geocodes both files, then writes them in ONE transaction; replace drops every stored record first."""
    at = datetime.now(UTC)
    places = shipped_places(data_dir, geocoder, at=at, progress=progress)
    members = shipped_memberships(data_dir, geocoder, at=at, progress=progress)
    removed = 0
    with store.transaction():
        if replace:
            for place in list(store.places.iter_all()):
                store.places.delete(place.id, purge=True, actor="seed")
                removed += 1
            for member in list(store.memberships.iter_all()):
                store.memberships.delete(member.id, purge=True, actor="seed")
                removed += 1
        n_places = store.places.add_many(tracked(places, _stage(progress, "places")), actor="seed")
        n_members = store.memberships.add_many(
            tracked(members, _stage(progress, "memberships")), actor="seed"
        )
    precision = {
        "places": precision_counts([p.geocoding for p in places]),
        "memberships": precision_counts([m.geocoding for m in members]),
    }
    return SeedReport(n_places, n_members, removed, precision)
