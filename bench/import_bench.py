"""CSV import benchmark: `poi-service import` of a CSV that already has coordinates, beside a floor.

    PYTHONPATH=$PWD python bench/import_bench.py [--sizes 200000,1000000] [--quick] [--out FILE.md]

For each size it writes a seeded CSV of SYNTHETIC places (bench/generate.py: spread like Germany's
population, names 'Ort N', real postcodes and towns of the municipality each was drawn around) once
to a temp dir, then in the same run:
- `poi-service import FILE.csv` as a subprocess into a fresh embedded store: wall time and the child's
  CPU time (user + system), rows/s;
- the floor: the same CSV read with csv.DictReader and written by one sqlite3 executemany of the same
  columns into an empty table (no validation, no history, no indexes).
Targets (issue 16): >= 20,000 rows/s, and 1,000,000 rows in <= 60 s. The machine is shared (2 cores):
the load average at start and end is printed beside the table.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from bench.generate import CATEGORIES, DEFAULT_SEED, ROOT, gazetteer, sample_points

COLUMNS = (
    "name",
    "category",
    "street",
    "housenumber",
    "postcode",
    "locality",
    "phone",
    "website",
    "description",
    "lat",
    "lon",
    "source",
    "opening_hours",
    "wheelchair",
)
STREETS = ("Hauptstraße", "Bahnhofstraße", "Kirchweg", "Schulstraße", "Am Markt", "Lindenallee")
HOURS = ("Mo-Fr 09:00-18:00", "Mo-Sa 08:00-20:00; Su off", "24/7", "")
TARGET_RATE = 20_000  # rows/s
TARGET_1M_S = 60.0


def write_csv(path: Path, n: int, seed: int = DEFAULT_SEED) -> None:
    """n SYNTHETIC places with coordinates in the import's CSV columns (same (n, seed), same file)."""
    rng = np.random.default_rng(seed)
    lons, lats, origin = sample_points(n, rng)
    g = gazetteer()
    cats = rng.integers(0, len(CATEGORIES), size=n).tolist()
    streets = rng.integers(0, len(STREETS), size=n).tolist()
    numbers = rng.integers(1, 200, size=n).tolist()
    extras = rng.integers(0, 4, size=n).tolist()
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for i, (lon, lat, o) in enumerate(zip(lons.tolist(), lats.tolist(), origin.tolist(), strict=True)):
            extra = extras[i]
            out.writerow(
                (
                    f"Ort {i}",
                    CATEGORIES[cats[i]],
                    STREETS[streets[i]],
                    str(numbers[i]),
                    g.postcode[o] or "",
                    g.name[o],
                    f"0431 {100000 + i % 900000}" if extra == 1 else "",
                    f"https://example.org/ort/{i}" if extra == 1 else "",
                    "SYNTHETIC place (bench/import_bench.py)" if extra == 2 else "",
                    f"{lat:.7f}",
                    f"{lon:.7f}",
                    "SYNTHETIC",
                    HOURS[extra],
                    "yes" if extra == 3 else "",
                )
            )


def child_cpu() -> float:
    """CPU seconds (user + system) of the finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_import(csv_path: Path, work: Path) -> tuple[float, float, str]:
    """(wall s, child CPU s, last output line) of `poi-service import` into a fresh store."""
    store = work / f"store_{time.monotonic_ns()}.gpkg"
    env = {**os.environ, "POI_DATABASE_URL": str(store), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "poi_service.cli", "import", str(csv_path)]
    cpu0, t0 = child_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    return wall, cpu, done.stdout.strip().splitlines()[0]


def run_floor(csv_path: Path, work: Path) -> tuple[float, float]:
    """(wall s, CPU s) of csv.DictReader + one executemany of the same columns into an empty table."""
    db = work / "floor.sqlite"
    db.unlink(missing_ok=True)
    cpu0, t0 = time.process_time(), time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE places ({', '.join(COLUMNS)})")
    sql = f"INSERT INTO places VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608
    with csv_path.open(encoding="utf-8", newline="") as handle, conn:
        conn.executemany(sql, (tuple(r[c] for c in COLUMNS) for r in csv.DictReader(handle)))
    conn.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    db.unlink()
    return wall, cpu


def verdict(n: int, wall: float) -> str:
    """PASS or MISS against the issue's targets (the 60 s one applies from 1M rows)."""
    ok = n / wall >= TARGET_RATE and (n < 1_000_000 or wall * 1_000_000 / n <= TARGET_1M_S)
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> None:
    """Runs the sizes, prints and writes the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200000,1000000", help="comma-separated row counts")
    parser.add_argument("--quick", action="store_true", help="one size of 20,000 rows")
    parser.add_argument("--out", type=Path, help="markdown file (default bench/results/import_DATE.md)")
    args = parser.parse_args(argv)
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    load0 = os.getloadavg()
    lines = [
        "| rows | import wall s | import CPU s | import rows/s | rows per CPU s | floor wall s | floor rows/s "
        "| target |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    reports = []
    with tempfile.TemporaryDirectory(prefix="import_bench_") as tmp:
        work = Path(tmp)
        for n in sizes:
            csv_path = work / f"places_{n}.csv"
            write_csv(csv_path, n)
            wall, cpu, said = run_import(csv_path, work)
            fwall, _ = run_floor(csv_path, work)
            reports.append(said)
            lines.append(
                f"| {n:,} | {wall:.1f} | {cpu:.1f} | {n / wall:,.0f} | {n / cpu:,.0f} | {fwall:.2f} | {n / fwall:,.0f} "
                f"| {verdict(n, wall)} |"
            )
            print(lines[-1], flush=True)
            csv_path.unlink()
    load1 = os.getloadavg()
    text = "\n".join(
        [
            f"# CSV import, {date.today().isoformat()}",
            "",
            f"Command: `PYTHONPATH=$PWD python bench/import_bench.py {' '.join(argv or sys.argv[1:])}`",
            f"Targets: >= {TARGET_RATE:,} rows/s; 1,000,000 rows in <= {TARGET_1M_S:.0f} s. "
            "Floor: csv.DictReader + one sqlite3 executemany of the same columns into an empty table.",
            f"Load average at start {load0[0]:.2f} {load0[1]:.2f}, at end {load1[0]:.2f} {load1[1]:.2f} "
            f"({os.cpu_count()} CPUs, shared: on a busy machine read the CPU columns; the target is wall time).",
            "",
            *lines,
            "",
            "Import output:",
            "",
            *(f"    {r}" for r in reports),
            "",
        ]
    )
    print(text)
    out = args.out or ROOT / "bench" / "results" / f"import_{date.today().isoformat()}.md"
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
