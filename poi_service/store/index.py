"""In-memory point index: a k-d tree on the unit sphere, refined by exact WGS84 geodesics.

The tree works on sphere chords. A chord's sphere angle theta bounds the geodesic between
R_MIN_M * theta and R_MAX_M * theta (poi_service.geo, about +-0.5 %), which decides most rows
without a geodesic: exact ones (pyproj) are computed only for rows inside that margin of the radius
and for the rows that can still be on the requested page. Totals, order and every returned distance
are what exact geodesics to all rows give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from poi_service.geo import (
    R_MAX_M,
    R_MIN_M,
    FloatArray,
    geodesic_pair_m,
    geodesics_m,
    to_xyz,
    unit_vector,
)

IntArray = npt.NDArray[np.int64]
_EMPTY_I = np.empty(0, np.int64)
_EMPTY_F = np.empty(0, np.float64)


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Row keys (fids) and geodesic distances, nearest first (ties by fid)."""

    fids: IntArray
    distances_m: FloatArray


def _chord(theta: float) -> float:
    return 2.0 * math.sin(min(theta, math.pi) / 2.0)


def _widen(chord: float) -> float:
    """The chord beyond which a row's lower bound exceeds the upper bound of a row at `chord`."""
    return _chord(2.0 * math.asin(min(chord / 2.0, 1.0)) * _RATIO)


_RATIO = R_MAX_M / R_MIN_M
SMALL_BALL = 48  # candidates decided in plain Python by page_near (numpy above)


class Ball:
    """The rows within a radius (membership exact), ordered by chord; exact distances on demand.

    Everything is compared in chord space (chords grow with the sphere angle), so bounds are
    scalar conversions and no per-row trigonometry is needed.
    """

    def __init__(
        self, index: PointIndex, lon: float, lat: float, pos: IntArray, chords: FloatArray, exact: FloatArray
    ) -> None:
        self._index, self._lon, self._lat = index, lon, lat
        self._pos, self._chords, self._exact = pos, chords, exact  # exact: NaN where not computed yet

    def __len__(self) -> int:
        return len(self._pos)

    @property
    def fids(self) -> IntArray:
        """Every member's fid (chord order)."""
        fids: IntArray = self._index.fids[self._pos]
        return fids

    def keep(self, mask: npt.NDArray[np.bool_]) -> Ball:
        """Only the members where mask is true (e.g. those matching further SQL conditions)."""
        return Ball(self._index, self._lon, self._lat, self._pos[mask], self._chords[mask], self._exact[mask])

    def page(self, offset: int, limit: int) -> Neighbours:
        """Members offset .. offset + limit by (geodesic, fid)."""
        m = min(offset + limit, len(self._pos))
        if m <= offset:
            return Neighbours(_EMPTY_I, _EMPTY_F)
        # The m-th row's upper bound caps the m-th distance; rows whose lower bound exceeds it
        # cannot be among the first m.
        cut = int(np.searchsorted(self._chords, _widen(float(self._chords[m - 1])), "right"))
        idx = self._index
        pos = self._pos[:cut]
        # A page's candidates are a few dozen rows: plain lists beat a dozen small numpy calls.
        exact = self._exact[:cut].tolist()
        todo = [i for i, d in enumerate(exact) if d != d]  # NaN: not computed yet
        if todo:
            at = pos[todo]
            for i, d in zip(
                todo,
                geodesics_m(self._lon, self._lat, idx.lons[at].tolist(), idx.lats[at].tolist()),
                strict=True,
            ):
                exact[i] = d
        rows = sorted(zip(exact, idx.fids[pos].tolist(), strict=True))[offset:m]
        return Neighbours(
            np.array([f for _, f in rows], np.int64), np.array([d for d, _ in rows], np.float64)
        )


