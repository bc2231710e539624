"""Writes that should not surprise an editor: an unquoted ETag is the same tag (issue 14.11), and a PATCH
that changes nothing makes no new version and no history entry (issue 14.12)."""

from __future__ import annotations

from tests.api.conftest import EditApi
from tests.api.test_bad_input import assert_problem
from tests.api.test_write_api import SCHOOL, create


def test_an_unquoted_etag_in_if_match_is_the_same_tag(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Ohne Anführungszeichen"})
    url, quoted = r.headers["location"], r.headers["etag"]
    h = edit_api.editor
    bare = quoted.strip('"')
    assert bare != quoted
    r = edit_api.client.patch(url, json={"description": "eins"}, headers={**h, "If-Match": bare})
    assert r.status_code == 200, r.text
    # the old tag, unquoted or not, is stale now: 412 (it really changed)
    assert_problem(
        edit_api.client.patch(url, json={"description": "x"}, headers={**h, "If-Match": bare}), 412, None
    )
    r = edit_api.client.delete(url, headers={**h, "If-Match": r.headers["etag"].strip('"')})
    assert r.status_code == 204


def test_a_patch_that_changes_nothing_keeps_version_and_history(edit_api: EditApi) -> None:
    r = create(edit_api, {**SCHOOL, "name": "Unverändert", "description": "so bleibt es"})
    url, etag = r.headers["location"], r.headers["etag"]
    h = edit_api.editor
    for body in ({"description": "so bleibt es"}, {}, {"name": "Unverändert", "category": "driving_school"}):
        again = edit_api.client.patch(url, json=body, headers={**h, "If-Match": etag})
        assert again.status_code == 200, again.text
        assert again.headers["etag"] == etag, body  # the ETag names the version
    put = edit_api.client.put(
        url,
        json={**SCHOOL, "name": "Unverändert", "description": "so bleibt es"},
        headers={**h, "If-Match": etag},
    )
    assert put.status_code == 200 and put.headers["etag"] == etag
    changes = edit_api.client.get(f"{url}/history", headers=h).json()["changes"]
    assert [c["action"] for c in changes] == ["create"]
    changed = edit_api.client.patch(
        url, json={"description": "jetzt anders"}, headers={**h, "If-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
