"""HTML safety helpers: JSON for inline <script> blocks, linkified plain text, and the page CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from typing import Any
from urllib.parse import urlsplit

import orjson

_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
_URL = re.compile(r"https?://[^\s<>\"'`]+[^\s<>\"'`.,;:)\]]")
_INLINE = re.compile(r"<(script|style)(\s[^>]*)?>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_ORIGIN = re.compile(r"^(https?://)?(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")


def script_json(value: Any) -> str:
    """JSON that is safe inside <script>: no '</script>', '<!--', '&' or line separators can appear raw.

    <, > and & occur in JSON only inside strings, where the \\u escapes mean the same characters.
    """
    return script_safe(orjson.dumps(value).decode("utf-8"))


def script_safe(json_text: str) -> str:
    """Serialised JSON made safe for a <script> block (see script_json)."""
    return json_text.translate(_SCRIPT_UNSAFE)


def http_url(value: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None (no javascript:, data:, ...)."""
    if not value:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        return None
    return text


def linkify(text: str) -> str:
    """Escaped HTML of plain text whose http(s) URLs become links."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = http_url(match.group(0))
        out.append(escape(text[last : match.start()]))
        if url is None:
            out.append(escape(match.group(0)))
        else:
            out.append(f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank">{escape(url)}</a>')
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def tile_source(tile_url: str) -> str | None:
    """The CSP source of an XYZ tile template: https://{s}.tile.example/{z}/{x}/{y}.png -> https://*.tile.example."""
    try:
        parts = urlsplit(tile_url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = re.sub(r"^\{[a-z]+\}\.", "*.", parts.netloc)
    if "{" in host or not _ORIGIN.match(host):
        return None
    return f"{parts.scheme}://{host}"


def tile_host(tile_url: str) -> str:
    """The host of the operator's POI_TILE_URL, named in the consent text ('tiles.example.org')."""
    source = tile_source(tile_url) or ""
    return source.split("://", 1)[-1].removeprefix("*.")


def _hash(content: str) -> str:
    digest = hashlib.sha256(content.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def inline_hashes(html: str) -> tuple[list[str], list[str]]:
    """CSP hashes of the executable inline scripts and of the inline styles of a page."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in _INLINE.finditer(html):
        tag, attrs, body = match.group(1).lower(), (match.group(2) or "").lower(), match.group(3)
        if tag == "style":
            styles.append(_hash(body))
        elif "src=" not in attrs and "application/json" not in attrs:
            scripts.append(_hash(body))
    return scripts, styles


def frame_sources(origins: list[str]) -> str:
    """frame-ancestors value: 'self' plus the configured origins that are well-formed."""
    allowed = [o.strip().rstrip("/") for o in origins if _ORIGIN.match(o.strip().rstrip("/"))]
    return " ".join(["'self'", *allowed])


def content_security_policy(
    html: str, *, tile_url: str = "", frame_ancestors: str | None = "'self'", self_source: str = "'self'"
) -> str:
    """A strict CSP for a map page: own scripts and styles plus the hashes of its inline blocks,
    images from itself, data: URIs and the configured tile host; framing as given (None: no directive,
    for a <meta> CSP where frame-ancestors is ignored)."""
    scripts, styles = inline_hashes(html)
    tiles = tile_source(tile_url) if tile_url else None
    img = " ".join(s for s in (self_source, "data:", tiles) if s)
    directives = [
        "default-src 'none'",
        f"script-src {' '.join([self_source, *scripts])}",
        f"style-src {' '.join([self_source, *styles])}",
        f"img-src {img}",
        f"connect-src {self_source}",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
    if frame_ancestors is not None:
        directives.append(f"frame-ancestors {frame_ancestors}")
    return "; ".join(directives)
