"""Answer checks of bench/http_bench.py: a broken server must not produce a pretty table.

Our API is compared with bench/baseline.py's brute force (totals, rows, distances to the cm that the
API rounds to); pygeoapi, which has no exact total and no defined order, must return
min(limit, total) features that all lie in the box."""

from __future__ import annotations

import httpx
import numpy as np

from bench.baseline import BruteForce
from bench.generate import row_of

Box = tuple[float, float, float, float]


def _get(client: httpx.Client, url: str) -> dict[str, object]:
    r = client.get(url)
    assert r.status_code == 200, f"{url}: HTTP {r.status_code} {r.text[:300]}"
    body: dict[str, object] = r.json()
    return body


def _features(body: dict[str, object]) -> list[dict[str, object]]:
    features = body["features"]
    assert isinstance(features, list)
    return features


def check_nearby(
    base: str,
    paths: list[str],
    centres: list[tuple[float, float]],
    brute: BruteForce,
    radius_m: float,
    limit: int,
) -> int:
    """GET /places/nearby == brute force (numberMatched, rows in order, distance_m); returns hits seen."""
    seen = 0
    with httpx.Client(timeout=30) as client:
        for path, (lon, lat) in zip(paths, centres, strict=True):
            body, want = _get(client, base + path), brute.within(lon, lat, radius_m, limit)
            feats = _features(body)
            rows = [row_of(str(f["properties"]["name"])) for f in feats]  # type: ignore[index]
            dist = [float(f["properties"]["distance_m"]) for f in feats]  # type: ignore[index]
            assert body["numberMatched"] == want.total, (
                f"{path}: numberMatched {body['numberMatched']} != {want.total}"
            )
            assert rows == want.rows.tolist(), f"{path}: rows {rows} != {want.rows.tolist()}"
            assert want.distances_m is not None and np.allclose(dist, want.distances_m, rtol=0, atol=0.006), (
                path
            )
            seen += len(feats)
    assert seen > 0, "no nearby query found a place: the check proves nothing"
    return seen


def check_bbox(
    base: str, paths: list[str], boxes: list[Box], brute: BruteForce, limit: int, exact: bool
) -> int:
    """A bbox page: exact=True (ours) wants numberMatched and the first rows by id; exact=False
    (pygeoapi) wants min(limit, total) distinct features inside the box. Returns features seen."""
    seen = 0
    with httpx.Client(timeout=60) as client:
        for path, box in zip(paths, boxes, strict=True):
            body = _get(client, base + path)
            feats = _features(body)
            every = brute.bbox(*box, limit=len(brute.lons))
            total = every.total
            if exact or "numberMatched" in body:
                assert body["numberMatched"] == total, (
                    f"{path}: numberMatched {body.get('numberMatched')} != {total}"
                )
            assert len(feats) == min(limit, total), f"{path}: {len(feats)} features, want {min(limit, total)}"
            if exact:
                rows = [row_of(str(f["properties"]["name"])) for f in feats]  # type: ignore[index]
                assert rows == every.rows[:limit].tolist(), f"{path}: rows {rows}"
            else:
                fids = {int(str(f["id"])) for f in feats}
                assert len(fids) == len(feats) and fids <= {int(r) + 1 for r in every.rows}, f"{path}: {fids}"
            seen += len(feats)
    assert seen > 0, "no bbox query found a place: the check proves nothing"
    return seen
