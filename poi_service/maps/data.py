"""Compact map data: places as columns (about 50 bytes a place), memberships as small records.

The columnar form keeps a 100k-place page small; the browser builds markers, popups and list entries
from it on demand. Every text stays plain text here: the client puts it into the DOM with textContent.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from poi_service.boundaries import Boundaries, Level, fold
from poi_service.categories import Vocabulary
from poi_service.maps.html import http_url
from poi_service.maps.i18n import ALLIANCE, APPROXIMATE, PRECISION, ROLE
from poi_service.models import Alliance, Membership, Place, Precision, format_partial_date
from poi_service.phone import din5008
from poi_service.store import Near, PlaceFilter, Query, Store

# Darker tones of a qualitative palette: each keeps 3:1 contrast against the light basemap (WCAG 1.4.11).
PALETTE = (
    "#0b5fa5",
    "#c0392b",
    "#1e7b34",
    "#7b3fa0",
    "#8a5a00",
    "#b0306f",
    "#00707a",
    "#4d4d4d",
    "#a34700",
    "#3949ab",
    "#6b7d00",
    "#8e1b1b",
    "#006e4f",
    "#5c3d99",
    "#7a4e2d",
)
# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
ALLIANCE_COLOURS = {
    Alliance.BUENDNIS.value: "#0072b2",
    Alliance.INTERNATIONAL.value: "#d55e00",
    Alliance.SEEBRUECKE_DECLARED.value: "#009e73",
}
PRECISIONS = [p.value for p in Precision]
DESCRIPTION_MAX = 500
PREC_BASE = 8


def _safe_phone(e164: str) -> str | None:
    try:
        return din5008(e164)
    except Exception:  # a malformed stored number is shown as stored
        return None


def _sort_key(name: str) -> tuple[bytes, str]:
    """Case- and accent-insensitive order ('Ärztehaus' next to 'Arzt'), fast enough for 100k names."""
    folded = name.casefold()
    if folded.isascii():  # NFKD would change nothing
        return folded.encode("ascii"), name
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore"), name


def _pair(first: str | None, second: str | None) -> str:
    if first and second:
        return f"{first} {second}"
    return first or second or ""


def categories_table(vocabulary: Vocabulary) -> list[dict[str, str]]:
    """Every vocabulary category with its labels and marker colour (index = code in the rows)."""
    return [
        {"slug": c.slug, "de": c.label_de, "en": c.label_en, "color": PALETTE[i % len(PALETTE)]}
        for i, c in enumerate(vocabulary.categories)
    ]


def places_payload(places: Iterable[Place], vocabulary: Vocabulary) -> dict[str, Any]:
    """Places as parallel columns plus sparse columns for the optional fields, sorted by name (the list's
    default order, so the browser need not sort 100k names). kp = category * PREC_BASE + precision;
    addresses are split into street and a shared table of 'postcode locality' strings."""
    ordered = sorted(places, key=lambda p: _sort_key(p.name))
    cats = categories_table(vocabulary)
    code = {c["slug"]: i for i, c in enumerate(cats)}
    prec_code = {p: i for i, p in enumerate(PRECISIONS)}
    lon: list[float] = []
    lat: list[float] = []
    kp: list[int] = []
    name: list[str] = []
    street: list[str] = []
    town: list[int] = []
    towns: dict[str, int] = {}
    phone: list[list[Any]] = []
    web: list[list[Any]] = []
    desc: list[list[Any]] = []
    src: list[list[Any]] = []
    oh: list[list[Any]] = []  # raw opening_hours; their state at a time comes from /maps/places/open.json
    wc: list[list[Any]] = []
    for i, p in enumerate(ordered):
        if p.category not in code:  # a slug from an operator vocabulary file that is gone now
            code[p.category] = len(cats)
            cats.append(
                {
                    "slug": p.category,
                    "de": p.category,
                    "en": p.category,
                    "color": PALETTE[len(cats) % len(PALETTE)],
                }
            )
        a = p.address
        lon.append(round(p.point.lon, 5))
        lat.append(round(p.point.lat, 5))
        kp.append(code[p.category] * PREC_BASE + prec_code[p.geocoding.precision.value])
        name.append(p.name)
        street.append(_pair(a.street, a.housenumber))
        place = _pair(a.postcode, a.locality)
        town.append(towns.setdefault(place, len(towns)))
        if p.phone:
            phone.append([i, p.phone, _safe_phone(p.phone) or p.phone])
        if url := http_url(p.website):
            web.append([i, url])
        if p.description:
            desc.append([i, p.description[:DESCRIPTION_MAX]])
        if p.source:
            src.append([i, p.source])
        if p.opening_hours:
            oh.append([i, p.opening_hours])
        if p.wheelchair:
            wc.append([i, p.wheelchair])
    return {
        "v": 2,
        "n": len(lon),
        "categories": cats,
        "precisions": PRECISIONS,
        "approximate": sorted(APPROXIMATE),
        "precision_labels": PRECISION,
        "prec_base": PREC_BASE,
        "lon": lon,
        "lat": lat,
        "kp": kp,
        "name": name,
        "street": street,
        "town": town,
        "towns": list(towns),
        "phone": phone,
        "web": web,
        "desc": desc,
        "src": src,
        "oh": oh,
        "wc": wc,
    }


def address(payload: dict[str, Any], i: int) -> str:
    """The one-line address of row i, as the browser composes it ('Süderstraße 101, 24955 Harrislee')."""
    return ", ".join(x for x in (payload["street"][i], payload["towns"][payload["town"][i]]) if x)


def select_places(store: Store, flt: PlaceFilter, near: Near | None = None) -> Iterator[Place]:
    """The places a map shows: every place, or those matching a filter and/or a circle."""
    if near is None and not flt.categories and not flt.text:
        yield from store.places.iter_all()
        return
    size = 10_000
    offset = 0
    while True:
        page = store.places.search(Query(flt, near=near, limit=size, offset=offset))
        yield from (h.record for h in page.hits)
        offset += size
        if offset >= page.total or not page.hits:
            return


def state_of(member: Membership, boundaries: Boundaries, states_by_name: dict[str, str]) -> str | None:
    """The 2-digit AGS of a German member's state (by AGS, state name, or position)."""
    m = member.municipality
    if m.country != "DE":
        return None
    if m.ags and len(m.ags) >= 2 and boundaries.get(m.ags[:2]) is not None:
        return m.ags[:2]
    if m.state and (ags := states_by_name.get(fold(m.state))):
        return ags
    chain = boundaries.containing(member.point.lon, member.point.lat)
    return chain[-1].ags if chain else None


