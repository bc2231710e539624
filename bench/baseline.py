"""Brute-force numpy answers over all N points: the baseline the store is measured against, and the
reference that checks it (exact geodesic distances, the same tie order as the store).

Every query touches every point once (O(N)):
- radius / k-nearest: the vectorised haversine term over all N points ranks them; candidates within
  2 % of the haversine answer (the sphere-vs-WGS84 error is below 0.5 % in Germany) get exact WGS84
  geodesics (pyproj, like the service), so the answer is exact, not an approximation;
- bbox: a lon/lat mask (the same closed intervals as the store's BETWEEN);
- district: an integer mask on int(ags[:5]).
Rows are generator rows (row i is 'Ort {i}', fid i + 1), so "order by fid" is "order by row".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.generate import PlaceArrays
from poi_service.geo import geodesic_m

R_MEAN_M = 6_371_008.8
SLACK = 1.02  # candidate margin: must exceed max(geodesic/haversine) / min(geodesic/haversine), ~1.006 here

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Answer:
    """Rows (ascending distance, then row; or ascending row) of the first page, and the total."""

    rows: IntArray
    distances_m: FloatArray | None
    total: int


def _hav_term(d_m: float) -> float:
    """The haversine term a = sin^2(d / 2R) of a distance (a is monotone in d)."""
    half = min(d_m / (2.0 * R_MEAN_M), np.pi / 2.0)
    return float(np.sin(half) ** 2)


class BruteForce:
    """O(N) answers over the generated arrays."""

    def __init__(self, arrays: PlaceArrays) -> None:
        self.lons = arrays.lons
        self.lats = arrays.lats
        self.district = arrays.district
        self._lat_r = np.radians(arrays.lats)
        self._lon_r = np.radians(arrays.lons)
        self._cos_lat = np.cos(self._lat_r)

    def _hav(self, lon: float, lat: float) -> FloatArray:
        """a = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2) to every point."""
        lat_r, lon_r = np.radians(lat), np.radians(lon)
        s_lat = np.sin((self._lat_r - lat_r) * 0.5)
        s_lon = np.sin((self._lon_r - lon_r) * 0.5)
        return np.asarray(s_lat * s_lat + np.cos(lat_r) * self._cos_lat * (s_lon * s_lon))

    def _exact(self, lon: float, lat: float, rows: IntArray) -> tuple[IntArray, FloatArray]:
        dist = geodesic_m(lon, lat, self.lons[rows], self.lats[rows])
        order = np.lexsort((rows, dist))
        return rows[order], dist[order]

    def within(self, lon: float, lat: float, radius_m: float, limit: int) -> Answer:
        """Every point within radius_m (exact geodesic): first `limit` by distance, and the count."""
        cand = np.flatnonzero(self._hav(lon, lat) <= _hav_term(radius_m * SLACK))
        rows, dist = self._exact(lon, lat, cand)
        keep = dist <= radius_m
        rows, dist = rows[keep], dist[keep]
        return Answer(rows[:limit], dist[:limit], len(rows))

    def nearest(self, lon: float, lat: float, k: int) -> Answer:
        """The k nearest points (exact geodesic)."""
        a = self._hav(lon, lat)
        n = len(a)
        if k >= n:
            cand = np.arange(n)
        else:
            kth = float(a[np.argpartition(a, k - 1)[:k]].max())
            d_k = 2.0 * R_MEAN_M * float(np.arcsin(np.sqrt(kth)))
            cand = np.flatnonzero(a <= _hav_term(d_k * SLACK))
        rows, dist = self._exact(lon, lat, cand)
        return Answer(rows[:k], dist[:k], min(k, n))

    def bbox(self, minx: float, miny: float, maxx: float, maxy: float, limit: int) -> Answer:
        """Points in the closed box, first `limit` by row, and the count."""
        mask = (self.lons >= minx) & (self.lons <= maxx) & (self.lats >= miny) & (self.lats <= maxy)
        rows = np.flatnonzero(mask)
        return Answer(rows[:limit], None, len(rows))

    def district_of(self, ags5: str, limit: int) -> Answer:
        """Points whose AGS starts with this district AGS, first `limit` by row, and the count."""
        rows = np.flatnonzero(self.district == int(ags5))
        return Answer(rows[:limit], None, len(rows))

    # -- references without the haversine shortcut, to check the shortcut itself ---------------

    def nearest_full_geodesic(self, lon: float, lat: float, k: int) -> Answer:
        """k nearest by the exact geodesic to every point (slow: pyproj over all N)."""
        rows, dist = self._exact(lon, lat, np.arange(len(self.lons)))
        return Answer(rows[:k], dist[:k], min(k, len(rows)))

    def within_full_geodesic(self, lon: float, lat: float, radius_m: float, limit: int) -> Answer:
        """Radius answer by the exact geodesic to every point (slow)."""
        rows, dist = self._exact(lon, lat, np.arange(len(self.lons)))
        keep = dist <= radius_m
        return Answer(rows[keep][:limit], dist[keep][:limit], int(keep.sum()))
