"""Work done once for all processes of a store, in a spawned child at the lowest CPU priority.

Derived data that every worker needs (the resident map's payload, the rendered features of a data
version) used to be built by each worker in a thread of its own: seconds to minutes of CPU at 1M places,
holding the GIL against the worker's requests. Here the first process to need it takes a lock file and
a child at nice 19 builds it while the others wait on the lock: the child only gets the CPU time the
workers leave idle, and its memory goes back to the system when it exits.
"""

from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

PR_SET_PDEATHSIG = 1


def once_in_child(
    lock: Path, done: Callable[[], bool], work: Callable[..., None], *args: Any, nice: int = 19
) -> bool:
    """Runs work(*args) in a child at that niceness unless done() (checked again under the lock, as
    another process may have done it meanwhile); True when done() holds afterwards. `work` must be
    picklable."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if done():
            return True
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as child:
            child.submit(_niced, nice, work, *args).result()
        return done()


def _niced(nice: int, work: Callable[..., None], *args: Any) -> None:
    _die_with_parent()
    os.nice(nice)
    work(*args)


def _die_with_parent() -> None:
    """SIGTERM when the process that started this one exits (Linux prctl PR_SET_PDEATHSIG): a build
    must not outlive the server that asked for it, holding the CPU and a read snapshot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the build finishes on its own
        return
    if os.getppid() == 1:  # the parent was gone before the call took effect
        os._exit(1)
