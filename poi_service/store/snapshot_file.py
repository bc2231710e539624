"""The embedded store's in-memory snapshot (store/snapshot.py) kept in a file next to the store.

Built once per data version by whichever process needs it first, while the others wait on a file
lock and then map the file: N workers of `serve` share one copy through the page cache instead of
holding N private ones, and a restart with unchanged data maps it in milliseconds instead of
reading every row (3.3 s at 1M places). The k-d tree is restored from its stored state (scipy keeps
the mapped point and index arrays; only its node table, ~13 MB at 1M rows, is copied).

A file is named by table and change counter and carries a key (format, scipy version, the store's
random id, its file identity); one whose key does not match is rebuilt. Files of other versions of
the table are deleted when a new one is written. The directory is a cache: deleting it is always
safe. Below MIN_ROWS live rows no file is written (building in memory takes milliseconds).
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import mmap
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy
from scipy.spatial import cKDTree

from poi_service.store.index import PointIndex
from poi_service.store.snapshot import AreaIndex, Snapshot
from poi_service.store.sqlite_rows import Connections

log = logging.getLogger(__name__)
Build = Callable[[], Snapshot]

MAGIC = b"POISNAP1"
FORMAT = 1
ALIGN = 64
MIN_ROWS = 20_000
LOCK_WAIT_S = 120.0  # then build without the file rather than wait for a stuck process


@dataclass(frozen=True)
class Key:
    """What a snapshot file must match to stand for the collection's current rows."""

    table: str
    version: int  # the collection's change counter
    store_id: str  # random per store file (poi_meta), so a different store is never mistaken for it
    device: int
    inode: int
    format: int = FORMAT
    scipy: str = scipy.__version__


def for_store(
    conn: sqlite3.Connection, store: Connections, table: str, version: int, build: Build
) -> Snapshot:
    """The snapshot of `table` at `version`: shared through a file when the collection is large, else
    built (cheaper than a file and a lock below the store's snapshot_min_rows)."""
    biggest = conn.execute(f"SELECT max(fid) FROM {table}").fetchone()[0] or 0  # noqa: S608 (a fixed table)
    if biggest < store.snapshot_min_rows:
        return build()
    stat = store.path.stat()
    key = Key(table, version, store.store_id, stat.st_dev, stat.st_ino)
    return shared(store.snapshots, key, build, store.snapshot_min_rows)


def shared(directory: Path, key: Key, build: Callable[[], Snapshot], min_rows: int = MIN_ROWS) -> Snapshot:
    """The snapshot for `key`: mapped from its file, else built (once across processes) and saved."""
    path = directory / f"{key.table}-{key.version}.snap"
    found = load(path, key)
    if found is not None:
        return found
    try:
        directory.mkdir(exist_ok=True)
        lock = open(directory / f"{key.table}.lock", "a+b")  # noqa: SIM115 (held across the build)
    except OSError as exc:
        log.info("snapshot directory %s not usable (%s): index kept in memory", directory, exc)
        return build()
    with lock:
        locked = _lock(lock)
        found = load(path, key) if locked else None
        if found is not None:
            return found
        snap = build()
        if not locked or len(snap.index) < min_rows:
            return snap
        try:
            save(path, snap, key)
            _prune(directory, key.table, path)
        except OSError as exc:
            log.warning("could not write the snapshot file %s: %s", path, exc)
            return snap
        return load(path, key) or snap


def _lock(handle: Any) -> bool:
    """Takes the exclusive lock, waiting for another process's build up to LOCK_WAIT_S."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _prune(directory: Path, table: str, keep: Path) -> None:
    for old in directory.glob(f"{table}-*.snap"):
        if old != keep:
            old.unlink(missing_ok=True)  # processes still mapping it keep their pages


def _arrays(snap: Snapshot) -> tuple[dict[str, npt.NDArray[Any]], dict[str, int] | None]:
    index = snap.index
    arrays: dict[str, npt.NDArray[Any]] = {
        "fids": index.fids,
        "lons": index.lons,
        "lats": index.lats,
        "codes": index.codes,
    }
    tree_ints = None
    if index.tree is not None:
        buffer, data, n, m, leafsize, maxes, mins, indices, boxsize, _ = index.tree.__getstate__()
        if boxsize is not None:  # never built so here; a periodic tree would need more state
            raise ValueError("periodic k-d trees are not stored")
        arrays.update(tree=buffer, data=data, maxes=maxes, mins=mins, indices=indices)
        tree_ints = {"n": int(n), "m": int(m), "leafsize": int(leafsize)}
    if snap.areas is not None:
        arrays["ags"] = snap.areas.ags
        for length, (keys, fids) in snap.areas.levels().items():
            arrays[f"ags{length}_keys"], arrays[f"ags{length}_fids"] = keys, fids
    return arrays, tree_ints


def save(path: Path, snap: Snapshot, key: Key) -> None:
    """Writes the snapshot atomically (a temporary file renamed over `path`)."""
    arrays, tree_ints = _arrays(snap)
    table: list[dict[str, Any]] = []
    offset = 0
    for name, arr in arrays.items():
        table.append({"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset})
        offset = _aligned(offset + arr.nbytes)
    header = json.dumps(
        {
            "key": asdict(key),
            "codes": snap.codes,
            "tree": tree_ints,
            "areas": snap.areas is not None,
            "arrays": table,
        }
    ).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for entry, arr in zip(table, arrays.values(), strict=True):
                out.seek(start + entry["offset"])
                out.write(np.ascontiguousarray(arr).data)
            out.truncate(start + offset)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path, key: Key) -> Snapshot | None:
    """The snapshot mapped from `path`, or None if it is missing, foreign or damaged."""
    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, or empty (mmap refuses length 0)
        return None
    try:
        return _decode(mapped, key)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring snapshot file %s: %s", path, exc)
        return None


def _decode(mapped: mmap.mmap, key: Key) -> Snapshot | None:
    if mapped[: len(MAGIC)] != MAGIC:
        raise ValueError("not a snapshot file")
    size = int.from_bytes(mapped[len(MAGIC) : len(MAGIC) + 8], "little")
    header = json.loads(mapped[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
    if header["key"] != asdict(key):
        return None
    start = _aligned(len(MAGIC) + 8 + size)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for entry in header["arrays"]:
        dtype, shape = np.dtype(entry["dtype"]), tuple(entry["shape"])
        count, at = math.prod(shape), start + int(entry["offset"])
        if at + count * dtype.itemsize > len(mapped):
            raise ValueError("truncated")
        arrays[entry["name"]] = np.frombuffer(mapped, dtype, count, at).reshape(shape)
    fids, lons, lats, codes = (arrays[n] for n in ("fids", "lons", "lats", "codes"))
    tree = None
    if header["tree"] is not None:
        t = header["tree"]
        tree = cKDTree.__new__(cKDTree)
        tree.__setstate__(
            (
                arrays["tree"],
                arrays["data"],
                t["n"],
                t["m"],
                t["leafsize"],
                arrays["maxes"],
                arrays["mins"],
                arrays["indices"],
                None,
                None,
            )
        )
    index = PointIndex(fids, lons, lats, codes, tree)
    areas = None
    if header["areas"]:
        levels = {
            int(name[3:-5]): (arrays[name], arrays[f"{name[:-5]}_fids"])
            for name in arrays
            if name.startswith("ags") and name.endswith("_keys")
        }
        areas = AreaIndex(fids, arrays["ags"], levels)
    return Snapshot(index, {str(k): int(v) for k, v in header["codes"].items()}, areas)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN
