"""release_free_memory gives the C heap's free pages back after the big one-off loads (memory.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from poi_service.memory import release_free_memory
from tests.conftest import DATA_DIR, ROOT

SCRIPT = """
import sys
from pathlib import Path
from poi_service.geocode import gazetteer
data = Path(sys.argv[2])
if sys.argv[1] == "trim":
    gazetteer.load_gazetteer(data)
else:
    gazetteer._load(data.resolve())  # the same load without the trim
assert gazetteer.load_gazetteer(data).by_ags  # loaded, and usable after the trim
print([line for line in open("/proc/self/status") if line.startswith("VmRSS")][0].split()[1])
"""


def _rss_kb(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(DATA_DIR)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def test_loading_the_gazetteer_leaves_less_resident_memory_with_the_trim() -> None:
    assert release_free_memory()  # glibc here (Debian): the trim is available
    plain, trimmed = _rss_kb("plain"), _rss_kb("trim")
    assert trimmed < plain - 10_000, (plain, trimmed)  # measured: about 45 MB less


def test_settle_freezes_start_up_objects_only_in_servers() -> None:
    code = (
        "import gc; from poi_service.memory import settle; import poi_service.api.app; "
        "settle(False); a = gc.get_freeze_count(); settle(True); print(a, gc.get_freeze_count())"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 10_000  # the app's modules and objects are out of the collector's way
