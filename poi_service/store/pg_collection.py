"""One record kind in the PostGIS store: CRUD and exact spatial search.

PostGIS narrows, Python decides: the GiST indexes find candidates with bounds that can only
over-include (a lon/lat box or a sphere radius padded for the ellipsoid, float32 boxes, a polygon
grown by 1e-9°),
and the final test and every distance use the same code as the embedded store (pyproj's
geodesics, shapely's covers, exact lon/lat comparisons). Results therefore equal the embedded
backend's in content and order: distance then fid for radius and k-nearest queries, fid otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Generic, Protocol

import anyio.to_thread
import numpy as np
import psycopg
import shapely
from psycopg.rows import DictRow, tuple_row

from poi_service.boundaries import Boundaries
from poi_service.errors import NotFound
from poi_service.geo import R_LOW_M, geodesic_m
from poi_service.models import Point
from poi_service.store.base import Extent, Hit, ImportPlan, Near, Page, Query
from poi_service.store.history import plan_rows
from poi_service.store.hours_filter import open_mask
from poi_service.store.pg_async import LoopPools
from poi_service.store.pg_helpers import covers, grown, radius_box
from poi_service.store.pg_text import tsquery
from poi_service.store.records import D, F, R, RecordSpec, ags_range, extent_of, extent_sql

Conn = psycopg.Connection[DictRow]


class Connections(Protocol):
    """What a collection needs from its store (PostgisStore)."""

    data_dir: Path

    def reading(self) -> AbstractContextManager[Conn]: ...
    def writing(self) -> AbstractContextManager[Conn]: ...
    def snapshot(self) -> AbstractContextManager[Conn]: ...
    @property
    def loop_pools(self) -> LoopPools: ...


# PostGIS computes geography distances with use_spheroid=false on a sphere of this radius.
R_SPHERE_M = 6_371_008.771415
# A geodesic d spans a sphere angle of at most d / R_LOW_M (poi_service.geo), i.e. a sphere
# distance of at most d * SPHERE_PAD; conversely sphere distance s means a geodesic >= s / SPHERE_PAD.
SPHERE_PAD = R_SPHERE_M / R_LOW_M
BATCH = 1000
# Candidates of a radius/polygon search read as whole rows in one statement; more: two statements.
FEW_CANDIDATES = 200
LIVE = "deleted_at IS NULL"
# Counters of committed changes. A sequence or timestamps would not do: they are taken before
# commit, so a transaction committing late could leave the maximum unchanged.
CHANGE_VERSION = "SELECT version FROM poi_changes WHERE collection = %s"
CHANGE_BUMP = "UPDATE poi_changes SET version = version + 1 WHERE collection = %s"
POINT_SQL = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"


def near_conditions(near: Near | None, conds: list[str], params: list[Any]) -> tuple[list[str], list[Any]]:
    """The conditions with the radius's index condition first: a lon/lat box on the geometry index
    where radius_box gives one (a fraction of the geography test's cost), else ST_DWithin on the
    geography index, on a sphere padded to over-include. The geodesic decides in Python."""
    if near is None:
        return conds, params
    box = radius_box(near.point.lon, near.point.lat, near.radius_m)
    if box is not None:
        return ["geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)", *conds], [*box, *params]
    dwithin = f"ST_DWithin(geog, {POINT_SQL}::geography, %s, false)"
    return [dwithin, *conds], [near.point.lon, near.point.lat, near.radius_m * SPHERE_PAD + 1.0, *params]


def _pg(conditions: list[str]) -> list[str]:
    """RecordSpec.where() writes `?` placeholders; psycopg wants `%s`."""
    assert not any("%" in c for c in conditions)
    return [c.replace("?", "%s") for c in conditions]


class PgReads(Generic[R, D, F]):
    """The read half of the Collection protocol over one PostGIS table (writes: pg_write.py).

    Reads see live records only (`deleted_at IS NULL`), apart from get(include_deleted=True).
    """

    def __init__(self, store: Connections, spec: RecordSpec[R, D, F]) -> None:
        self.store = store
        self.spec: RecordSpec[R, D, F] = spec
        t = spec.table
        self._select = (
            f"SELECT fid, id, {', '.join(spec.columns)}, created_at, updated_at, version, deleted_at"
        )
        self._from = f"{self._select} FROM {t}"
        self._versioned = f"SELECT xmin::text AS row_version, {self._select.removeprefix('SELECT ')} FROM {t}"  # noqa: S608
        self._names = ["fid", "id", *spec.columns, "created_at", "updated_at", "version", "deleted_at"]
        # Where _few_candidates finds what the exact tests need in a whole row.
        self._at = {c: self._names.index(c) for c in ("lon", "lat", "opening_hours") if c in self._names}

    # -- reads -------------------------------------------------------------------------------

    def get(self, record_id: str, *, include_deleted: bool = False) -> R:
        """The record with this id (a soft-deleted one only with include_deleted)."""
        live = "" if include_deleted else f" AND {LIVE}"
        with self.store.reading() as conn:
            row = conn.execute(f"{self._from} WHERE id = %s{live}", (record_id,)).fetchone()
        if row is None:
            raise NotFound(f"no {self.spec.noun} with id {record_id!r}")
        return self.spec.from_row(row)

    def count(self) -> int:
        """Number of live records."""
        with self.store.reading() as conn:
            row = conn.execute(f"SELECT count(*) AS n FROM {self.spec.table} WHERE {LIVE}").fetchone()  # noqa: S608
        return int(row["n"]) if row else 0

    def ready(self) -> bool:
        """Never: every query is a round trip to the server, which belongs in a worker thread."""
        return False

    def warm(self) -> None:
        """Nothing to build: PostGIS keeps its indexes."""

    def data_version(self) -> int:
        """The collection's change counter (poi_changes, bumped by every write transaction)."""
        with self.store.reading() as conn:
            row = conn.execute(CHANGE_VERSION, (self.spec.table,)).fetchone()
        return int(row["version"]) if row else 0

    def plan(self, rows: Sequence[D]) -> ImportPlan:
        """What add_many(rows) would do, from the live records of the rows' keys (one query)."""
        keys = list({d.external_key for d in rows if d.external_key is not None})
        with self.store.reading() as conn:
            found = conn.execute(f"{self._from} WHERE external_key = ANY(%s) AND {LIVE}", (keys,)).fetchall()
        stored = {r["external_key"]: self.spec.from_row(r) for r in found}
        return plan_rows(self.spec, rows, stored)

    def extent(self) -> Extent | None:
        """Bounds and join-date interval of the live records."""
        with self.store.reading() as conn:
            row = conn.execute(extent_sql(self.spec, LIVE)).fetchone()
        return extent_of(None if row is None else list(row.values()))

    def iter_all(self) -> Iterator[R]:
        """Every live record in fid order, read in batches."""
        last = 0
        while True:
            with self.store.reading() as conn:
                rows = conn.execute(
                    f"{self._from} WHERE fid > %s AND {LIVE} ORDER BY fid LIMIT {BATCH}", (last,)
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
        if query.near is not None or query.polygon is not None or self.spec.open_at(query.filter) is not None:
            conds, params = near_conditions(query.near, conds, params)
            return self._few_candidates(query, conds, params) or self._consistently(
                lambda conn, final: self._spatial_page(conn, final, query, conds, params)
            )
        where = " AND ".join(conds) or "true"
        t = self.spec.table
        count_sql = f"SELECT count(*) AS n FROM {t} WHERE {where}"  # noqa: S608
        # One statement, one snapshot: the page and (as an init plan, evaluated once) the total.
        page_sql = (
            f"{self._select}, ({count_sql}) AS total FROM {t} WHERE {where} ORDER BY fid LIMIT %s OFFSET %s"
        )
        with self.store.reading() as conn:
            rows = conn.execute(page_sql, [*params, *params, query.limit, query.offset]).fetchall()
            if rows:
                total = int(rows[0]["total"])
            elif query.offset == 0 and query.limit > 0:
                total = 0
            else:  # past the end: the page holds no row to carry the total
                row = conn.execute(count_sql, params).fetchone()
                total = int(row["n"]) if row else 0
        hits = [Hit(self.spec.from_row(r)) for r in rows]
        return Page(hits, total, query.limit, query.offset)

    def nearest(self, point: Point, k: int, filter: F) -> list[Hit[R]]:
        """The k nearest records in exact geodesic order (ties by fid).

        Candidates (whole rows) come in sphere-distance order from the GiST index (`<->`); rows
        not among them are at least (last sphere distance) / SPHERE_PAD away, so once that bound
        passes the k-th exact distance the answer is final, else the candidate set doubles. The
        answer comes from one statement, so it is consistent under concurrent writes.
        """
        if k <= 0:
            return []
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(Query(filter))
        where = " AND ".join(conds) or "true"
        centre = f"{POINT_SQL}::geography"
        sql = (
            f"{self._select}, geog <-> {centre} AS s FROM {self.spec.table} WHERE {where} ORDER BY s LIMIT %s"
        )
        want = max(2 * k, k + 8)
        at = self.spec.open_at(filter)
        with self.store.reading() as conn:
            while True:
                rows = conn.execute(sql, [point.lon, point.lat, *params, want]).fetchall()
                fids = np.fromiter((r["fid"] for r in rows), np.int64, len(rows))
                lons = np.fromiter((r["lon"] for r in rows), np.float64, len(rows))
                lats = np.fromiter((r["lat"] for r in rows), np.float64, len(rows))
                dist = geodesic_m(point.lon, point.lat, lons, lats)
                order = np.lexsort((fids, dist))
                if at is not None:  # only the open ones count, in the same order
                    hours = [(r["fid"], r["lon"], r["lat"], r["opening_hours"]) for r in rows]
                    order = order[open_mask(hours, at)[order]]
                if len(rows) < want:
                    break
                if len(order) >= k and float(rows[-1]["s"]) / SPHERE_PAD > dist[order[k - 1]]:
                    break
                want *= 2
        return [Hit(self.spec.from_row(rows[i]), float(dist[i])) for i in order[:k].tolist()]

    # -- query helpers -----------------------------------------------------------------------

    def _conditions(self, query: Query[F]) -> tuple[list[str], list[Any]]:
        """SQL conditions for everything but the radius and the exact polygon test."""
        spec_conds, params = self.spec.where(query.filter)
        conds = _pg(spec_conds)
        conds.insert(0, LIVE)
        cats = self.spec.categories(query.filter)
        if cats:
            conds.append("category = ANY(%s)")
            params.append(list(cats))
        text = self.spec.text(query.filter)
        if text:
            match: str | None = tsquery(text)
            also: list[str] = list(
                self.spec.text_categories(query.filter)
            )  # categories whose label the text names
            alt = " OR category = ANY(%s)" if also else ""
            conds.append(f"({'tsv @@ %s::tsquery' if match else 'false'}{alt})")
            params.extend([*([match] if match else []), *([also] if also else [])])
        boxes: list[tuple[float, float, float, float]] = []
        if query.bbox is not None:
            boxes.append((query.bbox.minx, query.bbox.miny, query.bbox.maxx, query.bbox.maxy))
        if query.polygon is not None:
            boxes.append(tuple(query.polygon.bounds))
            prefilter = grown(query.polygon)
            if prefilter is not None:
                conds.append("ST_Intersects(geom, ST_GeomFromWKB(%s, 4326))")
                params.append(shapely.to_wkb(prefilter))
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

    def _consistently(self, answer: Callable[[Conn, bool], Page[R] | None]) -> Page[R]:
        """Runs a two-statement read optimistically on a plain connection; should a concurrent
        write have changed a page row between the statements (its xmin differs: answer returns
        None), runs it again in a REPEATABLE READ snapshot, where that cannot happen."""
        with self.store.reading() as conn:
            page = answer(conn, False)
        if page is None:
            with self.store.snapshot() as conn:
                page = answer(conn, True)
        assert page is not None
        return page

    def _decide(self, query: Query[F], rows: list[Any], lon: int, lat: int, hours: int) -> tuple[Any, Any]:
        """The exact tests on candidate rows (tuples, fid first, then lon, lat and opening hours at
        these positions): (indexes of the matches in answer order, distances)."""
        fids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        lons = np.fromiter((r[lon] for r in rows), np.float64, len(rows))
        lats = np.fromiter((r[lat] for r in rows), np.float64, len(rows))
        at = self.spec.open_at(query.filter)
        keep = np.ones(len(fids), dtype=bool)
        if at is not None:
            keep = open_mask(rows, at, lon=lon, lat=lat, hours=hours)
        if query.polygon is not None:
            keep &= covers(query.polygon, lons, lats)
        near = query.near
        dist = np.zeros(len(fids))
        if near is not None:
            dist = geodesic_m(near.point.lon, near.point.lat, lons, lats)
            keep &= dist <= near.radius_m
        (idx,) = np.nonzero(keep)
        return idx[np.lexsort((fids[idx], dist[idx]))], dist  # by distance (if any), ties by fid

    def _few_sql(self, conds: list[str]) -> str:
        return f"{self._from} WHERE {' AND '.join(conds)} LIMIT {FEW_CANDIDATES + 1}"

    def _few_candidates(self, query: Query[F], conds: list[str], params: list[Any]) -> Page[R] | None:
        """A radius and/or polygon search in one statement, when the indexes find at most
        FEW_CANDIDATES candidates (a 1 km radius almost always): their whole rows, the exact test
        and order here. One statement sees one snapshot, so nothing can change in between. None
        when there are more (they stay unread on the server: psycopg decodes rows on fetch). Binary
        rows: timestamps and numbers decode for a fraction of their text's cost."""
        with self.store.reading() as conn:
            cur = conn.cursor(row_factory=tuple_row).execute(self._few_sql(conds), params, binary=True)
            if cur.rowcount > FEW_CANDIDATES:
                return None
            return self._few_page(query, cur.fetchall())

    def _few_page(self, query: Query[F], rows: list[Any]) -> Page[R]:
        """The page of _few_candidates from the candidates' whole rows (tuples)."""
        at = self._at
        idx, dist = self._decide(query, rows, at["lon"], at["lat"], at.get("opening_hours", -1))
        names, near = self._names, query.near is not None
        hits = [
            Hit(self.spec.from_row(dict(zip(names, rows[i], strict=True))), float(dist[i]) if near else None)
            for i in idx[query.offset : query.offset + query.limit].tolist()
        ]
        return Page(hits, len(idx), query.limit, query.offset)

    async def asearch(self, query: Query[F]) -> Page[R]:
        """search() for async callers: a radius/polygon search with few candidates and no text
        (GET /places/nearby) on the running event loop (store.pg_async), anything else in a worker
        thread. The same statements and the same exact tests as search(), so the same answers."""
        spatial = query.near is not None or query.polygon is not None or self.spec.open_at(query.filter)
        # Text search wants a plan for its words (the loop's connections keep generic plans).
        if not spatial or self.spec.text(query.filter) or query.area is not None:
            return await anyio.to_thread.run_sync(self.search, query)
        conds: list[str]
        params: list[Any]
        conds, params = self._conditions(query)
        conds, params = near_conditions(query.near, conds, params)
        pool = self.store.loop_pools.current()
        conn = await pool.get()
        try:
            cur = await conn.cursor().execute(self._few_sql(conds), params, binary=True)
            rows = await cur.fetchall() if cur.rowcount <= FEW_CANDIDATES else None
        finally:
            pool.put(conn)
        if rows is not None:
            return self._few_page(query, rows)
        return await anyio.to_thread.run_sync(
            self._consistently, lambda conn, final: self._spatial_page(conn, final, query, conds, params)
        )

    def _spatial_page(
        self, conn: Conn, final: bool, query: Query[F], conds: list[str], params: list[Any]
    ) -> Page[R] | None:
        """A radius and/or polygon search with many candidates: every candidate's (fid, lon, lat,
        row version) from the indexes, the exact test and order here, then the page's rows by fid.
        None if one of them changed between the two statements (not final).

        (Whole rows of every candidate, as _few_candidates reads them, would cost the database and
        the API far more than the page's rows once the candidates run into the thousands.)"""
        hours = "" if self.spec.open_at(query.filter) is None else ", opening_hours"
        sql = f"SELECT fid, lon, lat, xmin::text{hours} FROM {self.spec.table} WHERE {' AND '.join(conds)}"  # noqa: S608
        rows = conn.cursor(row_factory=tuple_row).execute(sql, params).fetchall()
        idx, dist = self._decide(query, rows, 1, 2, 4)
        fids = [int(rows[i][0]) for i in idx[query.offset : query.offset + query.limit].tolist()]
        page = self._fetch(conn, fids)
        hits: list[Hit[R]] = []
        for i in idx[query.offset : query.offset + query.limit].tolist():
            row = page.get(int(rows[i][0]))
            if row is None or row["row_version"] != rows[i][3]:
                if not final:
                    return None
                continue  # inside a READ COMMITTED write transaction: skip what another one removed
            hits.append(Hit(self.spec.from_row(row), float(dist[i]) if query.near is not None else None))
        return Page(hits, len(idx), query.limit, query.offset)

    def _fetch(self, conn: Conn, fids: list[int]) -> dict[int, DictRow]:
        """Rows by fid, each with its row version (xmin: changes with every update)."""
        if not fids:
            return {}
        rows = conn.execute(f"{self._versioned} WHERE fid = ANY(%s)", (fids,)).fetchall()
        return {int(r["fid"]): r for r in rows}
