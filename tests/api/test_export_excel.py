"""GET /export/{kind}.csv?csv=excel: a CSV Excel opens in German locales (issue 14.13)."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import Api
from tests.api.test_bad_input import assert_problem


def test_excel_csv_download(api: Api) -> None:
    r = api.client.get("/export/places.csv", params={"csv": "excel"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and r.content.count(b"\n") == r.content.count(b"\r\n")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == api.store.places.count() and "," in rows[0]["lat"]
    plain = api.client.get("/export/places.csv")
    assert not plain.content.startswith(b"\xef\xbb\xbf") and plain.text.split("\r\n", 1)[0].count(",") > 5
    assert_problem(api.client.get("/export/places.geojson", params={"csv": "excel"}), 400, "csv")
    assert_problem(api.client.get("/export/places.csv", params={"csv": "lotus"}), 400, "csv")
