"""One record kind in the PostGIS store: CRUD and exact spatial search.

PostGIS narrows, Python decides: the GiST indexes find candidates with bounds that can only
over-include (a sphere radius padded for the ellipsoid, float32 boxes, a polygon grown by 1e-9°),
and the final test and every distance use the same code as the embedded store (pyproj's
geodesics, shapely's covers, exact lon/lat comparisons). Results therefore equal the embedded
backend's in content and order: distance then fid for radius and k-nearest queries, fid otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, Generic

import numpy as np
import shapely
from psycopg.rows import tuple_row
from shapely.geometry.base import BaseGeometry

from poi_service.boundaries import Boundaries
from poi_service.errors import NotFound
from poi_service.geo import R_LOW_M, geodesic_m
from poi_service.models import Point
from poi_service.store.base import Hit, Page, Query
from poi_service.store.pg_text import tsquery, tsvectors
from poi_service.store.records import D, F, R, RecordSpec, new_id

if TYPE_CHECKING:
    from poi_service.store.postgis import Conn, PostgisStore

# PostGIS computes geography distances with use_spheroid=false on a sphere of this radius.
R_SPHERE_M = 6_371_008.771415
# A geodesic d spans a sphere angle of at most d / R_LOW_M (poi_service.geo), i.e. a sphere
# distance of at most d * SPHERE_PAD; conversely sphere distance s means a geodesic >= s / SPHERE_PAD.
SPHERE_PAD = R_SPHERE_M / R_LOW_M
POLYGON_GROW_DEG = 1e-9  # the SQL polygon prefilter is grown by this, so no covered point is lost
BATCH = 1000
POINT_SQL = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"


def ags_range(prefix: str) -> tuple[str, str]:
    """[low, high) bounds of every AGS that starts with prefix (the "C" collation compares bytes)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _pg(conditions: list[str]) -> list[str]:
    """RecordSpec.where() writes `?` placeholders; psycopg wants `%s`."""
    assert not any("%" in c for c in conditions)
    return [c.replace("?", "%s") for c in conditions]


