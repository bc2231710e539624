"""Domain errors: each carries an HTTP status and a stable machine code; the API renders them as RFC 9457."""

from __future__ import annotations

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
