"""Test OSM files: the real Helsinki extract, a SYNTHETIC Harrislee extract written with pyosmium,
change files (osmChange XML) and a replication directory.

Everything in the Harrislee file is invented for tests and says so: names start with
"SYNTHETIC", every object carries `note=synthetic test data`. Positions are derived from the
shipped municipality boundaries (points inside Harrislee and Flensburg), not from real places.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

from poi_service.boundaries import Boundaries
from tests.conftest import DATA_DIR

HELSINKI = Path(__file__).resolve().parent.parent / "data" / "osm" / "helsinki_centre.osm.pbf"
HARRISLEE = "01059120"
FLENSBURG = "01001000"
SYNTHETIC = {"note": "synthetic test data"}
STAMP = "2024-03-01T12:00:00Z"


def inside(ags: str, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
    """A point inside a municipality of the shipped boundaries, shifted by (dx, dy) degrees."""
    area = Boundaries.load(DATA_DIR).get(ags)
    assert area is not None
    p = area.geometry.representative_point()
    point = (round(p.x + dx, 7), round(p.y + dy, 7))
    assert area.geometry.contains(__import__("shapely").Point(*point)), point
    return point


@dataclass(frozen=True)
class Synthetic:
    """Ids and expectations of the synthetic Harrislee extract."""

    path: Path
    cafe: int = 1001  # node, amenity=cafe, hours and wheelchair
    stolperstein: int = 1002  # node, memorial=stolperstein
    parking: int = 1003  # node, amenity=parking + capacity:disabled=2, no name
    unnamed_shop: int = 1004  # node, shop=bakery without a name: skipped
    bench: int = 1005  # node, amenity=bench: unmapped
    flensburg_shop: int = 1006  # node in Flensburg: outside --area Harrislee
    bad_phone: int = 1007  # node with an invalid phone and wheelchair=designated
    school_way: int = 2001  # closed way around a synthetic school
    broken_way: int = 2002  # way with a node missing from the file


def write_harrislee(path: Path, *, sequence: int | None = 100, timestamp: str = STAMP) -> Synthetic:
    """The synthetic extract (a .osm.pbf), with a replication header when sequence is given."""
    s = Synthetic(path)
    header = osmium.io.Header()
    if sequence is not None:
        header.set("osmosis_replication_sequence_number", str(sequence))
        header.set("osmosis_replication_timestamp", timestamp)
    path.unlink(missing_ok=True)
    h = inside(HARRISLEE)
    f = inside(FLENSBURG)
    common = {"version": 1, "timestamp": STAMP, "changeset": 1, "uid": 1, "user": "synthetic"}
    with osmium.SimpleWriter(str(path), header=header) as w:
        nodes = [
            (
                s.cafe,
                h,
                {
                    "amenity": "cafe",
                    "name": "SYNTHETIC Café Grenzblick",
                    "name:da": "SYNTHETIC Café Grænseudsigt",
                    "opening_hours": "Mo-Su 09:00-02:00",
                    "wheelchair": "limited",
                    "addr:street": "Süderstraße",
                    "addr:housenumber": "1",
                    "addr:postcode": "24955",
                    "addr:city": "Harrislee",
                    "phone": "+49 461 1234567; +49 461 7654321",
                    "website": "https://example.invalid/cafe",
                },
            ),
            (
                s.stolperstein,
                (h[0] + 0.001, h[1]),
                {"memorial": "stolperstein", "historic": "memorial", "name": "SYNTHETIC Stolperstein"},
            ),
            (s.parking, (h[0] + 0.002, h[1]), {"amenity": "parking", "capacity:disabled": "2"}),
            (s.unnamed_shop, (h[0] + 0.003, h[1]), {"shop": "bakery"}),
            (s.bench, (h[0] + 0.004, h[1]), {"amenity": "bench", "name": "SYNTHETIC Bank"}),
            (s.flensburg_shop, f, {"shop": "books", "name": "SYNTHETIC Buchladen Flensburg"}),
            (
                s.bad_phone,
                (h[0] + 0.005, h[1]),
                {
                    "amenity": "restaurant",
                    "name": "SYNTHETIC Krug",
                    "phone": "call us",
                    "wheelchair": "designated",
                },
            ),
        ]
        square = [
            (h[0] - 0.002, h[1] - 0.002),
            (h[0] - 0.001, h[1] - 0.002),
            (h[0] - 0.001, h[1] - 0.001),
            (h[0] - 0.002, h[1] - 0.001),
        ]
        for i, (lon, lat) in enumerate(square):
            nodes.append((9000 + i, (lon, lat), {}))
        for node_id, (lon, lat), tags in sorted(nodes):
            w.add_node(
                Node(id=node_id, location=(lon, lat), tags={**tags, **SYNTHETIC} if tags else {}, **common)
            )
        w.add_way(
            Way(
                id=s.school_way,
                nodes=[9000, 9001, 9002, 9003, 9000],
                tags={"amenity": "school", "name": "SYNTHETIC Grundschule", **SYNTHETIC},
                **common,
            )
        )
        w.add_way(
            Way(
                id=s.broken_way,
                nodes=[9000, 9001, 99999, 9000],
                tags={"leisure": "park", "name": "SYNTHETIC Park", **SYNTHETIC},
                **common,
            )
        )
    return s


def osc(path: Path, body: str, *, gz: bool = False) -> Path:
    """An osmChange file around body (create/modify/delete blocks)."""
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<osmChange version="0.6" generator="tests">\n{body}\n</osmChange>\n'
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def node_xml(node_id: int, lon: float, lat: float, version: int, tags: dict[str, str]) -> str:
    """One <node> of an osmChange file."""
    from xml.sax.saxutils import quoteattr

    inner = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
    return (
        f'<node id="{node_id}" version="{version}" timestamp="2024-04-01T00:00:00Z" changeset="2" uid="1" '
        f'user="synthetic" lat="{lat}" lon="{lon}">{inner}</node>'
    )
