"""The embed help page checks its form with the widget's rules: a snippet never frames a problem document."""

from __future__ import annotations

import html
import re

import pytest

from tests.api.conftest import Api

SNIPPET = re.compile(r'<code id="poi-snippet">(.*?)</code>', re.S)
PREVIEW = re.compile(r'<iframe class="poi-preview" src="([^"]+)"')


def _page(api: Api, **params: str) -> tuple[str, str, str]:
    r = api.client.get("/embed", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    snippet = html.unescape(SNIPPET.search(r.text).group(1))  # type: ignore[union-attr]
    preview = html.unescape(PREVIEW.search(r.text).group(1))  # type: ignore[union-attr]
    return r.text, snippet, preview


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"center": "abc", "zoom": "99"}, {"center", "zoom"}),
        ({"center": "54.79,9.41", "radius_m": "-5"}, {"radius_m"}),
        ({"radius_m": "500"}, {"radius_m"}),  # a radius needs a centre
        ({"category": "no-such-thing"}, {"category"}),
        ({"center": "95,9.4"}, {"center"}),
    ],
)
def test_bad_values_are_shown_in_the_form_and_left_out_of_the_snippet(
    api: Api, lang: str, params: dict[str, str], bad: set[str]
) -> None:
    text, snippet, preview = _page(api, lang=lang, **params)
    assert 'role="alert"' in text
    marked = set(re.findall(r'<span class="poi-field-error" id="f-([a-z]+)-error">', text))
    assert marked == {{"radius_m": "radius"}.get(b, b) for b in bad}
    for name in bad:
        assert f"{name}=" not in snippet and f"{name}=" not in preview
    frame = api.client.get(preview)  # the preview (and so the snippet) answers a page, not a problem
    assert frame.status_code == 200 and frame.headers["content-type"].startswith("text/html")
    assert api.client.get(re.search(r'src="([^"]+)"', snippet).group(1)).status_code == 200  # type: ignore[union-attr]


def test_good_values_reach_the_snippet_and_the_preview(api: Api) -> None:
    text, snippet, preview = _page(api, center="54.79,9.41", zoom="12", radius_m="800", category="church")
    assert 'role="alert"' not in text and "aria-invalid" not in text
    for part in ("center=54.79%2C9.41", "zoom=12", "radius_m=800", "category=church"):
        assert part in snippet and part in preview
    assert api.client.get(preview).status_code == 200
