"""`poi-service serve` as a real subprocess (its own process group) on a free port, for multi-worker tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

CLI = Path(sys.executable).with_name("poi-service")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `poi-service serve` and its base URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def workers(self) -> list[int]:
        """The pids of the uvicorn worker processes (children of the serve process)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [
            int(c) for c in children if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
        ]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signals the whole process group (the serve process and every worker)."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)


@contextmanager
def serve(database: Path, workers: int = 2, startup_s: float = 120.0) -> Iterator[Server]:
    """Starts the server over a store file; stops the whole group afterwards."""
    port = free_port()
    log = database.with_suffix(".log")
    env = {**os.environ, "POI_DATABASE_URL": str(database)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(CLI), "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            # Every worker has finished its startup (each logs it once).
            if log.read_bytes().count(b"Application startup complete") >= workers:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        server.kill(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill(signal.SIGKILL)
            process.wait(timeout=15)
