"""Places with opening hours and wheelchair values, for the store, API and map tests (synthetic)."""

from __future__ import annotations

import dataclasses
import random

from poi_service.models import PlaceData
from tests.factories import random_places

# Real-world shapes of the tag: day hours, across midnight, public holidays, seasons, unknown, broken.
HOURS = (
    "Mo-Fr 09:00-18:00",
    "Mo-Su 09:00-02:00",
    "Mo-Sa 10:00-20:00; PH off",
    "24/7",
    "Tu-Su 11:00-14:30,17:00-22:00",
    "Mo-Fr 08:00-12:00; We 14:00-18:00",
    "Apr-Oct Mo-Su 10:00-18:00",
    'Mo-Fr 10:00-16:00 unknown "call"',
    "Mo-Su 21:00-04:00",
    "Seasonal, only summer time",
    "Mo-Fr 9-17",
    None,
)
WHEELCHAIR = ("yes", "limited", "no", None)


def with_hours(n: int, seed: int = 11) -> list[PlaceData]:
    """random_places(n, seed) with hours and wheelchair values drawn from the lists above."""
    rng = random.Random(seed)
    return [
        dataclasses.replace(p, opening_hours=rng.choice(HOURS), wheelchair=rng.choice(WHEELCHAIR))
        for p in random_places(n, seed)
    ]
