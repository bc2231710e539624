"""Domain errors: each carries an HTTP status and a stable machine code; the API renders them as RFC 9457."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field


@dataclass
class InvalidParam:
    """One bad input: the parameter (or field) and why it was refused."""

    name: str
    reason: str


@dataclass
class PoiError(Exception):
    """Base of every error the service reports to a client."""

    detail: str
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"
    invalid_params: list[InvalidParam] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (WWW-Authenticate)

    def __str__(self) -> str:
        return self.detail


class InvalidInput(PoiError):
    """A request or record that breaks a documented rule."""

    def __init__(self, detail: str, params: list[InvalidParam] | None = None) -> None:
        super().__init__(detail, 400, "invalid-parameter", "Invalid parameter", params or [])


def invalid(name: str, reason: str) -> InvalidInput:
    """Shortcut for an error about one parameter."""
    return InvalidInput(f"{name}: {reason}", [InvalidParam(name, reason)])


class NotFound(PoiError):
    """No record, area or resource by that key."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 404, "not-found", "Not found")


class Conflict(PoiError):
    """The write clashes with the stored state (e.g. a duplicate key)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 409, "conflict", "Conflict")


class Unauthorized(PoiError):
    """No API key, or one that is unknown or revoked (RFC 6750 challenge in WWW-Authenticate)."""

    def __init__(self, detail: str, error: str | None = None) -> None:
        challenge = 'Bearer realm="poi-service"' + (f', error="{error}"' if error else "")
        super().__init__(detail, 401, "unauthorized", "Unauthorized", [], {"WWW-Authenticate": challenge})


class Forbidden(PoiError):
    """A valid API key whose role does not allow the action."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 403, "forbidden", "Forbidden")


class PreconditionFailed(PoiError):
    """The client's version (If-Match, expected_version) is not the stored one: someone wrote first."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 412, "precondition-failed", "Precondition failed")


class PreconditionRequired(PoiError):
    """A write that could overwrite another one came without If-Match."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 428, "precondition-required", "Precondition required")


class Unprocessable(PoiError):
    """Well-formed fields the service cannot act on (e.g. an address the geocoder cannot locate)."""

    def __init__(self, detail: str, params: list[InvalidParam] | None = None) -> None:
        super().__init__(detail, 422, "unprocessable", "Unprocessable content", params or [])


class PayloadTooLarge(PoiError):
    """The request body is over the documented limit."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 413, "payload-too-large", "Payload too large")


class ImportFailed(PoiError):
    """An import was refused as a whole; nothing was written."""

    def __init__(self, detail: str, params: list[InvalidParam] | None = None) -> None:
        super().__init__(detail, 422, "import-failed", "Import failed", params or [])


class GeocoderUnavailable(PoiError):
    """The configured online geocoder could not be reached."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 503, "geocoder-unavailable", "Geocoder unavailable")


class Unavailable(PoiError):
    """The service cannot do this right now (busy, or its store is locked, full or away); retry later."""

    def __init__(self, detail: str, retry_after_s: int = 5, code: str = "unavailable") -> None:
        headers = {"Retry-After": str(retry_after_s)}
        super().__init__(detail, 503, code, "Service unavailable", [], headers)


# sqlite3.OperationalError messages of faults that pass: another process's lock, a full, failing or
# read-only disk. Anything else (a malformed file, a bug) stays a 500.
_SQLITE_FAULTS = (
    ("locked", "the store is locked by another process"),
    ("busy", "the store is locked by another process"),
    ("full", "the store's disk is full"),
    ("readonly", "the store is read-only"),
    ("read-only", "the store is read-only"),
    ("disk i/o", "the store's disk failed to read or write"),
    ("unable to open", "the store cannot be opened"),
)


def unavailable_for(exc: BaseException) -> Unavailable | None:
    """A 503 (with Retry-After) for a store fault that may pass, else None."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        for needle, why in _SQLITE_FAULTS:
            if needle in text:
                return Unavailable(f"{why}; nothing was changed, try again later", 5, "store-unavailable")
        return None
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:  # the PostGIS extra is not installed
        return None
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | PoolTimeout):
        return Unavailable(
            "the database server cannot be reached; nothing was changed, try again later",
            5,
            "store-unavailable",
        )
    return None


def store_fault_types() -> tuple[type[BaseException], ...]:
    """The exception types unavailable_for may turn into a 503 (the API handles them itself)."""
    types: list[type[BaseException]] = [sqlite3.OperationalError]
    try:
        import psycopg
        from psycopg_pool import PoolTimeout
    except ImportError:
        return tuple(types)
    return (*types, psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
