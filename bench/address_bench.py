"""Address index benchmark: build time and size, and geocode queries/s at house-number level beside the
postcode-level gazetteer geocoder, on the Helsinki extract and a generated extract of >= 2M nodes.

    PYTHONPATH=. .venv/bin/python bench/address_bench.py [--nodes 2000000] [--queries 2000] [--postgis]
      [--out bench/results/addresses_DATE.md]

The generated extract is SYNTHETIC (made-up street names and points in a box around Flensburg, every
object tagged note=synthetic); it is written with pyosmium's SimpleWriter into a temporary directory.
Answers are checked: every house-number answer must lie within 25 m (geodesic) of the address point it
was generated from (Helsinki: of the OSM point read independently with pyosmium).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import osmium  # noqa: E402
from geopy.distance import geodesic  # noqa: E402

from poi_service.geocode.addresses import AddressGeocoder  # noqa: E402
from poi_service.geocode.base import GeocodeQuery, Geocoder  # noqa: E402
from poi_service.geocode.offline import OfflineGeocoder  # noqa: E402
from poi_service.models import Precision  # noqa: E402
from poi_service.osm.addresses import import_addresses  # noqa: E402
from poi_service.store import Store, open_store  # noqa: E402

DATA_DIR = ROOT / "data"
HELSINKI = ROOT / "tests" / "data" / "osm" / "helsinki_centre.osm.pbf"
NOTE = {"note": "synthetic benchmark data, not OSM"}
# Per street: 50 street nodes, 50 address nodes and 75 addressed buildings of 4 nodes = 400 nodes.
STREET_NODES, DOORS, BUILDINGS = 50, 50, 75
NODES_PER_STREET = STREET_NODES + DOORS + 4 * BUILDINGS
_A = [
    "Süder",
    "Norder",
    "Oster",
    "Wester",
    "Mühlen",
    "Kirch",
    "Schul",
    "Linden",
    "Birken",
    "Eichen",
    "Buchen",
    "Tannen",
    "Rosen",
    "Garten",
    "Feld",
    "Wiesen",
    "Bach",
    "Berg",
    "Hafen",
    "Markt",
]
_B = [
    "",
    "au",
    "bek",
    "dorf",
    "feld",
    "hof",
    "holm",
    "horn",
    "kamp",
    "koppel",
    "lund",
    "moor",
    "ries",
    "rott",
    "see",
    "stedt",
    "strand",
    "tal",
    "torf",
    "wald",
    "warf",
    "wiek",
    "wisch",
    "wohld",
    "wurth",
]
_C = ["straße", "weg", "allee", "ring", "gang", "stieg", "damm", "redder", "twiete", "pfad"]
POSTCODES = [("24937", "Flensburg"), ("24939", "Flensburg"), ("24941", "Flensburg"), ("24955", "Harrislee")]


def street_name(i: int) -> str:
    """The i-th made-up street name (5,000 distinct)."""
    return f"{_A[i % 20]}{_B[(i // 20) % 25]}{_C[(i // 500) % 10]}"


def write_synthetic(path: Path, nodes: int, seed: int = 1) -> list[tuple[str, str, str, float, float]]:
    """Writes the synthetic extract; returns (street, number, postcode, lon, lat) of every address."""
    rng = random.Random(seed)
    streets = -(-nodes // NODES_PER_STREET)
    truth: list[tuple[str, str, str, float, float]] = []
    ways: list[tuple[list[int], dict[str, str]]] = []
    writer = osmium.SimpleWriter(str(path))
    nid = 0
    try:
        for s in range(streets):
            name = street_name(s)
            postcode, city = POSTCODES[s % len(POSTCODES)]
            lon0, lat0 = 9.30 + rng.uniform(0, 0.25), 54.72 + rng.uniform(0, 0.12)
            step = 0.00015  # about 10 m east per node
            refs = []
            for k in range(STREET_NODES):
                nid += 1
                writer.add_node(osmium.osm.mutable.Node(id=nid, location=(lon0 + k * step, lat0), tags=NOTE))
                refs.append(nid)
            ways.append((refs, {**NOTE, "highway": "residential", "name": name}))
            addr = {**NOTE, "addr:street": name, "addr:postcode": postcode, "addr:city": city}
            for k in range(DOORS):
                nid += 1
                lon, lat = lon0 + k * step, lat0 + 0.0002
                number = f"{2 * k + 1}" if k % 10 else f"{2 * k + 1} A"
                writer.add_node(
                    osmium.osm.mutable.Node(
                        id=nid, location=(lon, lat), tags={**addr, "addr:housenumber": number}
                    )
                )
                truth.append((name, number, postcode, lon, lat))
            for k in range(BUILDINGS):
                lon, lat = lon0 + (k % 50) * step, lat0 - 0.0003 - (k // 50) * 0.0003
                corners = [(lon, lat), (lon + 0.0001, lat), (lon + 0.0001, lat + 0.0001), (lon, lat + 0.0001)]
                ids = []
                for c in corners:
                    nid += 1
                    writer.add_node(osmium.osm.mutable.Node(id=nid, location=c, tags=NOTE))
                    ids.append(nid)
                number = f"{2 * k + 2}" if k % 7 else f"{2 * k + 2}-{2 * k + 4}"
                ways.append(([*ids, ids[0]], {**addr, "building": "house", "addr:housenumber": number}))
                truth.append((name, number, postcode, lon + 0.00005, lat + 0.00005))
        for wid, (refs, tags) in enumerate(ways, start=1):
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    finally:
        writer.close()
    return truth


def helsinki_truth() -> list[tuple[str, str, str, float, float]]:
    """Address nodes of the Helsinki extract with a plain number, read with pyosmium."""
    out = []
    for obj in osmium.FileProcessor(str(HELSINKI)):
        t = obj.tags
        if obj.is_node() and "addr:street" in t and t.get("addr:housenumber", "").isdigit():
            out.append(
                (
                    t["addr:street"],
                    t["addr:housenumber"],
                    t.get("addr:city", "Helsinki"),
                    obj.location.lon,
                    obj.location.lat,
                )
            )
    return out


def store_bytes(store: Store, path: Path | None) -> int:
    """Bytes of the address tables: the file growth (embedded) or pg_total_relation_size (PostGIS)."""
    if path is not None:
        with store.transaction():  # type: ignore[attr-defined]
            pass
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
        return path.stat().st_size
    with store.reading() as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            "SELECT pg_total_relation_size('poi_addresses') + pg_total_relation_size('poi_streets') AS n"
        ).fetchone()
    return int(row["n"])


def time_queries(geocoder: Geocoder, queries: list[GeocodeQuery]) -> tuple[float, list[Any]]:
    """Queries per second (one thread) and the best answers."""
    started = time.perf_counter()
    answers = [geocoder.geocode(q).best for q in queries]
    return len(queries) / (time.perf_counter() - started), answers


def run(
    label: str,
    extract: Path,
    truth: list[tuple[str, str, str, float, float]],
    store: Store,
    file: Path | None,
    n_queries: int,
    town_field: str,
) -> dict[str, Any]:
    """Build the index, measure size and both geocoders."""
    before = store_bytes(store, file) if file else 0
    report = import_addresses(store, extract, data_dir=DATA_DIR)
    size = store_bytes(store, file) - before
    rng = random.Random(7)
    sample = rng.sample(truth, min(n_queries, len(truth)))
    queries = [
        GeocodeQuery(f"{street} {number}, {town}")
        if town_field == "town"
        else GeocodeQuery(None, street, number, town, None, None, "DE")
        for street, number, town, _, _ in sample
    ]
    base = OfflineGeocoder(DATA_DIR)
    full = AddressGeocoder(base, store.addresses, DATA_DIR)
    time_queries(full, queries[:50])  # warm the gazetteers
    qps_base, _ = time_queries(base, queries)
    qps_full, answers = time_queries(full, queries)
    # An address tagged on several points (entrances, a node and its building) is right at any of them.
    points: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for street, number, town, lon, lat in truth:
        points.setdefault((street, number, town), []).append((lon, lat))
    ok = 0
    for a, (street, number, town, _, _) in zip(answers, sample, strict=True):
        if a is None or a.precision != Precision.ADDRESS:
            continue
        near = min(
            geodesic((lat, lon), (a.point.lat, a.point.lon)).meters
            for lon, lat in points[(street, number, town)]
        )
        ok += near <= 25.0
    return {
        "label": label,
        "extract_mb": extract.stat().st_size / 1e6,
        "addresses": report.addresses,
        "streets": report.streets,
        "incomplete": report.incomplete_ways,
        "build_s": report.seconds,
        "size_mb": size / 1e6,
        "qps_base": qps_base,
        "qps_full": qps_full,
        "ok": ok,
        "n": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=2_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--postgis", action="store_true", help="also the PostGIS store (tests/pg.py cluster)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic.osm.pbf"
        started = time.perf_counter()
        truth = write_synthetic(synthetic, args.nodes)
        written = time.perf_counter() - started
        print(
            f"synthetic extract: {args.nodes:,} nodes requested, {len(truth):,} addresses, {written:.1f} s to write"
        )
        backends: list[tuple[str, Any]] = [("embedded", None)]
        if args.postgis:
            from tests.pg import fresh_database_url

            backends.append(("postgis", fresh_database_url))
        for backend, url_of in backends:
            for label, extract, facts, field in (
                ("Helsinki centre", HELSINKI, helsinki_truth(), "town"),
                ("synthetic", synthetic, truth, "postcode"),
            ):
                file = Path(tmp) / f"{backend}-{label[:4]}.gpkg" if url_of is None else None
                store = open_store(str(file) if file else url_of(), DATA_DIR)
                try:
                    row = run(f"{label} ({backend})", extract, facts, store, file, args.queries, field)
                finally:
                    store.close()
                print(row)
                rows.append(row)
    lines = [
        f"# Address index benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`bench/address_bench.py --nodes {args.nodes} --queries {args.queries}{' --postgis' if args.postgis else ''}`"
        f" on {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} at the end: a shared, busy machine).",
        "Build = read the extract with pyosmium, complete postcodes/towns, merge streets, write the index (one "
        "transaction). Size = growth of the store (embedded: the .gpkg file after a WAL checkpoint; PostGIS: the two tables with "
        "their indexes). Queries/s: one thread, in process; 'postcode level' is the gazetteer geocoder alone "
        "on the same queries (it answers the postcode centre); 'within 25 m' checks the house-number answers.",
        "",
        "| extract | extract MB | addresses | streets | incomplete ways | build s | index MB | postcode-level q/s | house-number q/s | within 25 m |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['extract_mb']:.1f} | {r['addresses']:,} | {r['streets']:,} | {r['incomplete']:,} | "
            f"{r['build_s']:.1f} | {r['size_mb']:.1f} | {r['qps_base']:,.0f} | {r['qps_full']:,.0f} | {r['ok']}/{r['n']} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
