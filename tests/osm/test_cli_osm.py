"""`poi-service osm import` / `osm update` from the command line: reports, JSON, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from poi_service.cli import cli
from tests.osm.fixtures import osc, write_harrislee


def run(*args: str, database: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--database", str(database), *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_report_and_errors(tmp_path: Path) -> None:
    s = write_harrislee(tmp_path / "h.osm.pbf")
    db = tmp_path / "poi.gpkg"
    code, out, _ = run(
        "osm", "import", str(s.path), "--area", "Harrislee", "--dry-run", "--json", database=db
    )
    assert code == 0 and json.loads(out)["new"] == 5 and json.loads(out)["dry_run"] is True
    code, out, _ = run("osm", "import", str(s.path), "--area", "Harrislee", database=db)
    assert code == 0 and "5 new, 0 updated, 0 unchanged, 0 deleted, 0 conflicts" in out
    assert "no name 1" in out and "invalid values dropped: phone 1" in out and "outside the area: 1" in out
    code, out, _ = run("osm", "import", str(s.path), "--area", "Harrislee", "--json", database=db)
    body = json.loads(out)
    assert (body["new"], body["unchanged"], body["replication"]["sequence"]) == (0, 5, 100)
    code, _, err = run("osm", "import", str(s.path), "--bbox", "1,2,3", database=db)
    assert code == 1 and "bbox" in err and "Traceback" not in err
    bad = osc(tmp_path / "bad.osc", "<create><node id='-5' version='1' lat='54.8' lon='9.4'/></create>")
    code, _, err = run("osm", "update", str(bad), database=db)
    assert code == 1 and err.startswith("error: bad.osc") and "placeholder" in err
    code, _, err = run("osm", "update", database=db)
    assert code == 1 and "no replication URL" in err


def test_import_also_loads_the_address_index_unless_told_not_to(tmp_path: Path) -> None:
    from poi_service.store import open_store
    from tests.conftest import DATA_DIR

    s = write_harrislee(tmp_path / "h.osm.pbf")
    for flag, db in (((), tmp_path / "with.gpkg"), (("--no-addresses",), tmp_path / "without.gpkg")):
        code, out, _ = run("osm", "import", str(s.path), "--area", "Harrislee", "--json", *flag, database=db)
        assert code == 0, out
        store = open_store(str(db), DATA_DIR)
        try:
            counts = store.addresses.counts()
        finally:
            store.close()
        body = json.loads(out)
        if flag:
            assert body["addresses"] is None and counts.addresses == 0
        else:  # the places' addresses (Süderstraße 1, ...) are in the index, as the report says
            assert counts.addresses > 0 and body["addresses"]["addresses"] == counts.addresses
