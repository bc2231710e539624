"""/proc readings shared by the benchmarks (Linux only)."""

from __future__ import annotations

import os
from collections.abc import Iterator


def family(pid: int) -> Iterator[tuple[int, list[str]]]:
    """(pid, /proc/<pid>/stat fields after the command name) of pid and its direct children:
    fields[1] is the parent pid, fields[11] and fields[12] user and system time in ticks."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            yield int(entry), fields
