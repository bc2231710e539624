"""poi_service/child.py: work done once across processes, in a child at nice 19 that dies with its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from poi_service.child import once_in_child
from tests.conftest import ROOT


def record(path: str) -> None:
    """The child's work in these tests: note its niceness and parent."""
    Path(path).write_text(f"{os.nice(0)} {os.getppid()}")


def sleep_then_record(path: str) -> None:
    Path(path + ".pid").write_text(str(os.getpid()))
    time.sleep(60)
    Path(path).write_text("finished")


def test_runs_once_at_lowest_priority(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    assert once_in_child(tmp_path / "lock", out.exists, record, str(out))
    nice, parent = out.read_text().split()
    assert int(nice) == 19 and int(parent) == os.getpid()
    out.write_text("kept")
    assert once_in_child(tmp_path / "lock", out.exists, record, str(out))  # done: not run again
    assert out.read_text() == "kept"


PARENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from poi_service.child import once_in_child
    from tests.test_child import sleep_then_record
    out = sys.argv[1]
    once_in_child(Path(out + ".lock"), Path(out).exists, sleep_then_record, out)
    """
)


def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    out = str(tmp_path / "out.txt")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, out], env=env)
    pid_file = Path(out + ".pid")
    deadline = time.monotonic() + 60
    while not pid_file.exists():
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "zombie" not in _state(child):
        assert time.monotonic() < deadline, "the build outlived its parent"
        time.sleep(0.05)
    assert not Path(out).exists()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"
