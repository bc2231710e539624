"""Builders of realistic test records (seeded, reproducible) around Harrislee and Flensburg."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import numpy as np

from poi_service.boundaries import Boundaries
from poi_service.models import (
    Address,
    Alliance,
    DatePrecision,
    Geocoding,
    MembershipData,
    Municipality,
    PlaceData,
    Point,
    Precision,
    Role,
)
from tests.conftest import DATA_DIR

CATEGORIES = ("stolperstein", "driving_school", "church", "school", "accessible_parking", "artwork")
WORDS = ("Nord", "Süd", "Hafen", "Markt", "Straße", "Förde", "Mühle", "Garten", "Linde", "Kirch")
# Harrislee/Flensburg with a margin into Denmark and the Förde.
AREA = (9.25, 54.72, 9.55, 54.86)
GEOCODED = Geocoding("input", Precision.EXACT, 1.0, datetime(2026, 1, 1, tzinfo=UTC))


def random_places(n: int, seed: int = 7) -> list[PlaceData]:
    """n places at random points, ags computed from the shipped boundaries."""
    rng = random.Random(seed)
    lons = np.array([rng.uniform(AREA[0], AREA[2]) for _ in range(n)])
    lats = np.array([rng.uniform(AREA[1], AREA[3]) for _ in range(n)])
    ags = Boundaries.load(DATA_DIR).municipality_ags(lons, lats)
    places = []
    for i in range(n):
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {i}"
        places.append(
            PlaceData(
                name=name,
                category=rng.choice(CATEGORIES),
                address=Address(f"{rng.choice(WORDS)}weg", str(rng.randint(1, 99)), None, None, ags[i]),
                point=Point(float(lons[i]), float(lats[i])),
                geocoding=GEOCODED,
                description=rng.choice((None, "Gedenkort", "Kunst am Bau")),
                external_key=f"test:{seed}:{i}",
            )
        )
    return places


def membership(name: str, alliance: Alliance, lon: float, lat: float, **kw: object) -> MembershipData:
    """A membership with sensible defaults."""
    joined = kw.pop("joined", date(2019, 6, 14))
    return MembershipData(
        municipality=Municipality(
            name,
            str(kw.pop("kind", "Stadt")),
            str(kw.pop("country", "DE")),
            kw.pop("ags", None),
            kw.pop("state", None),
            None,
        ),  # type: ignore[arg-type]
        alliance=alliance,
        role=kw.pop("role", Role.MEMBER),  # type: ignore[arg-type]
        point=Point(lon, lat),
        geocoding=GEOCODED,
        joined=joined,  # type: ignore[arg-type]
        joined_precision=kw.pop("joined_precision", DatePrecision.DAY if joined else None),  # type: ignore[arg-type]
        source_url="https://example.org/source",
    )
