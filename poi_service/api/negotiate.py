"""Content and language negotiation for the pages: HTML for browsers, the visitor's language by default."""

from __future__ import annotations

from starlette.requests import Request

from poi_service.maps.i18n import LANGS, Lang


def _weighted(header: str) -> list[tuple[str, float]]:
    """(value, q) of an Accept-style header, in the order given."""
    out = []
    for part in header.split(","):
        value, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if value:
            out.append((value.casefold(), q))
    return out


def wants_html(request: Request) -> bool:
    """True when the client names text/html and ranks it at least as high as JSON (browsers do; curl,
    scripts and HTTP libraries sending */* or application/json get JSON)."""
    ranked = dict(_weighted(request.headers.get("accept", "")))
    html = ranked.get("text/html", 0.0)
    return html > 0 and html >= max(
        ranked.get("application/json", 0.0), ranked.get("application/geo+json", 0.0)
    )


def language(request: Request, given: Lang | None) -> Lang:
    """The `lang` parameter if given, else the best of de/en in Accept-Language, else German."""
    if given is not None:
        return given
    best: tuple[float, Lang] | None = None
    for value, q in _weighted(request.headers.get("accept-language", "")):
        primary = value.split("-")[0]
        if primary in LANGS and q > 0 and (best is None or q > best[0]):
            best = (q, primary)  # type: ignore[assignment]
    return best[1] if best else "de"
