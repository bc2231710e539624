"""What only the PostGIS backend has: several servers on one database, concurrent migrations,
indexes, the pool under threads; and, query by query, the same answers as the embedded store."""

from __future__ import annotations

import dataclasses
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import Polygon, box

from tests import pg

if not pg.in_ci():  # locally a missing driver skips this module; under CI the import below fails
    pytest.importorskip("psycopg", reason="psycopg not installed: pip install -e '.[test]'")

import psycopg

from poi_service.errors import Conflict, PoiError, PreconditionFailed
from poi_service.models import BBox, Place, Point
from poi_service.store import Hit, Near, Page, PlaceFilter, Query, Store, open_store, pg_collection
from poi_service.store.pg_schema import SCHEMA_VERSION, STEPS, migrate
from poi_service.store.postgis import PostgisStore, redacted, split_url
from tests.conftest import DATA_DIR
from tests.factories import CATEGORIES, random_places

pytestmark = pytest.mark.postgis

HARRISLEE_HALL = Point(9.3866, 54.7998)


@pytest.fixture()
def url() -> str:
    """A fresh empty database (fails under CI, skips locally, when PostGIS cannot be had)."""
    pg.require()
    return pg.fresh_database_url()


@pytest.fixture()
def pgstore(url: str) -> Iterator[PostgisStore]:
    s = PostgisStore(url, DATA_DIR)
    try:
        yield s
    finally:
        s.close()


def test_two_servers_see_each_others_writes_at_once(url: str) -> None:
    a, b = PostgisStore(url, DATA_DIR), PostgisStore(url, DATA_DIR)
    try:
        query = Query(PlaceFilter(), near=Near(HARRISLEE_HALL, 50_000))
        assert b.places.search(query).total == 0
        added = a.places.add(random_places(1)[0])
        assert [h.record.id for h in b.places.search(query).hits] == [added.id]
        assert b.places.get(added.id) == added
        moved = dataclasses.replace(random_places(1)[0], point=Point(9.40, 54.80))
        b.places.update(added.id, moved)
        assert a.places.get(added.id).point == Point(9.40, 54.80)
        b.places.delete(added.id)
        assert a.places.search(query).total == 0
        assert a.places.nearest(HARRISLEE_HALL, 3, PlaceFilter()) == []
        a.cache_put("nominatim", "harrislee", "x")
        assert b.cache_get("nominatim", "harrislee") == "x"
    finally:
        a.close()
        b.close()


def test_migrations_are_idempotent_and_safe_concurrently(url: str) -> None:
    barrier = threading.Barrier(4)

    def start() -> int:
        barrier.wait()
        with psycopg.connect(url, autocommit=True) as conn:
            return migrate(conn)[0]

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: start(), range(4))) == [SCHEMA_VERSION] * 4
    for _ in range(2):  # and again, sequentially, on the migrated database
        PostgisStore(url, DATA_DIR).close()
    with psycopg.connect(url) as conn:
        steps = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert steps == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").fetchone() == (1,)