class PointIndex:
    """Exact radius and k-nearest queries over (fid, lon, lat) rows; a snapshot, rebuilt on change."""

    def __init__(
        self, fids: IntArray, lons: FloatArray, lats: FloatArray, codes: IntArray, tree: cKDTree | None = None
    ) -> None:
        self.fids = fids
        self.lons = lons
        self.lats = lats
        self.codes = codes  # small-integer attribute per row (category), -1 when none
        if tree is None and len(fids):
            # Median splits (balanced_tree) cost twice the build time at 1M rows (0.55 s against
            # 0.29 s here) for no measurable gain on small balls.
            tree = cKDTree(to_xyz(lons, lats), balanced_tree=False)
        self._tree = tree
        self._subsets: dict[tuple[int, ...], PointIndex] = {}

    @property
    def tree(self) -> cKDTree | None:
        """The k-d tree over the rows' unit vectors (None when empty); snapshot_file stores it."""
        return self._tree

    def __len__(self) -> int:
        return len(self.fids)

    def within(self, lon: float, lat: float, radius_m: float, codes: tuple[int, ...] = ()) -> Ball:
        """Every row within radius_m (geodesic) of the point, optionally only rows with these codes."""
        if self._tree is None:
            return Ball(self, lon, lat, _EMPTY_I, _EMPTY_F, _EMPTY_F)
        centre = np.array(unit_vector(lon, lat))
        # Sure in below chord `inner`, sure out above `outer`; geodesics decide in between.
        inner, outer = _chord(radius_m / R_MAX_M), _chord(radius_m / R_MIN_M)
        found = self._tree.query_ball_point(centre, outer)
        if not found:  # common for small radii: skip the array work below
            return Ball(self, lon, lat, _EMPTY_I, _EMPTY_F, _EMPTY_F)
        pos = np.array(found, dtype=np.int64)
        if codes:
            pos = pos[np.isin(self.codes[pos], codes)]
        d = self._tree.data[pos]
        d -= centre
        chords = np.sqrt(np.einsum("ij,ij->i", d, d))
        order = np.argsort(chords, kind="stable")
        pos, chords = pos[order], chords[order]
        exact = np.full(len(pos), np.nan)
        lo = int(np.searchsorted(chords, inner, "left"))
        hi = int(np.searchsorted(chords, outer, "right"))
        if hi == lo:
            return Ball(self, lon, lat, pos[:lo], chords[:lo], exact[:lo])
        at = pos[lo:hi]
        shell = geodesics_m(lon, lat, self.lons[at].tolist(), self.lats[at].tolist())
        exact[lo:hi] = shell
        kept = [d <= radius_m for d in shell]
        if all(kept):  # the usual case (a thin shell): no masks
            return Ball(self, lon, lat, pos[:hi], chords[:hi], exact[:hi])
        inside = np.ones(hi, np.bool_)
        inside[lo:] = kept
        return Ball(self, lon, lat, pos[:hi][inside], chords[:hi][inside], exact[:hi][inside])

    def page_near(
        self, lon: float, lat: float, radius_m: float, codes: tuple[int, ...], offset: int, limit: int
    ) -> tuple[int, list[int], list[float]]:
        """(total, fids, distances) of within(...).page(offset, limit), the same numbers.

        Most random points in Germany have a few dozen rows within 1 km at most; for them the dozen
        numpy calls of within() and page() cost more than the work, so up to SMALL_BALL candidates are
        decided in plain Python (~15 µs less per query at 1M places, bench/store_bench.py keys only);
        larger balls take within().page(). tests/store/test_point_index.py checks both against exact
        geodesics to every row."""
        tree = self._tree
        if tree is None:
            return 0, [], []
        cx, cy, cz = unit_vector(lon, lat)
        inner, outer = _chord(radius_m / R_MAX_M), _chord(radius_m / R_MIN_M)
        found = tree.query_ball_point((cx, cy, cz), outer)
        if len(found) > SMALL_BALL:
            ball = self.within(lon, lat, radius_m, codes)
            page = ball.page(offset, limit)
            return len(ball), page.fids.tolist(), page.distances_m.tolist()
        if not found:
            return 0, [], []
        if codes:
            found = [i for i, c in zip(found, self.codes[found].tolist(), strict=True) if c in codes]
        rows = []  # (chord, position) of the candidates
        for i, (x, y, z) in zip(found, tree.data[found].tolist(), strict=True):
            dx, dy, dz = x - cx, y - cy, z - cz
            chord = math.sqrt(dx * dx + dy * dy + dz * dz)
            if chord <= outer:
                rows.append((chord, i))
        rows.sort()
        lons, lats, fids = self.lons, self.lats, self.fids
        exact: dict[int, float] = {}  # position -> geodesic, computed where the bounds cannot decide
        members = []
        for chord, i in rows:
            if chord >= inner:  # within() decides rows from `inner` on by their geodesic too
                exact[i] = d = geodesic_pair_m(lon, lat, float(lons[i]), float(lats[i]))
                if d > radius_m:
                    continue
            members.append((chord, i))
        m = min(offset + limit, len(members))
        if m <= offset:
            return len(members), [], []
        cap = _widen(members[m - 1][0])
        ranked = []
        for chord, i in members:
            if chord > cap:
                break
            known = exact.get(i)
            dist = geodesic_pair_m(lon, lat, float(lons[i]), float(lats[i])) if known is None else known
            ranked.append((dist, int(fids[i])))
        ranked.sort()
        chosen = ranked[offset:m]
        return len(members), [f for _, f in chosen], [d for d, _ in chosen]

    def nearest(self, lon: float, lat: float, k: int, codes: tuple[int, ...] = ()) -> Neighbours:
        """The k rows nearest to the point (geodesic), optionally only rows with these codes."""
        if codes:
            return self._subset(codes).nearest(lon, lat, k)
        n = len(self.fids)
        if self._tree is None or k <= 0:
            return Neighbours(_EMPTY_I, _EMPTY_F)
        centre = np.array(unit_vector(lon, lat))
        want = min(n, k + 8)
        while True:
            chords, pos = self._tree.query(centre, k=want)
            chords, pos = np.atleast_1d(chords), np.atleast_1d(pos).astype(np.int64)
            cap = _widen(float(chords[min(k, want) - 1]))
            # Rows past `want` have larger chords: done once the last one is beyond the cap.
            if want >= n or chords[-1] > cap:
                break
            want = min(n, want * 2)
        cut = int(np.searchsorted(chords, cap, "right"))
        return Ball(self, lon, lat, pos[:cut], chords[:cut], np.full(cut, np.nan)).page(0, k)

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
