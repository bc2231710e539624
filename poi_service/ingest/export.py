"""Places and memberships to GeoJSON, CSV (spreadsheet-safe) or GeoPackage (one layer per kind, EPSG:4326)."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from poi_service.attribution import OSM_ATTRIBUTION, has_osm
from poi_service.categories import Vocabulary
from poi_service.errors import InvalidInput, invalid
from poi_service.features.geojson import membership_feature, place_feature
from poi_service.ingest.importer import KINDS, Kind
from poi_service.models import Geocoding, Membership, Place, format_partial_date
from poi_service.store import Store
from poi_service.store.records import names_json

Format = Literal["geojson", "csv", "gpkg"]
FORMATS: tuple[Format, ...] = ("geojson", "csv", "gpkg")
SUFFIXES: dict[str, Format] = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLACE_FIELDS = (
    "name",
    "category",
    "street",
    "housenumber",
    "postcode",
    "locality",
    "ags",
    "phone",
    "website",
    "description",
    "source",
    "external_key",
    "opening_hours",
    "wheelchair",
    "names",
    "osm_version",
    "osm_timestamp",
)
MEMBER_FIELDS = (
    "name",
    "kind",
    "country",
    "ags",
    "state",
    "district",
    "alliance",
    "role",
    "joined",
    "joined_precision",
    "source_url",
    "external_key",
)
TAIL = (
    "geocode_source",
    "geocode_precision",
    "geocode_confidence",
    "geocoded_at",
    "created_at",
    "updated_at",
)


def format_for(path: Path, given: str | None) -> Format:
    """The export format: as given, else from the file suffix."""
    wanted = given or SUFFIXES.get(path.suffix.casefold())
    for fmt in FORMATS:
        if fmt == wanted:
            return fmt
    raise invalid("format", f"give --format geojson, csv or gpkg (cannot tell from {path.name!r})")


def guard(value: object) -> object:
    """Spreadsheet formula injection guard: text starting with = + - @ tab or CR gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _provenance(g: Geocoding) -> dict[str, Any]:
    return {
        "geocode_source": g.source,
        "geocode_precision": g.precision.value,
        "geocode_confidence": g.confidence,
        "geocoded_at": g.at.isoformat(),
    }


