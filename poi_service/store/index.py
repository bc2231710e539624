"""In-memory point index: a k-d tree on the unit sphere, refined by exact WGS84 geodesics.

The tree finds candidates with a chord bound that can only over-include (poi_service.geo);
every returned distance is the exact geodesic, so results are exact, not approximations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from poi_service.geo import FloatArray, chord_upper, geodesic_lower_m, geodesic_m, to_xyz, unit_vector

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Row keys (fids) and geodesic distances, nearest first."""

    fids: IntArray
    distances_m: FloatArray


def _sorted(fids: IntArray, dist: FloatArray) -> Neighbours:
    order = np.lexsort((fids, dist))  # ties broken by fid so pages are stable
    return Neighbours(fids[order], dist[order])


class PointIndex:
    """Exact radius and k-nearest queries over (fid, lon, lat) rows; a snapshot, rebuilt on change."""

    def __init__(self, fids: IntArray, lons: FloatArray, lats: FloatArray, codes: IntArray) -> None:
        self.fids = fids
        self.lons = lons
        self.lats = lats
        self.codes = codes  # small-integer attribute per row (category), -1 when none
        self._tree = cKDTree(to_xyz(lons, lats)) if len(fids) else None
        self._subsets: dict[tuple[int, ...], PointIndex] = {}

    def __len__(self) -> int:
        return len(self.fids)

    def within(self, lon: float, lat: float, radius_m: float, codes: tuple[int, ...] = ()) -> Neighbours:
        """Every row within radius_m (geodesic) of the point, optionally only rows with these codes."""
        if self._tree is None:
            return Neighbours(np.empty(0, np.int64), np.empty(0))
        centre = unit_vector(lon, lat)
        pos = np.asarray(self._tree.query_ball_point(centre, chord_upper(radius_m)), dtype=np.int64)
        if codes:
            pos = pos[np.isin(self.codes[pos], codes)]
        dist = geodesic_m(lon, lat, self.lons[pos], self.lats[pos])
        keep = dist <= radius_m
        return _sorted(self.fids[pos[keep]], dist[keep])

    def nearest(self, lon: float, lat: float, k: int, codes: tuple[int, ...] = ()) -> Neighbours:
        """The k rows nearest to the point (geodesic), optionally only rows with these codes."""
        if codes:
            return self._subset(codes).nearest(lon, lat, k)
        n = len(self.fids)
        if self._tree is None or k <= 0:
            return Neighbours(np.empty(0, np.int64), np.empty(0))
        centre = unit_vector(lon, lat)
        want = min(n, max(2 * k, k + 8))
        while True:
            chords, pos = self._tree.query(centre, k=want)
            chords = np.atleast_1d(chords)
            pos = np.atleast_1d(pos).astype(np.int64)
            dist = geodesic_m(lon, lat, self.lons[pos], self.lats[pos])
            best = _sorted(self.fids[pos], dist)
            if want >= n:
                break
            # Rows beyond the candidates are at least this far away; stop once that bound
            # cannot beat the k-th exact distance, otherwise widen the candidate set.
            bound = float(geodesic_lower_m(np.array([chords[-1]]))[0])
            if len(best.fids) >= k and bound >= best.distances_m[k - 1]:
                break
            want = min(n, want * 2)
        return Neighbours(best.fids[:k], best.distances_m[:k])

    def restrict(self, allowed: IntArray) -> PointIndex:
        """A smaller index over only the rows whose fid is in `allowed` (e.g. a text match)."""
        keep = np.isin(self.fids, allowed)
        return PointIndex(self.fids[keep], self.lons[keep], self.lats[keep], self.codes[keep])

    def _subset(self, codes: tuple[int, ...]) -> PointIndex:
        key = tuple(sorted(codes))
        sub = self._subsets.get(key)
        if sub is None:
            keep = np.isin(self.codes, key)
            sub = PointIndex(self.fids[keep], self.lons[keep], self.lats[keep], self.codes[keep])
            self._subsets[key] = sub
        return sub
