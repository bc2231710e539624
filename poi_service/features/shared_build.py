"""Building the rendered-features file of one data version (features/shared.py), in a child process.

A record's head is reused from the newest earlier file of the same store and fingerprint when its
stamp (store/key_reads.py row_stamps) is unchanged, so after an edit only the edited records are
rendered again: at 1M places ~3 s instead of ~30 s (bench/http_random.py, cold start). Without an
earlier file every live record is rendered, streamed to the file in fid order.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from poi_service.categories import Vocabulary
from poi_service.config import Settings
from poi_service.features.cache import FeatureCache
from poi_service.features.shared_file import HEADER_BYTES, Mapped, Writer, open_mapped
from poi_service.models import Place
from poi_service.store import open_store

log = logging.getLogger(__name__)
REUSE_AT_MOST_CHANGED = 0.25  # more changed records than this share: render them all, streamed


def file_name(version: int, print_: str) -> str:
    return f"features-{version}-{print_}.bin"


def build_in_child(
    url: str, settings: Settings, directory: Path, version: int, print_: str, ident: str, min_rows: int
) -> None:
    """Renders the live places of the store at `url` at `version` into directory (the child's work);
    nothing is written if the store has moved past that version meanwhile."""
    store: Any = open_store(url, settings.data_dir)
    try:
        places = store.places
        if places.count() < min_rows:
            return
        seen, fids, stamps = places.row_stamps()
        if seen != version:
            return
        render = FeatureCache(Vocabulary.from_settings(settings)).head
        path = directory / file_name(version, print_)
        directory.mkdir(exist_ok=True)
        header = {"version": version, "print": print_, "store": store.store_id, "ident": ident}
        old = previous(directory, path, print_, store.store_id)
        with Writer(path, header) as writer:
            same = unchanged(old, fids, stamps) if old is not None else None
            if old is None or same is None:
                stamp_of = dict(zip(fids.tolist(), stamps.tolist(), strict=True))
                seen = places.each_keyed(lambda fid, place: writer.add(fid, render(place), stamp_of[fid]))
            else:
                fresh: dict[int, bytes] = {}

                def keep(fid: int, place: Place) -> None:
                    fresh[fid] = render(place)

                seen = places.each_keyed(keep, fids[~same].tolist())
                if seen == version:
                    writer.add_blob(*merged(old, fids, stamps, same, fresh))
                log.info("rendered features: %d of %d records rendered again", len(fresh), len(fids))
            if seen != version:  # the data moved on: whoever needs the new version asks for it
                writer.abandon()
    finally:
        store.close()


def previous(directory: Path, target: Path, print_: str, store_id: str) -> Mapped | None:
    """The newest other file of the same fingerprint and store (a copy of the store keeps its id: the
    stamps tell its records apart)."""
    best: Mapped | None = None
    for path in directory.glob("features-*.bin"):
        if path == target:
            continue
        mapped = open_mapped(path)
        if mapped is None or mapped.header.get("print") != print_ or mapped.header.get("store") != store_id:
            continue
        if best is None or mapped.header["version"] > best.header["version"]:
            best = mapped
    return best


def unchanged(old: Mapped, fids: np.ndarray, stamps: np.ndarray) -> np.ndarray | None:
    """Per live record: its head in `old` can be reused; None when too few can."""
    same = np.zeros(len(fids), bool)
    known = fids < len(old.stamps) - 1
    same[known] = old.stamps[fids[known]] == stamps[known]
    if len(fids) and (~same).sum() > REUSE_AT_MOST_CHANGED * len(fids):
        return None
    return same


def merged(
    old: Mapped, fids: np.ndarray, stamps: np.ndarray, same: np.ndarray, fresh: dict[int, bytes]
) -> tuple[np.ndarray, np.ndarray, Iterator[bytes | memoryview]]:
    """Offsets and stamps by fid, and the blob as pieces: runs of kept heads that lie back to back in the
    old blob are copied as one slice (a few runs per edit instead of a Python step per record)."""
    old_offsets = np.asarray(old.offsets, np.int64)
    start, end = old_offsets[fids], old_offsets[fids + 1]
    sizes = np.where(same, end - start, 0)
    changed = np.flatnonzero(~same)
    sizes[changed] = [len(fresh[f]) for f in fids[changed].tolist()]
    count = int(fids[-1]) + 3 if len(fids) else 1
    by_fid = np.zeros(count, np.int64)
    by_fid[fids + 1] = sizes
    offsets = np.cumsum(by_fid)
    all_stamps = np.zeros(count, np.int64)
    all_stamps[fids] = stamps
    # A new piece starts where a record is not kept, follows one that is not, or does not continue the
    # previous kept head in the old blob.
    breaks = np.ones(len(fids), bool)
    if len(fids) > 1:
        breaks[1:] = ~same[1:] | ~same[:-1] | (start[1:] != end[:-1])
    edges = [*np.flatnonzero(breaks).tolist(), len(fids)]
    view = memoryview(old.mm)

    def pieces() -> Iterator[bytes | memoryview]:
        for a, b in itertools.pairwise(edges):
            if same[a]:
                yield view[HEADER_BYTES + int(start[a]) : HEADER_BYTES + int(end[b - 1])]
            else:
                yield fresh[int(fids[a])]

    return offsets, all_stamps, pieces()
