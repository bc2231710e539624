"""Read-only commands: geocode, reverse, nearby."""

from __future__ import annotations

import click

from poi_service.categories import Vocabulary
from poi_service.cli.common import CliState, CoordinateCommand, echo_json, geocoder_for, guard_point
from poi_service.errors import NotFound, invalid
from poi_service.features.geojson import place_feature, result_feature
from poi_service.geocode.base import GeocodeQuery, GeocodeResult, ReverseResult
from poi_service.models import Point
from poi_service.store import Near, PlaceFilter, Query

MAX_TEXT = 200
REVERSE_FIELDS = (
    "country",
    "municipality",
    "municipality_ags",
    "district",
    "district_ags",
    "state",
    "state_ags",
    "postcode",
    "source",
)


def _describe(r: GeocodeResult) -> list[str]:
    area = ", ".join(p for p in (r.district, r.state) if p) or r.country
    ags = f" (AGS {r.ags})" if r.ags else ""
    return [
        r.label,
        f"  point:      {r.point.lat:.6f}, {r.point.lon:.6f} (lat, lon)",
        f"  precision:  {r.precision.value} (confidence {r.confidence:.2f}, {r.source})",
        f"  area:       {area}{ags}",
    ]


@click.command()
@click.argument("text")
@click.option(
    "--state", "state_name", help="State name or code that narrows the search ('Niedersachsen', 'NI')."
)
@click.option("--postcode", help="German postcode.")
@click.option("--country", help="ISO 3166-1 alpha-2 code (default: Germany first).")
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection.")
@click.pass_obj
def geocode(
    state: CliState,
    text: str,
    state_name: str | None,
    postcode: str | None,
    country: str | None,
    as_json: bool,
) -> None:
    """Locate an address or place name TEXT, with honest precision (best match first)."""
    if (
        len(text) > MAX_TEXT
    ):  # as GET /geocode's q: longer text names no address, and fuzzy matching it is slow
        raise invalid("text", f"at most {MAX_TEXT} characters, got {len(text)}")
    if country is not None and len(country.strip()) != 2:
        raise invalid("country", f"must be an ISO 3166-1 alpha-2 code such as DE, got {country!r}")
    query = GeocodeQuery(
        text.strip() or None,
        postcode=postcode,
        state=state_name,
        country=country.strip().upper() if country else None,
    )
    if query.is_empty():
        raise invalid("text", "give a place name or address")
    settings = state.settings()
    with state.store(settings) as store:
        geocoder = geocoder_for(settings, store)
        answer = geocoder.geocode(query)
    results = ([answer.best] if answer.best else []) + [c for c in answer.candidates if c != answer.best]
    if not results:
        raise NotFound(f"no place matches {text!r}")
    if as_json:
        echo_json(
            {
                "type": "FeatureCollection",
                "ambiguous": answer.ambiguous,
                "geocoder": geocoder.name,
                "features": [result_feature(r) for r in results],
            }
        )
        return
    if answer.ambiguous:
        click.echo(f"ambiguous: {len(results)} places fit; add --state, --postcode or --country")
    for i, result in enumerate(results, start=1):
        lines = _describe(result)
        click.echo(f"{i}. {lines[0]}" if len(results) > 1 else lines[0])
        for line in lines[1:]:
            click.echo(line)


@click.command(cls=CoordinateCommand)
@click.argument("lat", type=float)
@click.argument("lon", type=float)
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON Feature.")
@click.pass_obj
def reverse(state: CliState, lat: float, lon: float, as_json: bool) -> None:
    """Name the municipality, district and state at LAT LON."""
    lon, lat = guard_point(lat, lon)
    settings = state.settings()
    with state.store(settings) as store:
        found = geocoder_for(settings, store).reverse(Point(lon, lat))
    if found is None:
        raise NotFound(f"no municipality or known place at {lat}, {lon}")
    if as_json:
        props = {k: getattr(found, k) for k in REVERSE_FIELDS}
        props["address"] = found.address.as_json() if found.address else None
        echo_json(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}
        )
        return
    for line in _reverse_lines(found):
        click.echo(line)


def _reverse_lines(found: ReverseResult) -> list[str]:
    levels = (
        ("municipality", found.municipality, found.municipality_ags),
        ("district", found.district, found.district_ags),
        ("state", found.state, found.state_ags),
    )
    lines = [f"{name} ({level}{', AGS ' + ags if ags else ''})" for level, name, ags in levels if name]
    if found.address is not None:
        a = found.address
        town = " ".join(p for p in (a.postcode, a.city) if p)
        lines.insert(0, f"{a.street} {a.housenumber}{', ' + town if town else ''} ({a.distance_m:.1f} m)")
    extra = [f"postcode {found.postcode}"] if found.postcode else []
    lines.append(" · ".join([*extra, f"country {found.country}", f"source {found.source}"]))
    return lines


@click.command(cls=CoordinateCommand)
@click.argument("lat", type=float)
@click.argument("lon", type=float)
@click.option(
    "--radius-m",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Search radius in metres (geodesic).",
)
@click.option("--category", "categories", multiple=True, help="Category slug, label or alias (repeatable).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a GeoJSON FeatureCollection with distance_m.")
@click.pass_obj
def nearby(
    state: CliState,
    lat: float,
    lon: float,
    radius_m: float,
    categories: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Places within --radius-m metres of LAT LON, nearest first."""
    lon, lat = guard_point(lat, lon)
    settings = state.settings()
    vocabulary = Vocabulary.from_settings(settings)
    slugs = []
    for text in categories:
        found = vocabulary.match(text)
        if found is None:
            valid = ", ".join(c.slug for c in vocabulary.categories)
            raise invalid("category", f"unknown category {text!r}; use one of {valid}")
        slugs.append(found.slug)
    query = Query(PlaceFilter(tuple(slugs)), near=Near(Point(lon, lat), radius_m), limit=limit)
    with state.store(settings) as store:
        page = store.places.search(query)
    if as_json:
        feats = [place_feature(h.record, vocabulary, h.distance_m) for h in page.hits]
        echo_json(
            {
                "type": "FeatureCollection",
                "numberMatched": page.total,
                "numberReturned": len(feats),
                "features": feats,
            }
        )
        return
    for hit in page.hits:
        p = hit.record
        where = p.address.one_line() or "no address"
        click.echo(
            f"{hit.distance_m or 0.0:10.1f} m  {p.name}  [{p.category}]  {where}  "
            f"({p.geocoding.precision.value})"
        )
    shown = f"{len(page.hits)} of {page.total}" if page.total > len(page.hits) else f"{page.total}"
    click.echo(f"{shown} places within {radius_m:g} m of {lat}, {lon}")
