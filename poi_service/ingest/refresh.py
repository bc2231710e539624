"""Re-geocoding stored places whose point is coarser than the geocoder can give now (`geocode refresh`)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from poi_service.geocode.base import GeocodeQuery, Geocoder, GeocodeResult
from poi_service.ingest.build import MIN_CONFIDENCE
from poi_service.models import Place, PlaceData, Precision
from poi_service.store.base import Store

_DATA_FIELDS = tuple(f.name for f in dataclasses.fields(PlaceData))


@dataclass
class RefreshReport:
    """What a refresh looked at and changed."""

    checked: int = 0
    pinned: int = 0  # exact points (an editor's pin or input coordinates): never touched
    improved: Counter[str] = field(default_factory=Counter)  # 'postcode -> address': count
    unchanged: int = 0  # the geocoder gives nothing better now

    @property
    def changed(self) -> int:
        """Number of places that got a better point."""
        return sum(self.improved.values())

    def lines(self) -> list[str]:
        """A human-readable summary."""
        moves = ", ".join(f"{k} {v}" for k, v in sorted(self.improved.items())) or "none"
        return [
            f"checked {self.checked} places: {self.changed} improved ({moves}), {self.unchanged} unchanged, "
            f"{self.pinned} pinned (exact, untouched)"
        ]


def _better(place: Place, geocoder: Geocoder) -> GeocodeResult | None:
    a = place.address
    if not a.street or not (a.postcode or a.locality):
        return None  # without a street the index cannot place it finer than before
    query = GeocodeQuery(None, a.street, a.housenumber, a.postcode, a.locality, None, "DE")
    best = geocoder.geocode(query).best
    if (
        best is None
        or best.confidence < MIN_CONFIDENCE
        or best.precision.rank >= place.geocoding.precision.rank
    ):
        return None
    return best


def refresh_places(
    store: Store, geocoder: Geocoder, *, at: datetime, actor: str = "cli", dry_run: bool = False
) -> RefreshReport:
    """Re-geocodes every live place coarser than what the geocoder answers now, in one transaction;
    each change is a versioned update with its history entry by `actor`."""
    report = RefreshReport()
    places = list(store.places.iter_all())
    with store.transaction():
        for place in places:
            report.checked += 1
            if place.geocoding.precision == Precision.EXACT:
                report.pinned += 1
                continue
            best = _better(place, geocoder)
            if best is None:
                report.unchanged += 1
                continue
            report.improved[f"{place.geocoding.precision.value} -> {best.precision.value}"] += 1
            if dry_run:
                continue
            values = {name: getattr(place, name) for name in _DATA_FIELDS}
            ags = best.ags if best.ags and len(best.ags) == 8 else place.address.ags
            data = PlaceData(
                **{
                    **values,
                    "point": best.point,
                    "geocoding": best.provenance(at),
                    "address": dataclasses.replace(place.address, ags=ags),
                }
            )
            store.places.update(place.id, data, expected_version=place.version, actor=actor)
    return report
