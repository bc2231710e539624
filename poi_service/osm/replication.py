"""`osm update --replication`: follow a replication server diff by diff, from the recorded state.

Each diff is applied in its own transaction together with its sequence number, so an interrupted
run resumes after the last applied diff. A server that answers no valid state, a missing diff
(404) or a diff osmium cannot read stops the run with an error; diffs applied before stay.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

from osmium.replication.server import ReplicationServer

from poi_service.errors import ImportFailed, PoiError
from poi_service.osm.importer import REPLICATION_META, Options, OsmReport, apply_changes
from poi_service.store import Store

TIMEOUT_S = 60


class ReplicationFailed(PoiError):
    """The replication server could not be followed (unreachable, missing diff, garbage)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, 502, "replication-failed", "Replication failed")


def recorded(store: Store) -> dict[str, object]:
    """The replication state the last import or update recorded ({} if none)."""
    text = store.meta_get(REPLICATION_META)
    value = json.loads(text) if text else None
    return value if isinstance(value, dict) else {}


def _start(server: ReplicationServer, state: dict[str, object], url: str) -> int:
    """The sequence number of the data the store holds: recorded, else found from its timestamp."""
    seq = state.get("sequence")
    if isinstance(seq, int):
        return seq
    stamp = state.get("timestamp")
    if isinstance(stamp, str) and stamp:
        try:
            when = datetime.fromisoformat(stamp.replace("\\:", ":").replace("Z", "+00:00"))
        except ValueError:
            when = None
        found = server.timestamp_to_sequence(when) if when else None
        if found is not None:
            return int(found)
    raise ImportFailed(
        f"no replication state recorded: import an extract whose header names its replication sequence "
        f"or timestamp before following {url}"
    )


def catch_up(
    store: Store, url: str | None, opts: Options, *, max_diffs: int | None = None
) -> list[OsmReport]:
    """Applies every diff after the recorded state until the server's latest (or max_diffs of them)."""
    state = recorded(store)
    url = url or (state.get("url") if isinstance(state.get("url"), str) else None)  # type: ignore[assignment]
    if not url:
        raise ImportFailed("no replication URL: give --replication URL or set POI_OSM_REPLICATION_URL")
    reports: list[OsmReport] = []
    with ReplicationServer(url) as server:
        server.set_request_parameter("timeout", TIMEOUT_S)  # a stalled server must not hang a cron job
        latest = _state(server, None, url)
        current = _start(server, state, url)
        with tempfile.TemporaryDirectory(prefix="poi-osm-") as tmp:
            for seq in range(current + 1, latest + 1):
                if max_diffs is not None and len(reports) >= max_diffs:
                    break
                info = server.get_state_info(seq)
                path = Path(tmp) / f"{seq}.osc.gz"
                try:
                    path.write_bytes(bytes(server.get_diff_block(seq)))  # type: ignore[arg-type]
                except Exception as exc:  # urllib / requests raise their own error types
                    raise ReplicationFailed(f"{url}: diff {seq} could not be downloaded ({exc})") from exc
                stamp = info.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ") if info else None
                replication = {"sequence": seq, "timestamp": stamp, "url": url}
                try:
                    reports.append(apply_changes(store, path, opts, replication=replication))
                except ImportFailed as exc:
                    raise ReplicationFailed(f"{url}: diff {seq}: {exc.detail}") from exc
                path.unlink()
    return reports


def _state(server: ReplicationServer, seq: int | None, url: str) -> int:
    try:
        info = server.get_state_info(seq)
    except Exception as exc:  # a server answering garbage can break the parser itself
        raise ReplicationFailed(f"{url}: no valid replication state ({exc})") from exc
    if info is None:
        raise ReplicationFailed(f"{url}: no valid replication state (state.txt missing or unreadable)")
    return int(info.sequence)
