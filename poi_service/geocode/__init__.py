"""Geocoding: the offline gazetteer by default, Nominatim or Photon when an operator configures one."""

from __future__ import annotations

from poi_service.config import Settings
from poi_service.geocode.base import (
    GeocodeAnswer,
    GeocodeCache,
    GeocodeQuery,
    Geocoder,
    GeocodeResult,
    ReverseResult,
)
from poi_service.geocode.gazetteer import ATTRIBUTIONS
from poi_service.geocode.normalize import split_kind
from poi_service.geocode.offline import OfflineGeocoder
from poi_service.geocode.online import MemoryCache, OnlineGeocoder
from poi_service.store.base import AddressIndex

__all__ = [
    "ATTRIBUTIONS",
    "GeocodeAnswer",
    "GeocodeCache",
    "GeocodeQuery",
    "GeocodeResult",
    "Geocoder",
    "MemoryCache",
    "OfflineGeocoder",
    "OnlineGeocoder",
    "ReverseResult",
    "make_geocoder",
    "member_query",
]

_KIND_PREFIX = {"landkreis": "Landkreis", "kreis": "Kreis", "stadt": "Stadt", "samtgemeinde": "Samtgemeinde"}


def make_geocoder(
    settings: Settings, cache: GeocodeCache | None, addresses: AddressIndex | None = None
) -> Geocoder:
    """The configured geocoder; an online one only with an explicit POI_GEOCODER_DOMAIN. The offline
    one answers house numbers and streets from the store's OSM address index when given one."""
    if settings.geocoder == "offline":
        if addresses is not None:
            from poi_service.geocode.addresses import AddressGeocoder

            return AddressGeocoder(OfflineGeocoder(settings.data_dir), addresses, settings.data_dir)
        return OfflineGeocoder(settings.data_dir)
    if not settings.geocoder_domain:
        # We never call a third party unless told to: even the public servers must be named explicitly.
        public = "nominatim.openstreetmap.org" if settings.geocoder == "nominatim" else "photon.komoot.io"
        raise ValueError(
            f"POI_GEOCODER={settings.geocoder} needs POI_GEOCODER_DOMAIN: the host of your own server, "
            f"or {public} to accept the public service and its usage policy"
        )
    return OnlineGeocoder.from_settings(settings, cache)


def member_query(name: str, kind: str | None, state: str | None, country: str | None) -> GeocodeQuery:
    """The query for an alliance member row: the kind becomes a prefix ('Stadt X', 'Landkreis X')."""
    # The prefix steers same-named places (a Stadt Buchholz is not the village Buchholz); a name that
    # already starts with a kind word ('Kreis Plön', 'Samtgemeinde Isenbüttel') is left as it is.
    prefix = _KIND_PREFIX.get((kind or "").strip().casefold())
    german = (country or "DE").upper() == "DE"
    text = name.strip()
    if german and prefix and split_kind(text)[0] is None:
        text = f"{prefix} {text}"
    return GeocodeQuery(text=text, state=state or None, country=(country or None))
