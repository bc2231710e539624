"""Date filters as GDAL's OAPIF driver (and so QGIS) sends them: `-where "joined_date >= '2021-01-01'"`
becomes `datetime=2021-01-01T/..` (issue 14.4). Checked with the forms themselves, with GDAL through pyogrio,
and with Debian's `ogrinfo` (scripts/gdal-install.sh)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from calendar import monthrange
from datetime import date

import pytest

from poi_service.models import DatePrecision, Membership
from tests.ogc.conftest import Ogc
from tests.ogc.test_clients import LOOPBACK, gdal

ITEMS = "/ogc/collections/alliance-members/items"


def _end(m: Membership) -> date:
    assert m.joined is not None
    if m.joined_precision == DatePrecision.YEAR:
        return date(m.joined.year, 12, 31)
    if m.joined_precision == DatePrecision.MONTH:
        return date(m.joined.year, m.joined.month, monthrange(m.joined.year, m.joined.month)[1])
    return m.joined


def _within(ogc: Ogc, start: date | None, stop: date | None) -> set[str]:
    """Members whose whole known join period lies in [start, stop] (the datetime semantics, README)."""
    return {
        m.id
        for m in ogc.members()
        if m.joined and (start is None or m.joined >= start) and (stop is None or _end(m) <= stop)
    }


@pytest.mark.parametrize(
    ("value", "start", "stop"),
    [
        ("2019-06-14T/..", date(2019, 6, 14), None),
        ("../2019-06-14T", None, date(2019, 6, 14)),
        ("2019-01-01T/2019-12-31T", date(2019, 1, 1), date(2019, 12, 31)),
        ("2019-06-14T00:00:00Z/..", date(2019, 6, 14), None),
        ("2019-06-14", date(2019, 6, 14), date(2019, 6, 14)),
    ],
)
def test_the_forms_gdal_sends_are_accepted(
    ogc: Ogc, value: str, start: date | None, stop: date | None
) -> None:
    r = ogc.get(ITEMS, datetime=value, limit=100)
    assert r.status_code == 200, r.text
    want = _within(ogc, start, stop)
    assert want and {f["id"] for f in r.json()["features"]} == want


def test_gdal_where_on_the_join_date(ogc: Ogc) -> None:
    jobs = {
        "after": {"layer": "alliance-members", "where": "joined_date >= '2019-06-14'"},
        "before": {"layer": "alliance-members", "where": "joined_date <= '2019-06-14'"},
        "within": {"layer": "alliance-members", "where": "joined_date BETWEEN '2019-01-01' AND '2019-12-31'"},
    }
    start = len(ogc.seen)
    out = gdal(ogc, jobs)
    assert any("datetime=" in r for r in ogc.seen[start:]), "GDAL did not send the filter to the server"
    first = {m.id: m.joined for m in ogc.members()}  # GDAL also applies the where to joined_date itself
    assert sorted(out["after"]["ids"]) == sorted(_within(ogc, date(2019, 6, 14), None))
    assert sorted(out["before"]["ids"]) == sorted(
        i for i in _within(ogc, None, date(2019, 6, 14)) if (first[i] or date.max) <= date(2019, 6, 14)
    )
    assert sorted(out["within"]["ids"]) == sorted(_within(ogc, date(2019, 1, 1), date(2019, 12, 31)))


def test_ogrinfo_where_on_the_join_date(ogc: Ogc) -> None:
    """Debian's ogrinfo, as an analyst runs it (scripts/gdal-install.sh installs gdal-bin)."""
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        if os.environ.get("CI"):
            pytest.fail("ogrinfo is missing: run scripts/gdal-install.sh (apt-get install gdal-bin)")
        pytest.skip("ogrinfo is missing: run scripts/gdal-install.sh (apt-get install gdal-bin)")
    proc = subprocess.run(
        [
            ogrinfo,
            "-ro",
            "-so",
            "-al",
            f"OAPIF:{ogc.url}/ogc",
            "-where",
            "joined_date >= '2019-06-14'",
            "alliance-members",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **LOOPBACK},
    )
    assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
    count = re.search(r"Feature Count: (\d+)", proc.stdout)
    assert count is not None, proc.stdout
    assert int(count.group(1)) == len(_within(ogc, date(2019, 6, 14), None))