def place_row(p: Place) -> dict[str, Any]:
    """A place as flat columns (id, lat, lon, wkt, fields, provenance, timestamps)."""
    a = p.address
    return {
        "id": p.id,
        "lat": p.point.lat,
        "lon": p.point.lon,
        "wkt": f"POINT ({p.point.lon} {p.point.lat})",
        "name": p.name,
        "category": p.category,
        "street": a.street,
        "housenumber": a.housenumber,
        "postcode": a.postcode,
        "locality": a.locality,
        "ags": a.ags,
        "phone": p.phone,
        "website": p.website,
        "description": p.description,
        "source": p.source,
        "external_key": p.external_key,
        "opening_hours": p.opening_hours,
        "wheelchair": p.wheelchair,
        "names": names_json(p.names),
        "osm_version": p.osm_version,
        "osm_timestamp": p.osm_timestamp,
        **_provenance(p.geocoding),
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


def member_row(m: Membership) -> dict[str, Any]:
    """A membership as flat columns; `joined` keeps the source's precision ('2019', '2019-06')."""
    mu = m.municipality
    return {
        "id": m.id,
        "lat": m.point.lat,
        "lon": m.point.lon,
        "wkt": f"POINT ({m.point.lon} {m.point.lat})",
        "name": mu.name,
        "kind": mu.kind,
        "country": mu.country,
        "ags": mu.ags,
        "state": mu.state,
        "district": mu.district,
        "alliance": m.alliance.value,
        "role": m.role.value,
        "joined": format_partial_date(m.joined, m.joined_precision),
        "joined_precision": m.joined_precision.value if m.joined_precision else None,
        "source_url": m.source_url,
        "external_key": m.external_key,
        **_provenance(m.geocoding),
        "created_at": m.created_at.isoformat(),
        "updated_at": m.updated_at.isoformat(),
    }


def columns(kind: Kind) -> tuple[str, ...]:
    """The CSV/GeoPackage columns of a kind, in order."""
    return ("id", "lat", "lon", "wkt", *(PLACE_FIELDS if kind == "places" else MEMBER_FIELDS), *TAIL)


def rows(store: Store, kind: Kind) -> Iterator[dict[str, Any]]:
    """Every record of a kind as flat columns, in id order."""
    if kind == "places":
        yield from (place_row(p) for p in store.places.iter_all())
    else:
        yield from (member_row(m) for m in store.memberships.iter_all())


def features(store: Store, kind: Kind, vocabulary: Vocabulary) -> Iterator[dict[str, Any]]:
    """Every record as a GeoJSON Feature (the API's form) plus its external_key."""
    records = store.places.iter_all() if kind == "places" else store.memberships.iter_all()
    for record in records:
        if isinstance(record, Place):
            feature = place_feature(record, vocabulary)
        else:
            feature = membership_feature(record)
        feature["properties"]["external_key"] = record.external_key
        yield feature


def export_records(
    store: Store,
    kind: Kind,
    fmt: Format,
    path: Path,
    vocabulary: Vocabulary | None = None,
    excel: bool = False,
) -> int:
    """Writes every record of a kind to path; returns the number written. `excel`: a CSV that Excel opens
    in German locales (a BOM, `;` between fields, decimal commas), which the importer reads back."""
    if kind not in KINDS:
        raise invalid("kind", "use places or memberships")
    target = path.resolve()
    if target == store_file(store.url):
        raise InvalidInput(f"{path} is the store itself: choose another output file")
    if fmt == "gpkg":
        return _write_gpkg(store, kind, target)
    with _replacing(target) as handle:
        if fmt == "geojson":
            feats = list(features(store, kind, vocabulary or Vocabulary.load()))
            collection: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
            if has_osm(f["properties"]["external_key"] for f in feats):
                collection["attribution"] = OSM_ATTRIBUTION  # ODbL: the licence travels with the data
            json.dump(collection, handle, ensure_ascii=False)
            return len(feats)
        if excel:
            handle.write("\ufeff")
        writer = csv.DictWriter(
            handle, fieldnames=columns(kind), lineterminator="\r\n", delimiter=";" if excel else ","
        )
        writer.writeheader()
        n = 0
        for row in rows(store, kind):
            writer.writerow({k: _decimal_comma(v) if excel else guard(v) for k, v in row.items()})
            n += 1
        return n


def _decimal_comma(value: object) -> object:
    """A cell for a German-locale spreadsheet: numbers with a decimal comma, text guarded as always."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return guard(value)


def store_file(url: str) -> Path | None:
    """The file behind an embedded store URL (None for a server database)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).resolve()
    return None if "://" in url else Path(url).resolve()


class _replacing:
    """A text file written next to the target and moved over it only when complete."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Any:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", dir=self.target.parent)
        self.tmp = Path(name)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        return self.handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.handle.close()
        if exc_type is None:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


def _write_gpkg(store: Store, kind: Kind, target: Path) -> int:
    """One layer named after the kind (replacing a layer of that name), points in EPSG:4326."""
    import geopandas as gpd
    import pandas as pd

    data = list(rows(store, kind))
    frame = pd.DataFrame(data, columns=list(columns(kind))).drop(columns=["wkt"])
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(
        frame.astype(object).where(frame.notna(), None), geometry=geometry, crs="EPSG:4326"
    )
    gdf["lat"] = frame["lat"].astype(float)
    gdf["lon"] = frame["lon"].astype(float)
    gdf["geocode_confidence"] = frame["geocode_confidence"].astype(float)
    target.parent.mkdir(parents=True, exist_ok=True)
    # ODbL: a layer holding OpenStreetMap records says so in its description (gpkg_contents).
    options = {"DESCRIPTION": OSM_ATTRIBUTION} if has_osm(frame["external_key"]) else {}
    gdf.to_file(
        target, layer=kind, driver="GPKG", engine="pyogrio", geometry_type="Point", layer_options=options
    )
    return len(data)
