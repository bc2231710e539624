"""Change history shared by the SQL backends: record snapshots and Change rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from poi_service.errors import PreconditionFailed
from poi_service.models import Membership, Place
from poi_service.store.base import Action, Change, ImportPlan
from poi_service.store.records import RecordSpec, Row, _dt

# Columns compared to decide whether a re-imported row changes the stored record; geocoded_at
# is left out because every import run geocodes (and stamps) its rows anew.
UNCOMPARED = frozenset({"geocoded_at"})


def snapshot(spec: RecordSpec[Any, Any, Any], record: Place | Membership) -> dict[str, Any]:
    """A record as JSON-ready scalars: id, version, the stored columns, timestamps."""
    return {
        "id": record.id,
        "version": record.version,
        **spec.to_row(record),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "deleted_at": record.deleted_at.isoformat() if record.deleted_at else None,
    }


def same_data(spec: RecordSpec[Any, Any, Any], row: dict[str, Any], record: Place | Membership) -> bool:
    """True when a new row's data columns equal the stored record's (geocoded_at aside)."""
    stored = spec.to_row(record)
    return all(row[c] == stored[c] for c in spec.columns if c not in UNCOMPARED)


def encode(state: dict[str, Any] | None) -> str | None:
    """A snapshot as JSON text (SQLite column; PostgreSQL casts it to jsonb)."""
    return None if state is None else orjson.dumps(state).decode()


def decode(value: Any) -> dict[str, Any] | None:
    """A stored snapshot: JSON text (SQLite) or an already decoded jsonb value (psycopg)."""
    if value is None:
        return None
    decoded: dict[str, Any] = orjson.loads(value) if isinstance(value, str | bytes) else dict(value)
    return decoded


def change(row: Row) -> Change:
    """A Change from a history row (seq, record_id, version, action, actor, at, before, after)."""
    action: Action = row["action"]
    at: datetime = _dt(row["at"])
    return Change(
        int(row["seq"]),
        row["record_id"],
        int(row["version"]),
        action,
        row["actor"],
        at,
        decode(row["before"]),
        decode(row["after"]),
    )


def plan_rows(
    spec: RecordSpec[Any, Any, Any], rows: Sequence[Any], stored: Mapping[str, Place | Membership]
) -> ImportPlan:
    """The ImportPlan of rows against the live records of their keys (`stored`, by external_key)."""
    known = [(d, stored[d.external_key]) for d in rows if d.external_key in stored]
    unchanged = sum(1 for d, record in known if same_data(spec, spec.to_row(d), record))
    return ImportPlan(len(rows) - len(known), len(known) - unchanged, unchanged)


def check_version(record_id: str, stored: int, expected: int | None) -> None:
    """PreconditionFailed unless expected is None or the stored version."""
    if expected is not None and expected != stored:
        raise PreconditionFailed(
            f"{record_id} is at version {stored}, not {expected}: it changed since it was read; "
            "fetch it again and reapply the edit"
        )
