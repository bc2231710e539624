"""OGC API – Features over the directory: collections, items, queryables, CQL2 text, HTML pages.

Served under /ogc by poi_service.api.routes.ogc. Coordinates are CRS84 (lon/lat, WGS84) only.

Limits of this API, declared in its OpenAPI 3.0 document (/ogc/api):
- `limit` is 1..MAX_LIMIT (10,000; default DEFAULT_LIMIT = 10). This is the OGC router's own maximum,
  independent of POI_MAX_PAGE_SIZE (1,000) of the plain JSON API: GIS clients page in large steps.
- `sortby`, `filter` and property parameters the store cannot answer itself are evaluated by the
  service over the features matching everything else; when those are more than MAX_EVALUATED
  (10,000) the request is refused with 400 and a hint to narrow it (bbox, near, category, ...).
"""

from __future__ import annotations

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
MAX_EVALUATED = 10_000

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"

REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_DATA = "http://www.opengis.net/def/rel/ogc/1.0/data"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"

CONFORMANCE: tuple[str, ...] = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    _F1 + "core",
    _F1 + "geojson",
    _F1 + "html",
    _F1 + "oas30",
    _F3 + "queryables",
    _F3 + "queryables-query-parameters",
    _F3 + "filter",
    _F3 + "features-filter",
    _CQL2 + "cql2-text",
    _CQL2 + "basic-cql2",
    _CQL2 + "advanced-comparison-operators",
    _CQL2 + "basic-spatial-functions",
    _CQL2 + "basic-spatial-functions-plus",
)
