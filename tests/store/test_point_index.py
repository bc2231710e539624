"""The embedded store's in-memory indexes against brute force: exact geodesics to every row, and
SQLite's own answer to the AGS prefix range."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from poi_service.geo import geodesic_m
from poi_service.store.index import PointIndex
from poi_service.store.snapshot import AreaIndex


def clustered(n: int, seed: int) -> PointIndex:
    """Dense clusters (many rows near every radius, equal distances) across latitudes 0-80."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform((-10.0, 0.0), (30.0, 80.0), size=(20, 2))
    pick = centres[rng.integers(0, len(centres), n)]
    spread = rng.normal(0.0, 0.01, size=(n, 2))
    lons, lats = pick[:, 0] + spread[:, 0] / np.cos(np.radians(pick[:, 1])), pick[:, 1] + spread[:, 1]
    lons[:50], lats[:50] = lons[50], lats[50]  # duplicates: ties broken by fid
    fids = np.arange(1, n + 1, dtype=np.int64) * 3
    return PointIndex(fids, lons, lats, rng.integers(0, 3, n).astype(np.int64))


@pytest.mark.parametrize("seed", [1, 2])
def test_within_and_nearest_equal_exact_geodesics_to_every_row(seed: int) -> None:
    index = clustered(20_000, seed)
    rng = np.random.default_rng(seed + 100)
    for q in rng.integers(0, len(index), 40).tolist():
        lon, lat = float(index.lons[q]) + 0.001, float(index.lats[q])
        dist = geodesic_m(lon, lat, index.lons, index.lats)
        order = np.lexsort((index.fids, dist))
        for radius in (20.0, 80.0, 300.0, 1000.0, 2500.0):  # balls below and above page_near's SMALL_BALL
            inside = order[dist[order] <= radius]
            ball = index.within(lon, lat, radius)
            assert len(ball) == len(inside)
            for offset, limit in ((0, 10), (5, 7), (0, len(inside) + 1)):
                page = ball.page(offset, limit)
                want = inside[offset : offset + limit]
                assert page.fids.tolist() == index.fids[want].tolist()
                assert np.allclose(page.distances_m, dist[want], rtol=0, atol=1e-6)
                total, fids, distances = index.page_near(lon, lat, radius, (), offset, limit)
                assert (total, fids, distances) == (len(ball), page.fids.tolist(), page.distances_m.tolist())
            coded = order[(dist[order] <= radius) & (index.codes[order] == 1)]
            total, fids, distances = index.page_near(lon, lat, radius, (1,), 0, 10)
            assert total == len(coded) and fids == index.fids[coded[:10]].tolist()
            assert np.allclose(distances, dist[coded[:10]], rtol=0, atol=1e-6)
        for k in (1, 10, 60):
            got = index.nearest(lon, lat, k)
            assert got.fids.tolist() == index.fids[order[:k]].tolist()
            assert np.allclose(got.distances_m, dist[order[:k]], rtol=0, atol=1e-6)
        sub = np.flatnonzero(np.isin(index.codes, (0, 2)))
        sub_order = sub[np.lexsort((index.fids[sub], dist[sub]))]
        assert index.nearest(lon, lat, 10, (0, 2)).fids.tolist() == index.fids[sub_order[:10]].tolist()
        ball = index.within(lon, lat, 1000.0, (1,))
        assert len(ball) == int(((dist <= 1000.0) & (index.codes == 1)).sum())


def test_area_index_matches_the_sql_prefix_range() -> None:
    values = ["01001000", "01001", "0100", "01002000", "010010001", None, "", "0100\x00", "09", "01001000"]
    fids = np.arange(1, len(values) + 1, dtype=np.int64)
    areas = AreaIndex(fids, np.array([v or "" for v in values], dtype="S"))
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (fid INTEGER PRIMARY KEY, ags TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", zip(fids.tolist(), values, strict=True))
    for prefix in ("01", "01001", "0100", "01001000", "0100100010", "09", "1", "00"):
        high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        want = [
            r[0]
            for r in db.execute("SELECT fid FROM t WHERE ags >= ? AND ags < ? ORDER BY fid", (prefix, high))
        ]
        for offset, limit in ((0, 100), (1, 2)):
            got = areas.page(prefix, offset, limit)
            assert got is not None
            assert got[0] == len(want), prefix
            assert got[1].tolist() == want[offset : offset + limit], prefix
    assert areas.page("0ü", 0, 10) is None
