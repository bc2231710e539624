"""JSON request bodies: read strictly, and documented by models of their fields.

Bodies are parsed by orjson rather than FastAPI's json.loads, which accepted NaN, Infinity and
400-digit numbers (each a 500 further on) and recursed without bound on deep nesting. orjson refuses
NaN/Infinity and numbers beyond the double range and stops at 1,024 levels of nesting: a 400 naming
`body`. The models below only document the bodies in OpenAPI (ingest.validate checks the fields)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from poi_service.errors import invalid

# What ingest.validate refuses in text, as patterns: control characters (line breaks too, except in
# description and source) and bidi embeddings, overrides and isolates.
LINE = r"^[^\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
Text = Annotated[str | None, Field(max_length=200, pattern=LINE)]
LongText = Annotated[str | None, Field(max_length=2000, pattern=LINES)]
Url = Annotated[str | None, Field(max_length=2000, pattern=LINE, description="An http(s) URL.")]
Lat = Annotated[
    float | None, Field(ge=-90, le=90, description="Latitude (WGS84); with lon, pins the record.")
]
Lon = Annotated[float | None, Field(ge=-180, le=180, description="Longitude (WGS84); with lat.")]
NAME = "Visible text, at most 200 characters; no control, bidi-override or only-invisible characters."


async def json_body(request: Request) -> Any:
    """The request body as JSON; 400 (`body`) if it is empty or not strict JSON."""
    raw = await request.body()
    if not raw.strip():
        raise invalid("body", "is required: a JSON object")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(
            "body",
            f"is not valid JSON ({exc}); NaN, Infinity and numbers beyond ±1.8e308 are refused, "
            "nesting deeper than 1,024 levels too",
        ) from None


async def json_object(body: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """The body as a JSON object; 400 for any other JSON value."""
    if not isinstance(body, dict):
        raise invalid("body", "must be a JSON object")
    return body


JsonObject = Annotated[dict[str, Any], Depends(json_object)]


class Fields(BaseModel):
    """Base of the documented bodies: unknown fields are refused (400 naming each)."""

    model_config = ConfigDict(extra="forbid")


class PlaceInput(Fields):
    """The editable fields of a place; without lat/lon the address is geocoded."""

    name: str = Field(min_length=1, max_length=200, pattern=LINE, description=NAME)
    category: str = Field(
        min_length=1, max_length=200, description="A slug, label or alias from /categories."
    )
    street: Text = None
    housenumber: Text = None
    postcode: str | None = Field(None, pattern=r"^\d{5}$", description="German postcode: 5 digits.")
    locality: Text = None
    phone: str | None = Field(None, max_length=50, description="A phone number (German or international).")
    website: Url = None
    description: LongText = None
    source: LongText = None
    opening_hours: str | None = Field(
        None, max_length=255, description="OSM opening_hours syntax, e.g. 'Mo-Fr 09:00-18:00; PH off'."
    )
    wheelchair: Literal["yes", "limited", "no"] | None = Field(None, description="Wheelchair access.")
    names: dict[str, str] | None = Field(
        None, max_length=20, description="Names by language code (de, en, da, ...), each ≤ 200 characters."
    )
    lat: Lat = None
    lon: Lon = None


class PlacePatch(PlaceInput):
    """RFC 7396 merge patch of a place: given fields change, null clears."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=LINE, description=NAME)  # type: ignore[assignment]
    category: str | None = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]


class MembershipInput(Fields):
    """The editable fields of a membership; without lat/lon the municipality is geocoded."""

    name: str = Field(min_length=1, max_length=200, pattern=LINE, description=NAME)
    kind: Text = Field(None, description="Stadt, Gemeinde, Landkreis, ...")
    country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 (default DE)."
    )
    state: Text = None
    alliance: Literal["buendnis", "international", "seebruecke_declared"]
    role: Literal["coordinator", "state_coordinator", "member"] | None = None
    joined: str | None = Field(
        None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$", description="YYYY, YYYY-MM or YYYY-MM-DD."
    )
    source_url: str | None = Field(
        None, max_length=2000, description="http(s) URL(s), several separated by ' ; '."
    )
    lat: Lat = None
    lon: Lon = None


class MembershipPatch(MembershipInput):
    """RFC 7396 merge patch of a membership: given fields change, null clears."""

    name: str | None = Field(None, min_length=1, max_length=200, pattern=LINE, description=NAME)  # type: ignore[assignment]
    alliance: Literal["buendnis", "international", "seebruecke_declared"] | None = None  # type: ignore[assignment]


class PointIn(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3)


class GeometryIn(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in lon/lat degrees."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class PolygonFeature(BaseModel):
    type: Literal["Feature"]
    geometry: GeometryIn
    properties: dict[str, Any] | None = None


def feature_of(fields: type[BaseModel]) -> dict[str, Any]:
    """The schema of a GeoJSON Feature whose properties are `fields` (as GET answers it)."""
    ref = f"#/components/schemas/{fields.__name__}"
    return {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "properties": {"$ref": ref},
            "geometry": {"anyOf": [{"$ref": "#/components/schemas/PointIn"}, {"type": "null"}]},
        },
    }


MODELS: tuple[type[BaseModel], ...] = (
    PlaceInput,
    PlacePatch,
    MembershipInput,
    MembershipPatch,
    PointIn,
    GeometryIn,
    PolygonFeature,
)


def request_body(
    model: type[BaseModel], media: str = "application/json", feature: bool = True
) -> dict[str, Any]:
    """openapi_extra of a route whose body is `model` (or a Feature with it as properties)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    schema = {"anyOf": [ref, feature_of(model)]} if feature else ref
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}
