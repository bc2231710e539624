"""Pydantic models of what the API answers, for its OpenAPI document only.

Handlers build their answers as dicts or bytes (features.geojson, features.cache: the fast path) and return
Response objects, which FastAPI sends as they are: these models never validate or serialise a
response. tests/api/test_openapi_contract.py runs schemathesis against a served API to check that
every answer matches them (status codes, media types, bodies)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Nullable = str | None


class Doc(BaseModel):
    """Base of the documented shapes: further properties may appear (clients ignore them)."""

    model_config = ConfigDict(extra="allow")


class InvalidParamDoc(Doc):
    name: str = Field(description="The parameter or field, e.g. lat, body.name, line 7: postcode.")
    reason: str


class Problem(Doc):
    """RFC 9457 problem details: the one error shape of every 4xx and 5xx answer."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = Field(description="The request path.")
    code: str = Field(description="Stable machine code, e.g. invalid-parameter, not-found, conflict.")
    invalid_params: list[InvalidParamDoc] | None = None


class PointGeometry(Doc):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=3, description="[lon, lat] in degrees.")


class Link(Doc):
    rel: str
    type: str | None = None
    href: str
    title: str | None = None


class GeocodingDoc(Doc):
    source: str
    precision: str = Field(description="exact, street, postcode, municipality, ... (see README).")
    confidence: float
    at: str = Field(description="ISO 8601 time of the geocoding.")


class PlaceProperties(Doc):
    name: str
    category: str
    category_label: str
    category_label_en: str
    street: Nullable
    housenumber: Nullable
    postcode: Nullable
    locality: Nullable
    ags: Nullable
    address: str
    phone: Nullable
    phone_display: Nullable
    website: Nullable
    description: Nullable
    source: Nullable
    geocoding: GeocodingDoc
    created_at: str
    updated_at: str
    open: bool | None = Field(
        None, description="Only with open_at / open_now: open then (null: hours unknown)."
    )
    next_change: str | None = Field(
        None, description="Only with open_at / open_now: RFC 3339 in the place's local offset, or null."
    )
    distance_m: float | None = Field(None, description="Only on distance queries (nearby, nearest).")


class PlaceFeature(Doc):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: PlaceProperties


class Collection(Doc):
    type: Literal["FeatureCollection"]
    numberMatched: int = Field(ge=0)
    numberReturned: int = Field(ge=0)
    links: list[Link]


class PlaceCollection(Collection):
    features: list[PlaceFeature]


class MembershipProperties(Doc):
    name: str
    kind: str
    country: str
    ags: Nullable
    state: Nullable
    district: Nullable
    alliance: Literal["buendnis", "international", "seebruecke_declared"]
    role: Literal["coordinator", "state_coordinator", "member"]
    joined: Nullable = Field(description="The join date in the precision the source gives (2019, 2019-06).")
    joined_date: Nullable
    joined_precision: Literal["day", "month", "year"] | None
    source_url: Nullable
    geocoding: GeocodingDoc
    distance_m: float | None = None


class MembershipFeature(Doc):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: MembershipProperties


class MembershipCollection(Collection):
    features: list[MembershipFeature]


class GeocodeProperties(Doc):
    label: str
    precision: str
    confidence: float
    source: str
    country: Nullable
    ags: Nullable
    state: Nullable
    district: Nullable
    postcode: Nullable


class GeocodeFeature(Doc):
    type: Literal["Feature"]
    geometry: PointGeometry
    properties: GeocodeProperties


class GeocodeCollection(Collection):
    features: list[GeocodeFeature]
    ambiguous: bool = Field(description="Several places fit and none was chosen.")
    geocoder: str


class ReverseProperties(Doc):
    country: Nullable
    municipality: Nullable
    municipality_ags: Nullable
    district: Nullable
    district_ags: Nullable
    state: Nullable
    state_ags: Nullable
    postcode: Nullable
    source: Nullable


class ReverseFeature(Doc):
    type: Literal["Feature"]
    geometry: PointGeometry
    properties: ReverseProperties


class Landing(Doc):
    service: str
    version: str
    links: dict[str, str]


class StoreInfo(Doc):
    backend: str
    schema_version: int
    places: int = Field(ge=0)
    memberships: int = Field(ge=0)


class Health(Doc):
    status: Literal["ok"]
    version: str
    store: StoreInfo


class About(Doc):
    attribution: list[str]
    details: str


class Stats(Doc):
    by_alliance: dict[str, int]
    by_state: dict[str, dict[str, int]]
    by_year: dict[str, dict[str, int]]


class Category(Doc):
    slug: str
    label_de: str
    label_en: str


class Categories(Doc):
    categories: list[Category]


class Change(Doc):
    seq: int
    action: str
    version: int
    actor: str | None = Field(description="The API key id, cli or seed; null when the writer named none.")
    at: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class History(Doc):
    id: str
    changes: list[Change]


class ImportReportDoc(Doc):
    path: str
    kind: Literal["places", "memberships"]
    rows: int = Field(ge=0)
    new: int = Field(ge=0)
    updated: int = Field(ge=0)
    unchanged: int = Field(ge=0)
    written: int = Field(ge=0)
    dry_run: bool
    precision: dict[str, int]
    ignored_columns: list[str]


class PlacesMapData(Doc):
    """Places as parallel columns (see poi_service.maps.data.places_payload)."""

    v: int
    n: int = Field(ge=0)
    categories: list[dict[str, Any]]
    lon: list[float]
    lat: list[float]
    kp: list[int]
    name: list[str]
    street: list[str]
    town: list[int]
    towns: list[str]


class PlacesMapOpen(Doc):
    """The opening state of the rows of data.json with hours (see poi_service.maps.open_state)."""

    etag: str = Field(description="ETag of the data.json these rows belong to.")
    n: int = Field(ge=0, description="Rows of that data.json.")
    at: str = Field(description="The minute evaluated, RFC 3339.")
    rows: list[list[Any]] = Field(
        description="[row, 1 open | 0 closed | null unknown, 'HH:MM' local | null, weekday 0-6 | -1]"
    )


class AllianceMapData(Doc):
    v: int
    alliances: list[dict[str, Any]]
    roles: dict[str, dict[str, str]]
    rows: list[dict[str, Any]]


class BasemapFeature(Doc):
    type: Literal["Feature"]
    properties: dict[str, Any]
    geometry: dict[str, Any]


class BasemapLayer(Doc):
    type: Literal["FeatureCollection"]
    features: list[BasemapFeature]


class OgcLanding(Doc):
    title: str
    description: str
    links: list[Link]
