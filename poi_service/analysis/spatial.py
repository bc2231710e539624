"""Spatial questions on the membership data: how far residents live from a member, and the coordinators.

Distances are geodesic metres on WGS84 (poi_service.geo); nearest members are found on the unit sphere
(k-d tree on 3-D unit vectors) and then measured on the ellipsoid.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from scipy.spatial import cKDTree

from poi_service.analysis.frames import CRS
from poi_service.analysis.population import covered_ags
from poi_service.geo import geodesic_m, to_xyz

NEAR_M = 25_000.0
_GEOD = Geod(ellps="WGS84")


def pairwise_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Geodesic metres between matching pairs of points (vectorised)."""
    if lon1.size == 0:
        return np.empty(0, dtype=np.float64)
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64)


def _xy(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    return gdf.geometry.x.to_numpy(dtype="float64"), gdf.geometry.y.to_numpy(dtype="float64")


def distance_to_nearest_member(gazetteer: gpd.GeoDataFrame, members: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every Destatis municipality with distance_m from its centre to the nearest member's point and that
    member's name; 0 for municipalities that are members or lie in a member district (`covered`)."""
    german = members[members["country"] == "DE"].reset_index(drop=True)
    out = gazetteer[["ags", "name_short", "state_code", "state", "population", "geometry"]].copy()
    lon, lat = _xy(out)
    mlon, mlat = _xy(german)
    tree = cKDTree(to_xyz(mlon, mlat))
    _, idx = tree.query(to_xyz(lon, lat), k=1)
    idx = np.asarray(idx, dtype=np.int64)
    dist = pairwise_m(lon, lat, mlon[idx], mlat[idx])
    covered = out["ags"].isin(covered_ags(german, gazetteer)).to_numpy()
    out["covered"] = covered
    out["distance_m"] = np.where(covered, 0.0, dist)
    out["nearest_member"] = german["name"].to_numpy()[idx]
    out.loc[covered, "nearest_member"] = out.loc[covered, "name_short"]
    out["nearest_member"] = out["nearest_member"].astype("string")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of values with weights (the smallest value whose cumulative weight reaches q)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order], dtype="float64")
    if cum[-1] <= 0:
        return float("nan")
    i = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(i, len(order) - 1)])


def distance_by_state(distances: pd.DataFrame, near_m: float = NEAR_M) -> pd.DataFrame:
    """Population-weighted distance to the nearest member per state: median and 90th percentile (km),
    share of residents in a member body and within near_m; indexed by state_code, plus 'DE' overall."""
    rows = {}
    groups = [*distances.groupby("state_code", observed=True), ("DE", distances)]
    for code, g in groups:
        d, w = g["distance_m"].to_numpy(dtype="float64"), g["population"].to_numpy(dtype="float64")
        total = w.sum()
        rows[str(code)] = {
            "state": str(g["state"].iloc[0]) if code != "DE" else "Germany",
            "population": int(total),
            "median_km": weighted_quantile(d, w, 0.5) / 1000.0,
            "p90_km": weighted_quantile(d, w, 0.9) / 1000.0,
            "share_in_member": float(w[d == 0].sum() / total),
            f"share_within_{int(near_m / 1000)}km": float(w[d <= near_m].sum() / total),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("state_code")


def coordinator_network(members: gpd.GeoDataFrame, alliance: str = "buendnis") -> gpd.GeoDataFrame:
    """Lines from the alliance's coordinator to each state coordinator, with geodesic length_km."""
    m = members[members["alliance"] == alliance]
    hubs = m[m["role"] == "coordinator"]
    if hubs.empty:
        return gpd.GeoDataFrame(
            {"coordinator": [], "state_coordinator": [], "state": [], "length_km": []}, geometry=[], crs=CRS
        )
    hub = hubs.iloc[0]
    spokes = m[m["role"] == "state_coordinator"].sort_values("name")
    hx, hy = hub.geometry.x, hub.geometry.y
    sx, sy = _xy(spokes)
    return gpd.GeoDataFrame(
        {
            "coordinator": pd.array([hub["name"]] * len(spokes), dtype="string"),
            "state_coordinator": spokes["name"].to_numpy(),
            "state": spokes["state"].to_numpy(),
            "length_km": geodesic_m(hx, hy, sx, sy) / 1000.0,
        },
        geometry=shapely.linestrings([[[hx, hy], [x, y]] for x, y in zip(sx, sy, strict=True)]),
        crs=CRS,
    )


def nearest_coordinator(members: gpd.GeoDataFrame, alliance: str = "buendnis") -> gpd.GeoDataFrame:
    """Each member of the alliance with its nearest (state) coordinator and the geodesic distance_km;
    `same_state` tells whether that coordinator is in the member's own state."""
    m = members[members["alliance"] == alliance].reset_index(drop=True)
    hubs = m[m["role"].isin(["coordinator", "state_coordinator"])].reset_index(drop=True)
    mx, my = _xy(m)
    hx, hy = _xy(hubs)
    _, idx = cKDTree(to_xyz(hx, hy)).query(to_xyz(mx, my), k=1)
    idx = np.asarray(idx, dtype=np.int64)
    dist = pairwise_m(mx, my, hx[idx], hy[idx])
    out = m[["name", "state", "role", "geometry"]].copy()
    out["coordinator"] = hubs["name"].to_numpy()[idx]
    out["coordinator_state"] = hubs["state"].to_numpy()[idx]
    out["distance_km"] = dist / 1000.0
    out["same_state"] = (out["state"] == out["coordinator_state"]).fillna(False).astype(bool)
    out["line"] = shapely.linestrings([[[x, y], [hx[i], hy[i]]] for x, y, i in zip(mx, my, idx, strict=True)])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)
