"""The services a request handler (HTTP or OGC) may need, built once by create_app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.features.cache import FeatureCache
from poi_service.features.shared import SharedFeatures, shared_features
from poi_service.geocode.base import Geocoder
from poi_service.maps.cache import PayloadCache
from poi_service.maps.open_state import OpenStates
from poi_service.maps.persist import payload_cache
from poi_service.store import Store


@dataclass
class Services:
    """Everything a request handler may need, built once by create_app."""

    settings: Settings
    store: Store
    vocabulary: Vocabulary
    geocoder: Geocoder
    features: FeatureCache = field(init=False)
    shared: SharedFeatures | None = field(
        init=False
    )  # rendered features per data version (features/shared.py)
    maps: PayloadCache = field(init=False)  # prepared map payloads (maps/cache.py)
    maps_open: OpenStates = field(init=False, default_factory=OpenStates)  # their opening state now
    server: bool = False  # a server process (app_from_env): start-up objects are frozen (memory.settle)
    # Derived data kept per app, keyed on the store's change counters: {collection id: (version, extent)}.
    extents: dict[str, tuple[int, Any]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.features = FeatureCache(self.vocabulary)
        self.shared = shared_features(self.settings, self.store, self.vocabulary)
        self.maps = payload_cache(self.store)
