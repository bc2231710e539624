"""/proc readings shared by the benchmarks (Linux only)."""

from __future__ import annotations

import os
from collections.abc import Iterator


def family(pid: int, deep: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(pid, /proc/<pid>/stat fields after the command name) of pid and its children (deep: all its
    descendants, e.g. the background builds uvicorn's workers start): fields[1] is the parent pid,
    fields[11] and fields[12] user and system time in ticks."""
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                stats[int(entry)] = handle.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
    wanted = {pid} | {child for child, fields in stats.items() if int(fields[1]) == pid}
    grew = deep
    while grew:
        grew = False
        for child, fields in stats.items():
            if child not in wanted and int(fields[1]) in wanted:
                wanted.add(child)
                grew = True
    for child in sorted(wanted):
        if child in stats:
            yield child, stats[child]