class PgCollection(Generic[R, D, F]):
    """Collection protocol over one PostGIS table."""

    def __init__(self, store: PostgisStore, spec: RecordSpec[R, D, F]) -> None:
        self.store = store
        self.spec: RecordSpec[R, D, F] = spec
        t = spec.table
        cols = ("id", *spec.columns, "created_at", "updated_at", "doc", "tsv")
        values = ", ".join(f"%({c})s::tsvector" if c == "tsv" else f"%({c})s" for c in cols)
        changed = (*spec.columns, "updated_at", "doc", "tsv")
        # Table and column names come from the fixed RecordSpec; values are always parameters.
        self._insert = (
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({values}) "  # noqa: S608
            f"ON CONFLICT (external_key) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in changed)} "
            "RETURNING id"
        )
        assigns = ", ".join(f"{c} = %({c})s::tsvector" if c == "tsv" else f"{c} = %({c})s" for c in changed)
        self._update = f"UPDATE {t} SET {assigns} WHERE id = %(id)s RETURNING fid"  # noqa: S608
        self._select = f"SELECT fid, id, {', '.join(spec.columns)}, created_at, updated_at FROM {t}"  # noqa: S608

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_id: str) -> R:
        """The record with this id."""
        with self.store.reading() as conn:
            row = conn.execute(f"{self._select} WHERE id = %s", (record_id,)).fetchone()
        if row is None:
            raise NotFound(f"no {self.spec.table[:-1]} with id {record_id!r}")
        return self.spec.from_row(row)

    def count(self) -> int:
        """Number of records."""
        with self.store.reading() as conn:
            row = conn.execute(f"SELECT count(*) AS n FROM {self.spec.table}").fetchone()  # noqa: S608
        return int(row["n"]) if row else 0

    def iter_all(self) -> Iterator[R]:
        """Every record in fid order, read in batches."""
        last = 0
        while True:
            with self.store.reading() as conn:
                rows = conn.execute(
                    f"{self._select} WHERE fid > %s ORDER BY fid LIMIT {BATCH}", (last,)
                ).fetchall()
            if not rows:
                return
            last = rows[-1]["fid"]
            yield from (self.spec.from_row(r) for r in rows)

    def search(self, query: Query[F]) -> Page[R]:
        """Records matching every condition of the query."""
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query)
        with self.store.snapshot() as conn:
            if query.near is not None or query.polygon is not None:
                fids, dist = self._candidates(conn, query, conds, params)
                return self._page(conn, fids, dist, query)
            where = " AND ".join(conds) or "true"
            count_sql = f"SELECT count(*) AS n FROM {self.spec.table} WHERE {where}"  # noqa: S608
            total = conn.execute(count_sql, params).fetchone()
            rows = conn.execute(
                f"{self._select} WHERE {where} ORDER BY fid LIMIT %s OFFSET %s",
                [*params, query.limit, query.offset],
            ).fetchall()
        hits = [Hit(self.spec.from_row(r)) for r in rows]
        return Page(hits, int(total["n"]) if total else 0, query.limit, query.offset)

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k nearest records in exact geodesic order (ties by fid).

        Candidates come in sphere-distance order from the GiST index (`<->`); rows not yet seen are
        at least (last sphere distance) / SPHERE_PAD away, so once that bound passes the k-th exact
        distance the answer is final, else the candidate set doubles.
        """
        if k <= 0:
            return []
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(Query(filter))
        where = " AND ".join(conds) or "true"
        centre = f"{POINT_SQL}::geography"
        sql = (
            f"SELECT fid, lon, lat, geog <-> {centre} AS s FROM {self.spec.table} "  # noqa: S608
            f"WHERE {where} ORDER BY geog <-> {centre} LIMIT %s"
        )
        want = max(2 * k, k + 8)
        with self.store.snapshot() as conn:
            while True:
                cur = conn.cursor(row_factory=tuple_row)
                rows = cur.execute(
                    sql, [point.lon, point.lat, *params, point.lon, point.lat, want]
                ).fetchall()
                arr = np.array([r[:3] for r in rows], dtype=np.float64).reshape(-1, 3)
                fids = arr[:, 0].astype(np.int64)
                dist = geodesic_m(point.lon, point.lat, arr[:, 1], arr[:, 2])
                order = np.lexsort((fids, dist))
                fids, dist = fids[order], dist[order]
                if len(rows) < want:
                    break
                bound = float(rows[-1][3]) / SPHERE_PAD
                if len(fids) >= k and bound > dist[k - 1]:
                    break
                want *= 2
            fids, dist = fids[:k], dist[:k]
            records = self._fetch(conn, fids)
        return [Hit(records[f], d) for f, d in zip(fids.tolist(), dist.tolist(), strict=True)]

    # -- writes ------------------------------------------------------------------------------

    def add(self, data: D) -> R:
        """Stores one record (an existing external_key is updated in place)."""
        with self.store.writing() as conn:
            row = conn.execute(
                self._insert, self._row(data, _now(), *tsvectors([self.spec.document(data)])[0])
            )
            record_id = row.fetchone()
            assert record_id is not None
        return self.get(str(record_id["id"]))

    def add_many(self, rows: Iterable[D]) -> int:
        """Stores many records atomically, in batches."""
        n = 0
        now = _now()
        it = iter(rows)
        with self.store.writing() as conn:
            while batch := list(islice(it, BATCH)):
                texts = tsvectors([self.spec.document(d) for d in batch])
                params = [self._row(d, now, doc, tsv) for d, (doc, tsv) in zip(batch, texts, strict=True)]
                with conn.cursor() as cur:
                    cur.executemany(self._insert, params)
                n += len(batch)
        return n

    def update(self, record_id: str, data: D) -> R:
        """Replaces a record's data, keeping id and created_at."""
        row = self._row(data, _now(), *tsvectors([self.spec.document(data)])[0])
        row["id"] = record_id
        with self.store.writing() as conn:
            if conn.execute(self._update, row).fetchone() is None:
                raise NotFound(f"no {self.spec.table[:-1]} with id {record_id!r}")
        return self.get(record_id)

    def delete(self, record_id: str) -> None:
        """Removes a record."""
        t = self.spec.table
        with self.store.writing() as conn:
            if conn.execute(f"DELETE FROM {t} WHERE id = %s RETURNING fid", (record_id,)).fetchone() is None:  # noqa: S608
                raise NotFound(f"no {t[:-1]} with id {record_id!r}")

    def _row(self, data: D, now: datetime, doc: str, tsv: str) -> dict[str, Any]:
        return {
            **self.spec.to_row(data), "id": new_id(data.external_key),
            "created_at": now, "updated_at": now, "doc": doc, "tsv": tsv,
        }  # fmt: skip

    # -- query helpers -----------------------------------------------------------------------

    def _conditions(self, query: Query[F]) -> tuple[list[str], list[Any]]:
        """SQL conditions for everything but the radius and the exact polygon test."""
        where, params = self.spec.where(query.filter)
        conds = _pg(where)
        cats = self.spec.categories(query.filter)
        if cats:
            conds.append("category = ANY(%s)")
            params.append(list(cats))
        text = self.spec.text(query.filter)
        if text:
            match = tsquery(text)
            conds.append("tsv @@ %s::tsquery" if match else "false")
            params.extend([match] if match else [])
        boxes: list[tuple[float, float, float, float]] = []
        if query.bbox is not None:
            boxes.append((query.bbox.minx, query.bbox.miny, query.bbox.maxx, query.bbox.maxy))
        if query.polygon is not None:
            boxes.append(tuple(query.polygon.bounds))
            grown = _grown(query.polygon)
            if grown is not None:
                conds.append("ST_Intersects(geom, ST_GeomFromWKB(%s, 4326))")
                params.append(shapely.to_wkb(grown))
        for minx, miny, maxx, maxy in boxes:
            # The index holds float32 boxes rounded outward: narrow with it, then compare exactly.
            conds.append("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
            conds.append("lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s")
            params.extend((minx, miny, maxx, maxy, minx, maxx, miny, maxy))
        if query.area is not None:
            area = Boundaries.load(self.store.data_dir).resolve(query.area)
            conds.append("ags >= %s AND ags < %s")
            params.extend(ags_range(area.ags))
        return conds, params

    def _candidates(
        self, conn: Conn, query: Query[F], conds: list[str], params: list[Any]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """fids (and distances) of a radius and/or polygon search, in result order."""
        conds, params = list(conds), list(params)
        near = query.near
        if near is not None:
            conds.insert(0, f"ST_DWithin(geog, {POINT_SQL}::geography, %s, false)")
            params[:0] = [near.point.lon, near.point.lat, near.radius_m * SPHERE_PAD + 1.0]
        sql = f"SELECT fid, lon, lat FROM {self.spec.table} WHERE {' AND '.join(conds)} ORDER BY fid"  # noqa: S608
        rows = conn.cursor(row_factory=tuple_row).execute(sql, params).fetchall()
        arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
        fids, lons, lats = arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]
        keep = np.ones(len(fids), dtype=bool)
        if query.polygon is not None:
            keep &= _covers(query.polygon, lons, lats)
        if near is None:
            return fids[keep], None
        dist = geodesic_m(near.point.lon, near.point.lat, lons, lats)
        keep &= dist <= near.radius_m
        fids, dist = fids[keep], dist[keep]
        order = np.lexsort((fids, dist))  # ties broken by fid, as the embedded index does
        return fids[order], dist[order]

    def _page(self, conn: Conn, fids: np.ndarray, dist: np.ndarray | None, query: Query[F]) -> Page[R]:
        window = slice(query.offset, query.offset + query.limit)
        page_fids = fids[window]
        records = self._fetch(conn, page_fids)
        dists: list[float | None] = dist[window].tolist() if dist is not None else [None] * len(page_fids)
        hits = [Hit(records[f], d) for f, d in zip(page_fids.tolist(), dists, strict=True)]
        return Page(hits, len(fids), query.limit, query.offset)

    def _fetch(self, conn: Conn, fids: Sequence[int] | np.ndarray) -> dict[int, R]:
        if len(fids) == 0:
            return {}
        rows = conn.execute(f"{self._select} WHERE fid = ANY(%s)", ([int(f) for f in fids],)).fetchall()
        return {r["fid"]: self.spec.from_row(r) for r in rows}


def _grown(polygon: BaseGeometry) -> BaseGeometry | None:
    """The polygon grown by POLYGON_GROW_DEG for the SQL prefilter; None if it is not valid."""
    if not polygon.is_valid or polygon.is_empty:
        return None
    return polygon.buffer(POLYGON_GROW_DEG, quad_segs=1)


def _covers(polygon: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Inside or on the boundary, exactly as the embedded store decides it."""
    if len(lons) == 0:
        return np.zeros(0, dtype=bool)
    inside = shapely.contains_xy(polygon, lons, lats) | shapely.intersects_xy(polygon.boundary, lons, lats)
    return np.asarray(inside, dtype=bool)


def _now() -> datetime:
    return datetime.now(UTC)
