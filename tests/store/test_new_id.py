"""new_id: the external key's uuid5, byte for byte, without the UUID object (bulk imports make millions)."""

from __future__ import annotations

import uuid

from poi_service.store.records import _ID_NAMESPACE, new_id


def test_keyed_ids_are_uuid5_of_the_key() -> None:
    keys = ["places:ort 1|hauptstraße|1|köln", "osm:node/1", "x", "ä" * 300, "places:\u200b|||", "😀"]
    keys += [f"alliance:buendnis:DE:Ort {i}" for i in range(2000)]
    for key in keys:
        assert new_id(key) == str(uuid.uuid5(_ID_NAMESPACE, key))


def test_keyless_ids_are_random_version_4() -> None:
    ids = {new_id(None) for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
