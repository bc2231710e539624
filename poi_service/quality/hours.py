"""`poi-service data check --store`: places whose opening_hours the parser cannot read.

They stay stored and are shown as given (maps, API), but an open_at / open_now query never counts them
as open: the check lists them so that someone can fix the tag at its source.
"""

from __future__ import annotations

from poi_service.hours import valid
from poi_service.quality.report import Finding, Severity
from poi_service.store import Store

STORE_FILE = "store"  # the findings' `file`: they are about stored records, not a shipped CSV file


def hours_findings(store: Store) -> list[Finding]:
    """A warning per live place with opening_hours that do not parse, the raw text in the message."""
    out = []
    for place in store.places.iter_all():
        text = place.opening_hours
        if text and not valid(text):
            where = place.source or place.external_key or place.id
            out.append(
                Finding(
                    Severity.WARNING,
                    "unparseable-hours",
                    STORE_FILE,
                    None,
                    place.name,
                    f"opening_hours {text!r} does not parse ({where}); shown as given, never counted as open",
                )
            )
    return out
