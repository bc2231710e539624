"""Every setting is documented: described in code and listed in the README (datasette's rule)."""

from __future__ import annotations

import pytest

from poi_service.config import Settings
from tests.conftest import ROOT


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_documented(name: str) -> None:
    assert Settings.model_fields[name].description, f"{name} has no description"
    assert f"`POI_{name.upper()}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POI_MAX_RADIUS_M", "1234")
    monkeypatch.setenv("POI_CORS_ORIGINS", '["https://www.harrislee.de"]')
    settings = Settings()
    assert settings.max_radius_m == 1234 and settings.cors_origins == ["https://www.harrislee.de"]


def test_online_geocoder_domain_refuses_a_scheme() -> None:
    with pytest.raises(ValueError, match="host only"):
        Settings(geocoder="nominatim", geocoder_domain="https://nominatim.example.org")
