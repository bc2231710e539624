"""Typed FastAPI dependencies: the app's services (poi_service.services) live on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from poi_service.services import Services

__all__ = ["Services", "ServicesDep", "get_services", "services_of"]


def services_of(request: Request) -> Services:
    """The services of the running app (hot routes call this instead of resolving a dependency)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The services as a dependency (async: a plain def dependency costs a threadpool hop per request)."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
