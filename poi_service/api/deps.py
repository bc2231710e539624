"""Typed FastAPI dependencies: the app's settings, store, vocabulary and geocoder live on app.state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from poi_service.api.rendered import FeatureCache
from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.geocode.base import Geocoder
from poi_service.store import Store


@dataclass
class Services:
    """Everything a request handler may need, built once by create_app."""

    settings: Settings
    store: Store
    vocabulary: Vocabulary
    geocoder: Geocoder
    features: FeatureCache = field(init=False)

    def __post_init__(self) -> None:
        self.features = FeatureCache(self.vocabulary)


def services_of(request: Request) -> Services:
    """The services of the running app (hot routes call this instead of resolving a dependency)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The services as a dependency (async: a plain def dependency costs a threadpool hop per request)."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
