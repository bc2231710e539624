"""GeoDataFrame loaders: memberships and places from a store or a running service, and the shipped
boundaries and gazetteer. Every frame is in EPSG:4326 with typed columns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from poi_service.analysis.client import PoiClient
from poi_service.analysis.frames import CRS, membership_row, memberships_frame, place_row, places_frame
from poi_service.boundaries import FILES
from poi_service.categories import Vocabulary
from poi_service.config import DEFAULT_DATA_DIR, Settings
from poi_service.store import Store, open_store

GAZETTEER_FILE = Path("gazetteer") / "gemeinden_destatis_2023-03-31.csv"
GAZETTEER_TEXT = (
    "ags",
    "ars",
    "name",
    "name_short",
    "designation",
    "type_code",
    "type",
    "state_ags",
    "state_code",
    "state",
    "district_ags",
    "district",
    "municipal_association",
    "postcode",
    "urbanisation",
)

Source = Store | PoiClient | str | os.PathLike[str]


def _is_url(source: object) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


@contextmanager
def _store_of(source: Store | str | os.PathLike[str], data_dir: Path | None) -> Iterator[Store]:
    if isinstance(source, (str, os.PathLike)):
        store = open_store(os.fspath(source), data_dir or DEFAULT_DATA_DIR)
        try:
            yield store
        finally:
            store.close()
    else:
        yield source


def read_memberships(
    source: Source, *, alliance: str | None = None, data_dir: Path | None = None
) -> gpd.GeoDataFrame:
    """Memberships from a Store, a store URL or path (opened and closed here), a PoiClient or a service
    base URL ('http://...'), one row per membership in id order; alliance filters on one alliance."""
    if isinstance(source, PoiClient):
        return source.members(alliance=alliance)
    if _is_url(source):
        with PoiClient(str(source)) as client:
            return client.members(alliance=alliance)
    with _store_of(source, data_dir) as store:
        rows = (membership_row(m) for m in store.memberships.iter_all())
        gdf = memberships_frame(r for r in rows if alliance is None or r["alliance"] == alliance)
    return gdf


def read_places(
    source: Source, *, data_dir: Path | None = None, vocabulary: Vocabulary | None = None
) -> gpd.GeoDataFrame:
    """Places from a Store, a store URL or path, a PoiClient or a service base URL, in id order.
    Category labels of a store come from `vocabulary`, by default the shipped categories extended by
    POI_CATEGORIES_FILE (as the service labels them; over HTTP the service's own labels arrive)."""
    if isinstance(source, PoiClient):
        return source.places()
    if _is_url(source):
        with PoiClient(str(source)) as client:
            return client.places()
    vocabulary = vocabulary or Vocabulary.from_settings(Settings())
    with _store_of(source, data_dir) as store:
        return places_frame(place_row(p, vocabulary) for p in store.places.iter_all())


def _boundary(data_dir: Path | None, level: str, text: tuple[str, ...]) -> gpd.GeoDataFrame:
    path = (data_dir or DEFAULT_DATA_DIR) / "boundaries" / FILES[level]
    gdf = gpd.read_file(path)
    gdf = gdf.set_crs(CRS) if gdf.crs is None else gdf.to_crs(CRS)
    for col in text:
        gdf[col] = gdf[col].astype("string")
    return gdf.sort_values("ags", ignore_index=True)


def read_states(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The 16 states (BKG VG5000 2021): ags (2 digits), name, state_code (SH, ...), iso_3166_2, geometry."""
    return _boundary(data_dir, "state", ("ags", "name", "state_code", "iso_3166_2", "designation", "nuts"))


def read_districts(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The 400 districts (VG5000, 2021-07-01): ags (5 digits), name, state_ags, state_code, geometry."""
    return _boundary(data_dir, "district", ("ags", "name", "designation", "state_ags", "state_code", "nuts"))


def read_municipalities(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The 10,997 municipalities (VG5000, 2021-01-01): ags (8 digits), name, district_ags, state_code."""
    return _boundary(data_dir, "municipality", ("ags", "name", "designation", "district_ags", "state_code"))


def read_gazetteer(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Destatis municipalities (2023-03-31) as points at their centres, with population (31.12.2021) and
    area; the three unincorporated areas without coordinates are dropped."""
    path = (data_dir or DEFAULT_DATA_DIR) / GAZETTEER_FILE
    df = pd.read_csv(path, dtype={c: "string" for c in GAZETTEER_TEXT}, keep_default_na=False, na_values=[""])
    df = df[df["lat"].notna() & df["lon"].notna() & (df["lat"] != 0)].reset_index(drop=True)
    df["population"] = df["population"].fillna(0).astype("int64")
    df["area_km2"] = df["area_km2"].astype("float64")
    geometry = shapely.points(df["lon"].to_numpy(dtype="float64"), df["lat"].to_numpy(dtype="float64"))
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=geometry, crs=CRS)


def open_shipped_store(path: str | os.PathLike[str], data_dir: Path | None = None) -> Store:
    """A store at path holding the shipped places and memberships (loaded and geocoded offline when empty,
    about 5 s); the caller closes it."""
    from poi_service.geocode import OfflineGeocoder
    from poi_service.ingest.seed import load_shipped

    data = (data_dir or DEFAULT_DATA_DIR).resolve()
    store = open_store(os.fspath(path), data)
    try:
        if store.places.count() == 0 and store.memberships.count() == 0:
            load_shipped(store, data, OfflineGeocoder(data))
    except BaseException:
        store.close()
        raise
    return store