def test_upgrades_a_schema_1_database_in_place(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from poi_service.store import pg_schema

    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", 1)  # a database made by the previous release
    with psycopg.connect(url, autocommit=True) as conn:
        assert migrate(conn) == (1, False)
        conn.execute(
            "INSERT INTO places (id, name, category, lon, lat, geocode_source, geocode_precision, "
            "geocode_confidence, geocoded_at, created_at, updated_at, doc, tsv) VALUES ('old-1', 'Alte Mühle', "
            "'artwork', 9.4, 54.8, 'input', 'exact', 1.0, now(), now(), now(), 'alte muhle', "
            "to_tsvector('simple', 'alte muhle'))"
        )
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", SCHEMA_VERSION)
    assert sorted(STEPS) == list(range(1, SCHEMA_VERSION + 1))
    store = PostgisStore(url, DATA_DIR)
    try:
        old = store.places.get("old-1")
        assert (old.version, old.deleted_at, store.places.history("old-1")) == (1, None, [])
        assert [h.record.id for h in store.places.search(Query(PlaceFilter(text="muhle"))).hits] == ["old-1"]
        store.places.delete("old-1", expected_version=1, actor="k")
        assert store.places.count() == 0 and store.info()["schema_version"] == SCHEMA_VERSION
        assert (old.opening_hours, old.wheelchair, old.names, old.osm_version) == (None, None, (), None)
    finally:
        store.close()


def test_refuses_newer_schema(pgstore: PostgisStore, url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    with pytest.raises(Exception, match="newer"):
        PostgisStore(url, DATA_DIR)


def test_spatial_and_text_indexes_exist_and_are_used(pgstore: PostgisStore, url: str) -> None:
    pgstore.places.add_many(random_places(300))
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
        defs = {(t, i): d for t, i, d in rows.fetchall()}
        conn.execute("ANALYZE")
        conn.execute("SET enable_seqscan = off")  # tiny tables: ask whether the index can serve
        plan = conn.execute(
            "EXPLAIN SELECT fid FROM places ORDER BY geog <-> ST_MakePoint(9.38, 54.8)::geography LIMIT 5"
        ).fetchall()
    for table in ("places", "memberships"):
        assert "USING gist (geog)" in defs[(table, f"{table}_geog")]
        assert "USING gist (geom)" in defs[(table, f"{table}_geom")]
        assert "USING gin (tsv)" in defs[(table, f"{table}_tsv")]
    assert "places_geog" in " ".join(r[0] for r in plan)


def test_pool_serves_many_threads(url: str) -> None:
    store = PostgisStore(f"{url}?pool_min_size=1&pool_max_size=3&pool_timeout=20", DATA_DIR)
    try:
        rows = random_places(120)

        def work(i: int) -> int:
            store.places.add_many(rows[i * 10 : (i + 1) * 10])
            store.places.search(Query(PlaceFilter(text="nord"), near=Near(HARRISLEE_HALL, 5000)))
            store.places.nearest(HARRISLEE_HALL, 5, PlaceFilter(categories=("church",)))
            with store.transaction():
                store.cache_put("t", str(i), "v")
                store.places.count()
            return store.places.count()

        with ThreadPoolExecutor(12) as ex:
            assert all(n >= 10 for n in ex.map(work, range(12)))
        assert store.places.count() == 120
        assert store.pool.get_stats()["pool_size"] <= 3
    finally:
        store.close()


def test_transaction_spans_collections_and_nests(pgstore: PostgisStore) -> None:
    rows = random_places(3)
    with pytest.raises(RuntimeError), pgstore.transaction():
        pgstore.places.add(rows[0])
        pgstore.cache_put("p", "k", "v")
        assert pgstore.places.count() == 1  # own writes are visible inside
        raise RuntimeError
    assert pgstore.places.count() == 0 and pgstore.cache_get("p", "k") is None
    with pgstore.transaction():
        pgstore.places.add(rows[1])
        with pytest.raises(ValueError), pgstore.transaction():
            pgstore.places.add(rows[2])
            raise ValueError  # a nested block is a savepoint: only its writes go
    assert [p.external_key for p in pgstore.places.iter_all()] == [rows[1].external_key]


def test_url_forms(url: str) -> None:
    libpq, options = split_url("postgresql+psycopg://u:secret@h:5/db?sslmode=disable&pool_max_size=4")
    assert libpq == "postgresql://u:secret@h:5/db?sslmode=disable" and options["pool_max_size"] == 4
    assert redacted("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    store = open_store(url.replace("postgresql://", "postgresql+psycopg://"), DATA_DIR)
    try:
        want = {"backend": "postgis", "schema_version": SCHEMA_VERSION, "places": 0, "memberships": 0}
        assert store.info() == want
    finally:
        store.close()


def test_radius_search_is_consistent_when_a_row_changes_between_statements(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A radius search with many candidates reads them, then the page's rows; a write committed in
    between must not yield a record whose data disagrees with its distance: the search notices (xmin)
    and retries in a snapshot."""
    monkeypatch.setattr(pg_collection, "FEW_CANDIDATES", 0)  # every search takes the two statements
    a, b = PostgisStore(url, DATA_DIR), PostgisStore(url, DATA_DIR)
    try:
        data = dataclasses.replace(random_places(1)[0], point=HARRISLEE_HALL)
        added = a.places.add(data)
        fetch = a.places._fetch
        calls = []

        def racing(conn: object, fids: list[int]) -> object:
            if not calls:  # the first attempt: another server moves the place 60 km away
                b.places.update(added.id, dataclasses.replace(data, point=Point(10.3, 54.8)))
            calls.append(fids)
            return fetch(conn, fids)  # type: ignore[arg-type]

        monkeypatch.setattr(a.places, "_fetch", racing)
        page = a.places.search(Query(PlaceFilter(), near=Near(HARRISLEE_HALL, 1000)))
        assert (page.total, page.hits) == (0, []) and calls[1] == []  # the retry found it moved away
    finally:
        a.close()
        b.close()


def test_two_servers_cannot_both_win_one_expected_version(url: str) -> None:
    """If-Match across API servers: the second writer waits for the first one's lock, then gets 412."""
    a, b = PostgisStore(url, DATA_DIR), PostgisStore(url, DATA_DIR)
    try:
        data = random_places(1)[0]
        added = a.places.add(data)
        updated = threading.Event()
        results: list[object] = []

        def first() -> None:
            with a.transaction():
                a.places.update(added.id, dataclasses.replace(data, name="A"), expected_version=1, actor="a")
                updated.set()
                time.sleep(0.3)  # still uncommitted while b tries

        def second() -> None:
            updated.wait(10)
            try:
                results.append(
                    b.places.update(added.id, dataclasses.replace(data, name="B"), expected_version=1)
                )
            except PreconditionFailed as exc:
                results.append(exc)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(results) == 1 and isinstance(results[0], PreconditionFailed)
        final = b.places.get(added.id)
        assert (final.name, final.version) == ("A", 2)
        assert [c.actor for c in b.places.history(added.id)] == [None, "a"]
    finally:
        a.close()
        b.close()


def test_update_to_a_taken_external_key_is_a_conflict(pgstore: PostgisStore) -> None:
    first, second = random_places(2)
    pgstore.places.add(first)
    other = pgstore.places.add(second)
    with pytest.raises(Conflict):
        pgstore.places.update(other.id, dataclasses.replace(second, external_key=first.external_key))
    assert pgstore.places.get(other.id) == other


def _eventually(check: Callable[[], bool], seconds: float = 20.0) -> float:
    """Polls until check() holds; returns how long that took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < seconds, "replica did not catch up"
        time.sleep(0.02)
    return time.monotonic() - start


def test_read_replica_serves_reads_and_refuses_writes() -> None:
    """A server on a hot-standby replica (docs/deploy.md): reads work, writes get a clear 503, the
    geocode cache is skipped, and the primary's writes arrive after the replication lag."""
    pg.require()
    if os.environ.get("POI_TEST_POSTGRES_URL") or not (pg.PG_BIN / "pg_basebackup").exists():
        pytest.skip("needs the local PostgreSQL binaries to make its own primary and replica")
    primary = pg.Cluster(settings={"wal_level": "replica", "max_wal_senders": "4"}).start()
    replica = writer = reader = None
    try:
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE poi")
        writer = PostgisStore(primary.url("poi"), DATA_DIR)
        rows = random_places(60)
        writer.places.add_many(rows[:50])
        replica = primary.replica()
        reader = PostgisStore(replica.url("poi"), DATA_DIR)
        _eventually(lambda: reader.places.count() == 50)
        assert reader.info()["read_only"] is True and "read_only" not in writer.info()
        query = Query(PlaceFilter(), near=Near(HARRISLEE_HALL, 3000), limit=100)
        assert reader.places.search(query) == writer.places.search(query)
        with pytest.raises(PoiError) as refused:
            reader.places.add(rows[50])
        assert refused.value.status == 503 and "read-only" in refused.value.detail
        reader.cache_put("nominatim", "x", "y")  # skipped: only a cache
        assert reader.cache_get("nominatim", "x") is None
        added = writer.places.add(rows[51])  # read-after-write on the replica: only after the lag
        _eventually(lambda: reader.places.count() == 51)
        assert reader.places.get(added.id) == added
    finally:
        for store in (reader, writer):
            if store is not None:
                store.close()
        for cluster in (replica, primary):
            if cluster is not None:
                cluster.stop()


# -- the same answers as the embedded store, query for query -----------------------------------

TRICKY_NAMES = [
    "Fahrschule Süderstraße",
    "Straße_am-Hafen",
    "www.example.org/Kirche",
    "København Ærø",
    "ϒpsilon Σίσυφος",
    "C++ & C#-Kurs",
    "3.14 Pi-Platz",
    "foo_bar baz",
    "İstanbul Kebap",
    "ﬁsch ﬂoß",
    "Maße MASSE",
    "l'Église",
    "Dvořák-Straße",
    "Łódź",
    "Ørsted",
    "北京 饭店",
    "naïve café",
    "Gedenk­stätte",
    "A1",
    "Müller-Lüdenscheidt",
]
TRICKY_QUERIES = [
    "süder",
    "strasse",
    "strasse_am",
    "am-haf",
    "hafen",
    "example",
    "www",
    "org kirche",
    "kobenhavn",
    "ærø",
    "aero",
    "ϒ",
    "υpsilon",
    "σισυφ",
    "c",
    "c kurs",
    "3",
    "3.1",
    "14",
    "foo_",
    "foo_ba",
    "_",
    "_ bar",
    "istanbul",
    "i̇stanbul",
    "fisch",
    "ﬁ",
    "floss",
    "masse",
    "eglise",
    "l",
    "dvorak",
    "lodz",
    "orsted",
    "ørsted",
    "北京",
    "饭",
    "naive",
    "cafe",
    "gedenk",
    "gedenkstatte",
    "stätte",
    "a1",
    "muller-ludenscheidt",
    "mueller",
    '"*)(',
    "",
]


@pytest.fixture(scope="module")
def twins() -> Iterator[tuple[Store, Store]]:
    """The same records in an embedded and a PostGIS store (ids agree: they derive from external keys)."""
    pg.require()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        lite = open_store(str(Path(tmp) / "twin.gpkg"), DATA_DIR)
        post = open_store(pg.fresh_database_url(), DATA_DIR)
        rows = random_places(1500, seed=11)
        rows += [
            dataclasses.replace(rows[i], name=n, external_key=f"tricky:{i}")
            for i, n in enumerate(TRICKY_NAMES)
        ]
        # Exact ties: the same point several times (ordered by insertion), and points on box edges.
        rows += [dataclasses.replace(rows[0], external_key=f"tie:{i}") for i in range(4)]
        rows += [
            dataclasses.replace(rows[1], point=Point(9.4, 54.8), external_key=f"edge:{i}") for i in range(2)
        ]
        for s in (lite, post):
            s.places.add_many(rows)
        try:
            yield lite, post
        finally:
            lite.close()
            post.close()


def _content(hits: list[Hit[Place]]) -> list[tuple[Place, float | None]]:
    """Records without their write times (the twins were written a moment apart) and distances."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return [(dataclasses.replace(h.record, created_at=epoch, updated_at=epoch), h.distance_m) for h in hits]


def _same(a: Page[Place], b: Page[Place]) -> None:
    assert a.total == b.total
    assert _content(a.hits) == _content(b.hits)


@pytest.mark.parametrize("q", TRICKY_QUERIES)
def test_text_search_agrees_token_for_token(twins: tuple[Store, Store], q: str) -> None:
    lite, post = twins
    query = Query(PlaceFilter(text=q), limit=2000)
    _same(lite.places.search(query), post.places.search(query))


def test_random_queries_agree_exactly(twins: tuple[Store, Store]) -> None:
    lite, post = twins
    rng = random.Random(5)
    tri = Polygon([(9.30, 54.74), (9.52, 54.76), (9.40, 54.85), (9.30, 54.74)])
    shapes = [None, tri, box(9.35, 54.77, 9.45, 54.81), box(9.4, 54.8, 9.5, 54.9)]
    for _ in range(150):
        centre = Point(rng.uniform(9.2, 9.6), rng.uniform(54.7, 54.9))
        cats = tuple(rng.sample(CATEGORIES, rng.choice((0, 0, 1, 2))))
        flt = PlaceFilter(categories=cats, text=rng.choice((None, None, "nord", "gedenk", "markt")))
        query = Query(
            flt,
            near=rng.choice((None, Near(centre, rng.choice((50.0, 800.0, 3000.0, 20_000.0))))),
            bbox=rng.choice((None, None, BBox(9.4, 54.8, 9.5, 54.9))),
            polygon=rng.choice(shapes),
            area=rng.choice((None, None, "Harrislee", "01001", "Schleswig-Flensburg")),
            limit=rng.choice((5, 50, 1000)),
            offset=rng.choice((0, 0, 3, 40)),
        )
        _same(lite.places.search(query), post.places.search(query))
        k = rng.choice((1, 4, 10, 60))
        assert _content(lite.places.nearest(centre, k, flt)) == _content(post.places.nearest(centre, k, flt))
    far = Point(8.0, 50.0)  # nearest from far away: the candidate set has to grow
    assert _content(lite.places.nearest(far, 7, PlaceFilter())) == _content(
        post.places.nearest(far, 7, PlaceFilter())
    )
