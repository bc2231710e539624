"""Typed GeoDataFrames from stored records or from the API's GeoJSON features (one column set for both)."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from poi_service.categories import Vocabulary
from poi_service.models import Alliance, DatePrecision, Membership, Place, Precision, Role

CRS = "EPSG:4326"
ALLIANCE_DTYPE = pd.CategoricalDtype([a.value for a in Alliance])
ROLE_DTYPE = pd.CategoricalDtype([r.value for r in Role])
DATE_PRECISION_DTYPE = pd.CategoricalDtype([p.value for p in DatePrecision], ordered=True)
GEOCODE_PRECISION_DTYPE = pd.CategoricalDtype([p.value for p in Precision], ordered=True)

MEMBERSHIP_TEXT = (
    "id",
    "name",
    "kind",
    "country",
    "ags",
    "state",
    "district",
    "source_url",
    "geocode_source",
)
MEMBERSHIP_COLUMNS = (
    *MEMBERSHIP_TEXT[:7],
    "alliance",
    "role",
    "joined",
    "joined_end",
    "joined_precision",
    "source_url",
    "geocode_source",
    "geocode_precision",
    "geocode_confidence",
    "geometry",
)
PLACE_TEXT = (
    "id",
    "name",
    "category",
    "category_label",
    "street",
    "housenumber",
    "postcode",
    "locality",
    "ags",
    "phone",
    "website",
    "description",
    "source",
    "geocode_source",
)
PLACE_COLUMNS = (*PLACE_TEXT, "geocode_precision", "geocode_confidence", "geometry")

Row = dict[str, Any]


def period_end(start: date | None, precision: DatePrecision | None) -> date | None:
    """The last day of the period a partial date stands for (2019 -> 2019-12-31, 2019-07 -> 2019-07-31)."""
    if start is None:
        return None
    if precision == DatePrecision.YEAR:
        return date(start.year, 12, 31)
    if precision == DatePrecision.MONTH:
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


def membership_row(m: Membership, distance_m: float | None = None) -> Row:
    """The frame row of a stored membership."""
    mu, g = m.municipality, m.geocoding
    return {
        "id": m.id,
        "name": mu.name,
        "kind": mu.kind,
        "country": mu.country,
        "ags": mu.ags,
        "state": mu.state,
        "district": mu.district,
        "alliance": m.alliance.value,
        "role": m.role.value,
        "joined": m.joined,
        "joined_end": period_end(m.joined, m.joined_precision),
        "joined_precision": m.joined_precision.value if m.joined_precision else None,
        "source_url": m.source_url,
        "geocode_source": g.source,
        "geocode_precision": g.precision.value,
        "geocode_confidence": g.confidence,
        "lon": m.point.lon,
        "lat": m.point.lat,
        "distance_m": distance_m,
    }


def membership_feature_row(feature: Mapping[str, Any]) -> Row:
    """The frame row of a membership Feature of the API (poi_service.features.geojson.membership_feature)."""
    p, g = feature["properties"], feature["properties"].get("geocoding") or {}
    lon, lat = feature["geometry"]["coordinates"][:2]
    joined = date.fromisoformat(p["joined_date"]) if p.get("joined_date") else None
    precision = DatePrecision(p["joined_precision"]) if p.get("joined_precision") else None
    return {
        "id": str(feature["id"]),
        **{k: p.get(k) for k in MEMBERSHIP_TEXT[1:7]},
        "alliance": p["alliance"],
        "role": p["role"],
        "joined": joined,
        "joined_end": period_end(joined, precision),
        "joined_precision": precision.value if precision else None,
        "source_url": p.get("source_url"),
        "geocode_source": g.get("source"),
        "geocode_precision": g.get("precision"),
        "geocode_confidence": g.get("confidence"),
        "lon": lon,
        "lat": lat,
        "distance_m": p.get("distance_m"),
    }


def place_row(p: Place, vocabulary: Vocabulary, distance_m: float | None = None) -> Row:
    """The frame row of a stored place."""
    a, g, category = p.address, p.geocoding, vocabulary.get(p.category)
    return {
        "id": p.id,
        "name": p.name,
        "category": p.category,
        "category_label": category.label_de if category else p.category,
        "street": a.street,
        "housenumber": a.housenumber,
        "postcode": a.postcode,
        "locality": a.locality,
        "ags": a.ags,
        "phone": p.phone,
        "website": p.website,
        "description": p.description,
        "source": p.source,
        "geocode_source": g.source,
        "geocode_precision": g.precision.value,
        "geocode_confidence": g.confidence,
        "lon": p.point.lon,
        "lat": p.point.lat,
        "distance_m": distance_m,
    }


def place_feature_row(feature: Mapping[str, Any]) -> Row:
    """The frame row of a place Feature of the API (poi_service.features.geojson.place_feature)."""
    p, g = feature["properties"], feature["properties"].get("geocoding") or {}
    lon, lat = feature["geometry"]["coordinates"][:2]
    row: Row = {"id": str(feature["id"]), **{k: p.get(k) for k in PLACE_TEXT[1:-1]}}
    row.update(
        geocode_source=g.get("source"),
        geocode_precision=g.get("precision"),
        geocode_confidence=g.get("confidence"),
        lon=lon,
        lat=lat,
        distance_m=p.get("distance_m"),
    )
    return row


def _frame(rows: Iterable[Row], text: tuple[str, ...], columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    records = list(rows)
    df = pd.DataFrame.from_records(records, columns=[*columns[:-1], "lon", "lat", "distance_m"])
    for col in text:
        df[col] = df[col].astype("string")
    df["geocode_precision"] = df["geocode_precision"].astype(GEOCODE_PRECISION_DTYPE)
    df["geocode_confidence"] = df["geocode_confidence"].astype("float64")
    keep = list(columns[:-1])
    if df["distance_m"].notna().any():
        keep.append("distance_m")  # only distance queries carry it
        df["distance_m"] = df["distance_m"].astype("float64")
    geometry = shapely.points(df["lon"].to_numpy(dtype="float64"), df["lat"].to_numpy(dtype="float64"))
    return gpd.GeoDataFrame(df[keep], geometry=gpd.GeoSeries(geometry, index=df.index, crs=CRS), crs=CRS)


def memberships_frame(rows: Iterable[Row]) -> gpd.GeoDataFrame:
    """Memberships with typed columns: strings, categories, datetimes (joined = first day of the known
    period, joined_end = its last day, joined_precision = day/month/year) and Point geometry in EPSG:4326."""
    gdf = _frame(rows, MEMBERSHIP_TEXT, MEMBERSHIP_COLUMNS)
    gdf["alliance"] = gdf["alliance"].astype(ALLIANCE_DTYPE)
    gdf["role"] = gdf["role"].astype(ROLE_DTYPE)
    for col in ("joined", "joined_end"):
        gdf[col] = pd.to_datetime(gdf[col]).astype("datetime64[ns]")
    gdf["joined_precision"] = gdf["joined_precision"].astype(DATE_PRECISION_DTYPE)
    return gdf


def places_frame(rows: Iterable[Row]) -> gpd.GeoDataFrame:
    """Places with typed columns and Point geometry in EPSG:4326 (distance_m on distance queries)."""
    return _frame(rows, PLACE_TEXT, PLACE_COLUMNS)
