"""`poi-service keys create|list|revoke` over a real store file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from poi_service import keys
from poi_service.cli import cli
from poi_service.store import open_store
from tests.conftest import DATA_DIR


def run(database: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--database", str(database), *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_keys_lifecycle(tmp_path: Path) -> None:
    db = tmp_path / "keys.gpkg"
    created = run(db, "keys", "create", "--name", "Redaktion Harrislee", "--role", "editor")
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    key_id = keys.key_id_of(secret)
    assert key_id is not None and "not shown again" in created.stderr
    admin = json.loads(run(db, "keys", "create", "--name", "Admin", "--role", "admin", "--json").stdout)
    assert admin["role"] == "admin" and admin["key"].startswith(f"poi_{admin['id']}_")

    listed = run(db, "keys", "list")
    assert key_id in listed.stdout and "Redaktion Harrislee" in listed.stdout and "editor" in listed.stdout
    assert secret not in listed.stdout and admin["key"] not in listed.stdout
    rows = json.loads(run(db, "keys", "list", "--json").stdout)
    assert [(r["id"], r["role"], r["revoked_at"]) for r in rows] == [
        (key_id, "editor", None),
        (admin["id"], "admin", None),
    ]

    # Only a SHA-256 digest is stored: the secret part appears nowhere in the file.
    con = sqlite3.connect(db)
    stored = con.execute("SELECT hash FROM poi_keys WHERE id = ?", (key_id,)).fetchone()[0]
    con.close()
    assert stored == keys.digest(secret)
    files = [db, Path(f"{db}-wal")]  # the WAL is folded into the file when the last connection closes
    assert not any(secret.split("_", 2)[2].encode() in f.read_bytes() for f in files if f.exists())

    store = open_store(str(db), DATA_DIR)
    assert keys.authenticate(store, secret) is not None
    revoked = run(db, "keys", "revoke", key_id)
    assert revoked.exit_code == 0 and key_id in revoked.stdout
    assert keys.authenticate(store, secret) is None  # at once, also for an already open store
    store.close()
    assert json.loads(run(db, "keys", "list", "--json").stdout)[0]["revoked_at"] is not None


def test_keys_refusals(tmp_path: Path) -> None:
    db = tmp_path / "keys.gpkg"
    bad_role = run(db, "keys", "create", "--name", "x", "--role", "superuser")
    assert bad_role.exit_code == 2 and "superuser" in bad_role.output
    blank = run(db, "keys", "create", "--name", "   ")
    assert blank.exit_code == 1 and "name" in blank.stderr
    unknown = run(db, "keys", "revoke", "000000000000")
    assert unknown.exit_code == 1 and "no API key" in unknown.stderr
