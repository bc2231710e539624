"""The rendered-features file of features/shared.py: format, writer and reader.

Layout: MAGIC, header length, JSON header (data version, fingerprint, store, where the arrays are)
within the first HEADER_BYTES; the blob of feature heads from HEADER_BYTES; then two int64 arrays
indexed by fid, `max fid + 2` long: offsets (the head of fid f is blob[offsets[f]:offsets[f + 1]],
empty for no live record) and stamps (store/key_reads.py row_stamps: what the head was rendered
from, so the next version's build can keep every head whose record did not change).
"""

from __future__ import annotations

import json
import mmap
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

MAGIC = b"POIFEAT2"
HEADER_BYTES = 4096
ALIGN = 64


@dataclass(frozen=True)
class Mapped:
    """One mapped file: its header and arrays (views into the mapping)."""

    header: dict[str, Any]
    mm: mmap.mmap
    offsets: memoryview  # int64 by fid, cast so that indexing gives Python ints
    stamps: npt.NDArray[np.int64]

    def head(self, fid: int) -> bytes:
        return self.mm[HEADER_BYTES + self.offsets[fid] : HEADER_BYTES + self.offsets[fid + 1]]


def open_mapped(path: Path) -> Mapped | None:
    """The file mapped, or None if it is missing, empty, foreign or truncated."""
    try:
        with open(path, "rb") as handle:
            mm = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        if mm[: len(MAGIC)] != MAGIC:
            return None
        size = int.from_bytes(mm[len(MAGIC) : len(MAGIC) + 8], "little")
        header = json.loads(mm[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
        count, at, stamps_at = int(header["offsets"]), int(header["offsets_at"]), int(header["stamps_at"])
        if max(at, stamps_at) + 8 * count > len(mm):
            return None
        offsets = memoryview(mm)[at : at + 8 * count].cast("q")
        stamps = np.frombuffer(mm, np.int64, count, stamps_at)
    except (ValueError, KeyError, TypeError):
        return None
    return Mapped(header, mm, offsets, stamps)


class Writer:
    """Writes a file as the heads come (fids ascending), renamed into place when complete."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path, self.header = path, dict(header)
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._out = open(self._tmp, "wb")  # noqa: SIM115 (closed in __exit__)
        self._out.seek(HEADER_BYTES)
        self._ends: list[int] = [0]  # _ends[f + 1]: blob end after fid f
        self._stamps: dict[int, int] = {}
        self._size = 0
        self._keep = True
        self._arrays: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def add(self, fid: int, head: bytes, stamp: int) -> None:
        ends = self._ends
        if fid + 1 < len(ends):
            raise ValueError("fids must ascend")
        ends.extend([self._size] * (fid + 1 - len(ends)))  # fids without a live record: empty
        self._out.write(head)
        self._size += len(head)
        ends.append(self._size)
        self._stamps[fid] = stamp

    def abandon(self) -> None:
        self._keep = False

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        out = self._out
        try:
            if self._keep and exc[0] is None:
                self._finish()
        finally:
            out.close()
            self._tmp.unlink(missing_ok=True)

    def add_blob(self, offsets: npt.NDArray[np.int64], stamps: npt.NDArray[np.int64], pieces: Any) -> None:
        """The whole file at once: offsets and stamps by fid, and the blob as pieces (bytes-like)."""
        for piece in pieces:
            self._out.write(piece)
        self._size = int(offsets[-1])
        self._arrays = (offsets, stamps)

    def _finish(self) -> None:
        out = self._out
        if self._arrays is not None:
            offsets, stamps = self._arrays
        else:
            offsets = np.array([*self._ends, self._size], np.int64)  # one past the last fid too
            stamps = np.zeros(len(offsets), np.int64)
            if self._stamps:
                stamps[np.fromiter(self._stamps, np.int64)] = np.fromiter(self._stamps.values(), np.int64)
        at = _aligned(HEADER_BYTES + self._size)
        stamps_at = _aligned(at + offsets.nbytes)
        out.seek(at)
        out.write(offsets.data)
        out.seek(stamps_at)
        out.write(stamps.data)
        header = json.dumps(
            {**self.header, "offsets_at": at, "offsets": len(offsets), "stamps_at": stamps_at}
        ).encode()
        if len(MAGIC) + 8 + len(header) > HEADER_BYTES:
            raise ValueError("header too long")
        out.seek(0)
        out.write(MAGIC + len(header).to_bytes(8, "little") + header)
        out.close()
        os.replace(self._tmp, self.path)
        for old in self.path.parent.glob("features-*.bin"):
            if old != self.path:
                old.unlink(missing_ok=True)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN
