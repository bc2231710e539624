"""The editing contract on every backend: versions, preconditions, soft delete, history, keys."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from poi_service import keys
from poi_service.errors import Conflict, NotFound, PreconditionFailed
from poi_service.models import Alliance, KeyRole, Point
from poi_service.store import MembershipFilter, Near, PlaceFilter, Query, Store, open_store
from poi_service.store.history import snapshot
from poi_service.store.records import MEMBERSHIPS, PLACES
from tests.conftest import DATA_DIR
from tests.factories import membership, random_places

CENTRE = Point(9.4, 54.8)
EVERYWHERE = Query(PlaceFilter(), near=Near(CENTRE, 50_000), limit=1000)


def visible_ids(store: Store, text: str = "weg") -> dict[str, set[str]]:
    """Ids of live places as seen by every read path (text: a word of the victim's)."""
    p = store.places
    return {
        "iter_all": {r.id for r in p.iter_all()},
        "search": {h.record.id for h in p.search(Query(PlaceFilter(), limit=1000)).hits},
        "near": {h.record.id for h in p.search(EVERYWHERE).hits},
        "nearest": {h.record.id for h in p.nearest(CENTRE, 100, PlaceFilter())},
        "text": {h.record.id for h in p.search(Query(PlaceFilter(text=text), limit=1000)).hits},
    }


def test_versions_and_preconditions(store: Store) -> None:
    first, second = random_places(2)
    added = store.places.add(first, actor="k1")
    assert added.version == 1 and added.deleted_at is None
    moved = dataclasses.replace(first, point=Point(9.41, 54.81))
    updated = store.places.update(added.id, moved, expected_version=1, actor="k2")
    assert updated.version == 2 and updated.point == Point(9.41, 54.81)
    with pytest.raises(PreconditionFailed):
        store.places.update(added.id, first, expected_version=1, actor="k3")
    with pytest.raises(PreconditionFailed):
        store.places.delete(added.id, expected_version=1)
    assert store.places.get(added.id) == updated  # the stale writes changed nothing
    assert store.places.update(added.id, first).version == 3  # no expected_version: last write wins
    with pytest.raises(Conflict):
        store.places.add(dataclasses.replace(second, external_key=first.external_key))
    other = store.places.add(second)
    with pytest.raises(Conflict):
        store.places.update(other.id, dataclasses.replace(second, external_key=first.external_key))
    assert [c.action for c in store.places.history(added.id)] == ["create", "update", "update"]


def test_soft_delete_hides_everywhere_and_restore_brings_back(store: Store) -> None:
    rows = random_places(30)
    store.places.add_many(rows)
    victim = next(iter(store.places.iter_all()))
    word = victim.name.split()[0]
    before = visible_ids(store, word)
    assert all(victim.id in ids for ids in before.values()), before
    assert store.places.count() == 30
    store.places.delete(victim.id, expected_version=victim.version, actor="k1")
    after = visible_ids(store, word)
    assert all(ids == before[name] - {victim.id} for name, ids in after.items())
    assert store.places.count() == 29
    with pytest.raises(NotFound):
        store.places.get(victim.id)
    with pytest.raises(NotFound):
        store.places.update(victim.id, rows[0])
    with pytest.raises(NotFound):
        store.places.delete(victim.id)
    deleted = store.places.get(victim.id, include_deleted=True)
    assert deleted.deleted_at is not None and deleted.version == victim.version + 1
    with pytest.raises(PreconditionFailed):
        store.places.restore(victim.id, expected_version=victim.version)
    restored = store.places.restore(victim.id, expected_version=deleted.version, actor="k2")
    assert restored.deleted_at is None and restored.version == deleted.version + 1
    assert visible_ids(store, word) == before and store.places.count() == 30
    with pytest.raises(Conflict):
        store.places.restore(victim.id)
    store.places.delete(victim.id)
    with pytest.raises(Conflict):  # a deleted record still holds its external key: restore it instead
        store.places.add(victim)


def test_history_records_who_when_and_both_states(store: Store) -> None:
    data = random_places(1)[0]
    added = store.places.add(data, actor="editor1")
    renamed = store.places.update(added.id, dataclasses.replace(data, name="Neu"), actor="editor2")
    store.places.delete(added.id, actor="editor3")
    restored = store.places.restore(added.id, actor="admin1")
    changes = store.places.history(added.id)
    assert [(c.action, c.actor, c.version) for c in changes] == [
        ("create", "editor1", 1),
        ("update", "editor2", 2),
        ("delete", "editor3", 3),
        ("restore", "admin1", 4),
    ]
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert all(c.record_id == added.id for c in changes)
    assert changes[0].before is None and changes[0].after == snapshot(PLACES, added)
    assert changes[1].before == snapshot(PLACES, added) and changes[1].after == snapshot(PLACES, renamed)
    assert changes[2].after is not None and changes[2].after["deleted_at"] is not None
    assert changes[3].after == snapshot(PLACES, restored)
    assert changes[1].at >= changes[0].at
    store.places.delete(added.id, purge=True, actor="admin1")
    with pytest.raises(NotFound):
        store.places.get(added.id, include_deleted=True)
    assert [c.action for c in store.places.history(added.id)][-1] == "purge"  # the trail stays
    with pytest.raises(NotFound):
        store.places.history("no-such-id")


def test_history_commits_with_its_write(store: Store) -> None:
    data = random_places(1)[0]
    added = store.places.add(data)
    with pytest.raises(RuntimeError), store.transaction():
        store.places.update(added.id, dataclasses.replace(data, name="Weg"), actor="k")
        raise RuntimeError
    assert store.places.get(added.id) == added
    assert [c.action for c in store.places.history(added.id)] == ["create"]


def test_import_upserts_skips_unchanged_and_revives(store: Store) -> None:
    rows = random_places(5)
    assert store.places.add_many(rows, actor="imp1") == 5
    stored = {p.external_key: p for p in store.places.iter_all()}
    assert {p.version for p in stored.values()} == {1}
    first = stored[rows[0].external_key]
    assert [(c.action, c.actor) for c in store.places.history(first.id)] == [("import", "imp1")]
    # Re-import with one change, one deleted record: only those two are written.
    gone = stored[rows[1].external_key]
    store.places.delete(gone.id)
    again = [dataclasses.replace(rows[0], name="Umbenannt"), *rows[1:]]
    assert store.places.add_many(again, actor="imp2") == 5
    now = {p.external_key: p for p in store.places.iter_all()}
    assert now[rows[0].external_key].name == "Umbenannt" and now[rows[0].external_key].version == 2
    assert now[rows[1].external_key].version == gone.version + 2  # deleted, then revived
    assert all(now[r.external_key] == stored[r.external_key] for r in rows[2:])
    changes = store.places.history(first.id)
    assert [(c.action, c.actor, c.version) for c in changes] == [("import", "imp1", 1), ("import", "imp2", 2)]
    assert changes[1].before == snapshot(PLACES, first)
    assert changes[1].after == snapshot(PLACES, now[rows[0].external_key])
    assert store.places.count() == 5 and len(visible_ids(store)["near"]) == 5


def test_memberships_follow_the_same_rules(store: Store) -> None:
    added = store.memberships.add(membership("Kiel", Alliance.BUENDNIS, 10.13, 54.32), actor="k")
    assert added.version == 1
    store.memberships.delete(added.id, expected_version=1, actor="k")
    assert store.memberships.count() == 0
    assert store.memberships.search(Query(MembershipFilter())).total == 0
    assert store.memberships.nearest(Point(10.1, 54.3), 5, MembershipFilter()) == []
    assert store.membership_stats().by_alliance == {}
    restored = store.memberships.restore(added.id, actor="k")
    assert restored.version == 3 and store.memberships.count() == 1
    changes = store.memberships.history(added.id)
    assert [c.action for c in changes] == ["create", "delete", "restore"]
    assert changes[-1].after == snapshot(MEMBERSHIPS, restored)


def test_api_keys(store: Store) -> None:
    info, secret = store.create_key("Redaktion Harrislee", KeyRole.EDITOR)
    assert secret.startswith(f"poi_{info.id}_") and len(secret) > 50
    assert keys.authenticate(store, secret) == info
    assert keys.authenticate(store, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert keys.authenticate(store, "poi_000000000000_" + "x" * 43) is None
    assert keys.authenticate(store, "Bearer nonsense") is None
    found = store.find_key(info.id)
    assert found is not None and found[1] == keys.digest(secret) and secret not in found[1]
    admin, _ = store.create_key("Admin", KeyRole.ADMIN)
    assert [k.id for k in store.list_keys()] == [info.id, admin.id]
    revoked = store.revoke_key(info.id)
    assert revoked.revoked_at is not None and store.revoke_key(info.id).revoked_at == revoked.revoked_at
    assert keys.authenticate(store, secret) is None
    with pytest.raises(NotFound):
        store.revoke_key("nope")


def test_concurrent_updates_from_two_stores_lose_nothing(store: Store) -> None:
    """Writers on two connections (as two workers or hosts) race on one record with expected_version."""
    data = random_places(1)[0]
    record_id = store.places.add(data).id
    other = open_store(store.url, DATA_DIR)
    won: list[str] = []
    lost: list[Exception] = []
    lock = threading.Lock()

    def writer(s: Store, name: str) -> None:
        for i in range(15):
            current = s.places.get(record_id)
            token = f"{name}-{i}"
            try:
                s.places.update(
                    record_id,
                    dataclasses.replace(data, description=token),
                    expected_version=current.version,
                    actor=name,
                )
            except PreconditionFailed as exc:
                with lock:
                    lost.append(exc)
            else:
                with lock:
                    won.append(token)

    try:
        threads = [
            threading.Thread(target=writer, args=(s, n))
            for s, n in ((store, "a"), (other, "b"), (store, "c"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    final = store.places.get(record_id)
    updates = [
        c.after["description"] for c in store.places.history(record_id) if c.action == "update" and c.after
    ]
    assert len(won) + len(lost) == 45 and final.version == 1 + len(won)
    assert sorted(updates) == sorted(won) and final.description == updates[-1]


def test_data_version_moves_with_every_committed_write_in_every_process(store: Store) -> None:
    other = open_store(store.url, DATA_DIR)  # another process's view of the same store
    try:
        versions = [store.places.data_version()]
        assert other.places.data_version() == versions[0]

        def moved() -> bool:
            versions.append(store.places.data_version())
            return versions[-1] > versions[-2] and other.places.data_version() == versions[-1]

        first, second, third = random_places(3)
        added = store.places.add(first, actor="k")
        assert moved()
        store.places.update(added.id, dataclasses.replace(first, name="Neu"), actor="k")
        assert moved()
        store.places.delete(added.id, actor="k")
        assert moved()
        store.places.restore(added.id, actor="k")
        assert moved()
        store.places.add_many([second, third], actor="import")
        assert moved()
        # Reads, the geocoding cache and the other collection leave it alone.
        store.places.search(EVERYWHERE)
        store.cache_put("test", "k", "v")
        store.memberships.add(membership("Kiel", Alliance.BUENDNIS, 10.13, 54.32), actor="k")
        assert store.places.data_version() == versions[-1] == other.places.data_version()
        # A failed transaction does not move it.
        with pytest.raises(RuntimeError), store.transaction():
            store.places.add(random_places(4)[3], actor="k")
            raise RuntimeError("rolled back")
        assert store.places.data_version() == versions[-1]
    finally:
        other.close()


def test_ready_means_answered_from_memory_and_warm_makes_it_so(store: Store) -> None:
    store.places.add_many(random_places(50), actor="k")
    store.places.warm()
    embedded = store.url.startswith("sqlite:")
    assert store.places.ready() is embedded  # PostGIS: every query is a server round trip
    other = open_store(store.url, DATA_DIR)
    try:
        other.places.add(random_places(51)[50], actor="k")  # another process writes
    finally:
        other.close()
    assert not store.places.ready()  # stale until rebuilt
    store.places.warm()
    assert store.places.ready() is embedded
    assert len(store.places.search(EVERYWHERE).hits) == 51


def test_an_update_that_changes_nothing_is_no_new_version(store: Store) -> None:
    data = random_places(1)[0]
    added = store.places.add(data, actor="k1")
    same = store.places.update(added.id, data, expected_version=1, actor="k2")
    assert same == added and same.version == 1
    assert [c.action for c in store.places.history(added.id)] == ["create"]
    with pytest.raises(PreconditionFailed):  # a stale version is still refused, change or not
        store.places.update(added.id, data, expected_version=7)
    moved = dataclasses.replace(data, point=Point(data.point.lon + 0.001, data.point.lat))
    assert store.places.update(added.id, moved, expected_version=1).version == 2
    m = store.memberships.add(membership("Kiel", Alliance.BUENDNIS, 10.12, 54.32), actor="k1")
    assert (
        store.memberships.update(
            m.id,
            dataclasses.replace(
                membership("Kiel", Alliance.BUENDNIS, 10.12, 54.32), external_key=m.external_key
            ),
        ).version
        == 1
    )
