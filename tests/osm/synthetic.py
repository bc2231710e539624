"""A SYNTHETIC German OSM extract for the address tests, written with pyosmium's SimpleWriter.

Street names are real Harrislee/Flensburg street names, but every coordinate, house number and
building here is MADE UP for testing (each object carries note=synthetic test data, not OSM). The
points lie inside the shipped outlines of Harrislee (AGS 01059120) and Flensburg (01001000).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import osmium

NOTE = {"note": "synthetic test data, not OSM"}


@dataclass(frozen=True)
class Door:
    """One synthetic address node."""

    street: str
    number: str
    lon: float
    lat: float
    postcode: str
    city: str


# Süderstraße in Harrislee runs west-east; numbers step about 12 m apart.
HARRISLEE = [
    Door("Süderstraße", n, 9.3860 + i * 0.0002, 54.8000, "24955", "Harrislee")
    for i, n in enumerate(["10", "12", "12a", "14-16", "18", "7 A", "101"])
] + [
    Door("Große Straße", n, 9.3800, 54.8010 + i * 0.0002, "24955", "Harrislee")
    for i, n in enumerate(["1", "3", "5"])
]
# A Süderstraße in Flensburg too (same name, other town), and a door without postcode/city tags.
FLENSBURG = [Door("Süderstraße", "12", 9.4330, 54.7830, "24937", "Flensburg")]
UNTAGGED = Door("Holmweg", "4", 9.3900, 54.8020, "", "")
BUILDING_NUMBER = "20"  # a closed building way on the Süderstraße


def write_extract(path: Path) -> None:
    """Writes the synthetic extract (nodes, then ways, ids ascending as PBF readers expect)."""
    path.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(path))
    try:
        next_id = 1
        for door in [*HARRISLEE, *FLENSBURG, UNTAGGED]:
            tags = {**NOTE, "addr:housenumber": door.number, "addr:street": door.street}
            if door.postcode:
                tags |= {"addr:postcode": door.postcode, "addr:city": door.city}
            writer.add_node(osmium.osm.mutable.Node(id=next_id, location=(door.lon, door.lat), tags=tags))
            next_id += 1
        street_nodes = {100: (9.3850, 54.79995), 101: (9.3870, 54.79995), 102: (9.3890, 54.79995)}
        flens_nodes = {110: (9.4320, 54.7829), 111: (9.4340, 54.7829)}
        gross_nodes = {120: (9.37995, 54.8005), 121: (9.37995, 54.8020)}
        building = {
            130: (9.3876, 54.8001),
            131: (9.3878, 54.8001),
            132: (9.3878, 54.8002),
            133: (9.3876, 54.8002),
        }
        for nid, loc in {**street_nodes, **flens_nodes, **gross_nodes, **building}.items():
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=loc, tags=NOTE))
        ways = [
            (200, [100, 101], {"highway": "residential", "name": "Süderstraße"}),
            (201, [101, 102], {"highway": "residential", "name": "Süderstraße"}),
            (202, [110, 111], {"highway": "residential", "name": "Süderstraße"}),
            (203, [120, 121], {"highway": "residential", "name": "Große Straße"}),
            (
                204,
                [130, 131, 132, 133, 130],
                {"building": "house", "addr:street": "Süderstraße", "addr:housenumber": BUILDING_NUMBER},
            ),
            # Clipped: nodes 900/901 are not in the file, as at the edge of a real extract.
            (205, [102, 900, 901], {"highway": "residential", "name": "Süderstraße"}),
        ]
        for wid, refs, tags in ways:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags={**NOTE, **tags}))
    finally:
        writer.close()
