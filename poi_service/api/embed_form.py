"""Checks the embed help page's form with the widget's own parameter rules, so that a snippet never
points at an iframe that would answer with a problem document."""

from __future__ import annotations

from poi_service import params
from poi_service.api.deps import Services
from poi_service.errors import InvalidInput
from poi_service.maps.i18n import Lang

FIELDS = ("category", "center", "zoom", "radius_m", "q")
MESSAGES: dict[Lang, dict[str, str]] = {
    "de": {
        "category": "Unbekannte Kategorie.",
        "center": "Mittelpunkt als Breite,Länge in Grad angeben, z. B. 54.7925,9.4096.",
        "zoom": "Zoomstufe muss eine ganze Zahl von 3 bis 19 sein.",
        "radius_m": "Umkreis muss eine Zahl über 0 (höchstens {max} m) sein und braucht einen Mittelpunkt.",
        "q": "Suchtext darf höchstens 200 Zeichen lang sein.",
        "summary": "Bitte korrigieren Sie die markierten Angaben; Code und Vorschau lassen sie weg.",
    },
    "en": {
        "category": "Unknown category.",
        "center": "Give the centre as lat,lon in degrees, e.g. 54.7925,9.4096.",
        "zoom": "Zoom must be a whole number from 3 to 19.",
        "radius_m": "Radius must be a number above 0 (at most {max} m) and needs a centre.",
        "q": "The search text may be at most 200 characters long.",
        "summary": "Please correct the marked fields; the code and the preview leave them out.",
    },
}


def _check(name: str, value: str, values: dict[str, str], services: Services) -> None:
    """Raises InvalidInput as the widget would for this parameter."""
    if name == "category":
        params.categories([value], services.vocabulary)
    elif name == "center":
        parts = value.split(",")
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            raise params.invalid("center", "must be lat,lon") from None
        params.point(lat, lon)
    elif name == "zoom":
        if not value.strip().isdigit() or not 3 <= int(value) <= 19:
            raise params.invalid("zoom", "must be between 3 and 19")
    elif name == "radius_m":
        try:
            radius = float(value)
        except ValueError:
            raise params.invalid("radius_m", "must be a number") from None
        params.radius(radius, services.settings)
        if not values.get("center"):
            raise params.invalid("radius_m", "needs center")
    elif name == "q":
        params.text(value)


def errors(values: dict[str, str], services: Services, lang: Lang) -> dict[str, str]:
    """Field name -> message for every value the widget would refuse (empty values are fine)."""
    out: dict[str, str] = {}
    for name in FIELDS:
        value = values.get(name, "")
        if not value.strip():
            continue
        try:
            _check(name, value, values, services)
        except InvalidInput:
            out[name] = MESSAGES[lang][name].format(max=f"{services.settings.max_radius_m:g}")
    if "center" in out and "radius_m" not in out and values.get("radius_m", "").strip():
        out["radius_m"] = MESSAGES[lang]["radius_m"].format(max=f"{services.settings.max_radius_m:g}")
    return out
