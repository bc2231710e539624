"""The rendered-features file after an edit (features/shared_build.py): only the changed records are
rendered again, and the file equals one rendered from scratch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.features import shared_build
from poi_service.features.cache import FeatureCache
from poi_service.features.shared import fingerprint
from poi_service.features.shared_build import build_in_child, file_name
from poi_service.features.shared_file import open_mapped
from poi_service.store.sqlite import SqliteStore
from tests.conftest import DATA_DIR
from tests.factories import random_places


def test_an_edit_renders_only_the_changed_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.gpkg"
    settings = Settings(database_url=str(path))
    store = SqliteStore(path, DATA_DIR)
    store.places.add_many(random_places(300, seed=3))
    print_ = fingerprint(Vocabulary.from_settings(settings))
    rendered: list[str] = []

    class Counting(FeatureCache):
        def head(self, place):  # type: ignore[no-untyped-def]
            rendered.append(place.id)
            return super().head(place)

    monkeypatch.setattr(shared_build, "FeatureCache", Counting)
    here = tmp_path / "here"
    build_in_child(str(path), settings, here, store.places.data_version(), print_, "x", 0)
    assert len(rendered) == 300
    first = store.places.iter_all()
    edited = next(first)
    gone = next(first)
    store.places.update(edited.id, dataclasses.replace(edited, name="Umbenannt", description="neu"))
    store.places.delete(gone.id)
    new = store.places.add(random_places(1, seed=99)[0])
    version = store.places.data_version()
    rendered.clear()
    build_in_child(str(path), settings, here, version, print_, "x", 0)
    assert sorted(rendered) == sorted([edited.id, new.id])  # the other 298 heads were kept
    [kept] = here.glob("features-*.bin")
    assert kept.name == file_name(version, print_)
    scratch = tmp_path / "scratch"
    build_in_child(str(path), settings, scratch, version, print_, "x", 0)
    a, b = open_mapped(kept), open_mapped(scratch / kept.name)
    assert a is not None and b is not None
    assert bytes(a.offsets) == bytes(b.offsets) and (a.stamps == b.stamps).all()
    assert a.mm[:][4096:] == b.mm[:][4096:]  # the same heads, byte for byte
    store.close()
