"""Bearer API keys for the write routes: require_role(KeyRole.EDITOR) as a dependency.

Missing, malformed, unknown and revoked keys answer 401 with a WWW-Authenticate challenge; a
valid key without the role answers 403. The key is looked up on every request, so a revoked
key stops working at once on every worker and host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from poi_service import keys
from poi_service.api.deps import ServicesDep
from poi_service.errors import Forbidden, Unauthorized
from poi_service.models import KeyInfo, KeyRole

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="`Authorization: Bearer poi_<id>_<secret>`; create keys with `poi-service keys create`.",
)


def require_role(role: KeyRole) -> Callable[..., KeyInfo]:
    """A dependency that returns the request's key if it is valid and has the role (admin has all)."""

    def dependency(
        services: ServicesDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> KeyInfo:
        if credentials is None:
            raise Unauthorized("this action needs an API key: send Authorization: Bearer <key>")
        info = keys.authenticate(services.store, credentials.credentials)
        if info is None:
            raise Unauthorized("the API key is invalid or revoked", error="invalid_token")
        if not info.role.allows(role):
            raise Forbidden(f"this action needs the {role.value} role; key {info.id} has {info.role.value}")
        return info

    return dependency


def ensure_role(info: KeyInfo, role: KeyRole, action: str) -> None:
    """403 unless the key's role allows an action decided by a parameter (e.g. purge=true)."""
    if not info.role.allows(role):
        raise Forbidden(f"{action} needs the {role.value} role; key {info.id} has {info.role.value}")


EditorKey = Annotated[KeyInfo, Depends(require_role(KeyRole.EDITOR))]
AdminKey = Annotated[KeyInfo, Depends(require_role(KeyRole.ADMIN))]
