"""Place features kept as JSON bytes, and collections assembled from them.

A page of 10 places costs ~60 µs to build as dicts and ~20 µs to serialise: as much as the store's
whole nearby query at 100k places. A record's content changes only with its version (every update,
delete, restore and import upsert bumps it), so its feature without `distance_m` is rendered once
per (id, version) and reused; the distance is spliced in as the last property. The bytes equal
orjson.dumps of the dict path (geojson.place_feature, links.collection): tests/api/test_rendered.py.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from datetime import datetime

import orjson

from poi_service.categories import Vocabulary
from poi_service.features.geojson import place_feature
from poi_service.models import Place
from poi_service.opening import hours_properties
from poi_service.store.base import Hit

CACHE_FEATURES = 32_768  # 0.7-1.5 KB each; as many as the store keeps decoded records


class FeatureCache:
    """Serialised place features by (id, version), for one vocabulary (it supplies the labels)."""

    def __init__(self, vocabulary: Vocabulary, size: int = CACHE_FEATURES) -> None:
        self.vocabulary = vocabulary
        self._size = size
        self._seen: OrderedDict[tuple[str, int], bytes] = OrderedDict()  # least recently used first

    def place(self, place: Place, distance_m: float | None = None, at: datetime | None = None) -> bytes:
        """The Feature of `place`, with properties.distance_m (rounded to cm) when given, and open /
        next_change at `at` when given (they change with the time: spliced in, never cached)."""
        key = (place.id, place.version)
        seen = self._seen
        head = seen.get(key)
        if head is not None:
            with suppress(KeyError):  # evicted meanwhile by another thread: still a valid answer
                seen.move_to_end(key)
        else:
            if len(seen) >= self._size:
                seen.popitem(last=False)
            head = seen[key] = self.head(place)
        if at is not None:
            head += b"," + orjson.dumps(hours_properties(place, at))[1:-1]
        return finish(head, distance_m)

    def head(self, place: Place) -> bytes:
        """The Feature's bytes without the closing "}}" of properties and feature (which also makes it
        a right-sized copy: orjson's own result holds a 4 KiB allocation whatever its length)."""
        return orjson.dumps(place_feature(place, self.vocabulary))[:-2]

    def places(self, hits: list[Hit[Place]], at: datetime | None = None) -> list[bytes]:
        """Features of a page of place hits (with open / next_change at `at` when given)."""
        return [self.place(h.record, h.distance_m, at) for h in hits]


def finish(head: bytes, distance_m: float | None) -> bytes:
    """A feature from its head (FeatureCache.head), with properties.distance_m rounded to cm when given."""
    if distance_m is None:
        return head + b"}}"
    return b'%b,"distance_m":%b}}' % (head, orjson.dumps(round(distance_m, 2)))