def members_payload(members: Iterable[Membership], boundaries: Boundaries) -> dict[str, Any]:
    """Memberships as records with the state key the choropleth counts by."""
    states = [a for a in boundaries.areas if a.level == Level.STATE]
    by_name = {fold(a.name): a.ags for a in states}
    rows = []
    for m in members:
        mu = m.municipality
        rows.append(
            {
                "name": mu.name,
                "kind": mu.kind,
                "country": mu.country,
                "state": mu.state,
                "st": state_of(m, boundaries, by_name),
                "a": m.alliance.value,
                "r": m.role.value,
                "joined": format_partial_date(m.joined, m.joined_precision),
                "year": m.joined.year if m.joined else None,
                "src": http_url(m.source_url),
                "lon": round(m.point.lon, 5),
                "lat": round(m.point.lat, 5),
            }
        )
    rows.sort(key=lambda r: (fold(str(r["name"])), str(r["a"])))
    alliances = [
        {
            "code": a.value,
            "color": ALLIANCE_COLOURS[a.value],
            "de": ALLIANCE["de"][a.value],
            "en": ALLIANCE["en"][a.value],
        }
        for a in Alliance
    ]
    return {
        "v": 1,
        "alliances": alliances,
        "roles": ROLE,
        "rows": rows,
        "states": sorted(({"ags": a.ags, "name": a.name} for a in states), key=lambda s: s["ags"]),
    }
