"""Input files to RawRows: CSV ('line N', header = line 1), GeoJSON ('feature N'), GeoPackage ('row N')."""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from poi_service.errors import ImportFailed, InvalidParam
from poi_service.ingest.build import RawRow
from poi_service.ingest.gpkg_guard import check_geopackage

FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_COLUMNS = 200  # of a CSV header or a GeoPackage layer (README, Limits and errors)
COORDINATES = frozenset({"lat", "lon"})
NUMBERS = frozenset({"lat", "lon", "geocode_confidence"})
DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")
GEOCODING_PROPS = {
    "source": "geocode_source",
    "precision": "geocode_precision",
    "confidence": "geocode_confidence",
    "at": "geocoded_at",
}


@dataclass(frozen=True, slots=True)
class Table:
    """The records of a file and the (normalised) column names it uses."""

    rows: list[RawRow]
    columns: frozenset[str]


def file_format(path: Path) -> str:
    """'csv', 'geojson' or 'gpkg' from the file name; ImportFailed otherwise."""
    fmt = FORMATS.get(path.suffix.casefold())
    if fmt is None:
        raise ImportFailed(f"{path.name}: unsupported file type; use .csv, .geojson/.json or .gpkg")
    return fmt


def read_table(path: Path, layer: str | None = None, prefer: str | None = None) -> Table:
    """All records of a CSV, GeoJSON or GeoPackage file (layer, else prefer, else its only layer)."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file")
    fmt = file_format(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "geojson":
        return read_geojson(path)
    return read_gpkg(path, layer, prefer)


def unguard(cell: str) -> str:
    """Undoes the export's formula guard: "'=x" back to '=x'."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r" else cell


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM); else Windows-1252, what German Excel saves as "CSV (Trennzeichen-getrennt)"."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            line = raw[: exc.start].count(b"\n") + 1
            reason = 'neither UTF-8 nor Windows-1252 text; save the file as "CSV UTF-8"'
            raise ImportFailed(f"{path.name} is not UTF-8", [InvalidParam(f"line {line}", reason)]) from exc


def _delimiter(text: str) -> str:
    """`;` when the header row has more semicolons than commas (German spreadsheets), else `,`."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _cell_value(name: str, cell: str, delimiter: str) -> str:
    """The export's formula guard undone; in `;` files, decimal commas of number columns made points."""
    if delimiter == ";" and name in NUMBERS and DECIMAL_COMMA.fullmatch(cell.strip()):
        return cell.strip().replace(",", ".")
    return unguard(cell)


def read_csv(path: Path) -> Table:
    """A CSV with a header row (`,` or `;`; UTF-8 or Windows-1252); each record keeps the line it starts on."""
    text = _decode(path, path.read_bytes())
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header:
            raise ImportFailed(f"{path.name}: no header row on line 1")
        names = [h.strip().casefold() for h in header]
        _no_duplicates(path, names)
        rows: list[RawRow] = []
        start = reader.line_num + 1
        for cells in reader:
            where = f"line {start}"
            start = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            problems: tuple[InvalidParam, ...] = ()
            if len(cells) > len(names):
                reason = f"has {len(cells)} fields, the header has {len(names)}"
                problems = (InvalidParam(where, reason),)
            if delimiter == "," and "'" not in "".join(cells):
                # No decimal commas to mend and no formula guard to undo: the cells as they are.
                fields = {n: c for n, c in zip(names, cells, strict=False) if n}
            else:
                fields = {n: _cell_value(n, c, delimiter) for n, c in zip(names, cells, strict=False) if n}
            rows.append(RawRow(where, fields, problems))
    except csv.Error as exc:
        raise ImportFailed(
            f"{path.name}: broken CSV", [InvalidParam(f"line {reader.line_num}", str(exc))]
        ) from exc
    return Table(rows, frozenset(n for n in names if n))


def read_geojson(path: Path) -> Table:
    """A FeatureCollection of Point (or null-geometry) features."""
    try:
        # orjson, not json: json.loads recursed into a file nested 100,000 deep (RecursionError, a 500)
        # and took NaN, Infinity and 400-digit numbers; orjson refuses those and stops at 1,024 levels.
        data = orjson.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as exc:
        raise ImportFailed(f"{path.name}: not a UTF-8 JSON file ({exc})") from exc
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise ImportFailed(f"{path.name}: not a GeoJSON FeatureCollection")
    rows: list[RawRow] = []
    columns: set[str] = set()
    for n, feature in enumerate(data["features"], start=1):
        where = f"feature {n}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            rows.append(RawRow(where, {}, (InvalidParam(where, "not a GeoJSON Feature"),)))
            continue
        props = feature.get("properties") or {}
        fields: dict[str, object] = {}
        if isinstance(props, dict):
            fields = _flatten({str(k).strip().casefold(): v for k, v in props.items()})
        columns.update(fields)
        problems: tuple[InvalidParam, ...] = ()
        geometry = feature.get("geometry")
        point = _geojson_point(geometry)
        if point is not None:
            fields["lon"], fields["lat"] = point
            columns.add("geometry")
        elif geometry is not None:
            kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
            problems = (InvalidParam(f"{where}: geometry", f"must be a Point or null, got {kind}"),)
        rows.append(RawRow(where, fields, problems))
    return Table(rows, frozenset(columns))


def read_gpkg(path: Path, layer: str | None = None, prefer: str | None = None) -> Table:
    """One layer of a GeoPackage (named, else `prefer` if present, else the only one), in EPSG:4326."""
    import pyogrio

    check_geopackage(path)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises its own error types for unreadable files
        raise ImportFailed(f"{path.name}: not a readable GeoPackage ({_scrub(exc, path)})") from exc
    if layer is None and prefer in layers:
        layer = prefer
    if layer is None:
        if len(layers) != 1:
            raise ImportFailed(
                f"{path.name} has layers {', '.join(layers) or '(none)'}: name one with --layer"
            )
        layer = layers[0]
    elif layer not in layers:
        raise ImportFailed(f"{path.name} has no layer {layer!r} (layers: {', '.join(layers)})")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # GDAL's own error types; the server's paths stay out of the answer
        raise ImportFailed(f"{path.name}: layer {layer!r} is not readable ({_scrub(exc, path)})") from exc
    geometries: list[Any] = [None] * len(frame)
    if "geometry" in frame.columns:
        if frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        geometries = list(frame.geometry)
        frame = frame.drop(columns="geometry")
    names = [str(c).strip().casefold() for c in frame.columns]
    rows: list[RawRow] = []
    for n, (values, geom) in enumerate(zip(frame.itertuples(index=False), geometries, strict=True), start=1):
        where = f"row {n}"
        fields = {k: _cell(k, v) for k, v in zip(names, values, strict=True)}
        problems: tuple[InvalidParam, ...] = ()
        if geom is not None and not geom.is_empty:
            if geom.geom_type == "Point":
                fields["lon"], fields["lat"] = float(geom.x), float(geom.y)
            else:
                problems = (InvalidParam(f"{where}: geometry", f"must be a Point, got {geom.geom_type}"),)
        rows.append(RawRow(where, fields, problems))
    return Table(rows, frozenset([*names, "geometry"] if any(g is not None for g in geometries) else names))


def _scrub(exc: Exception, path: Path) -> str:
    """An error message without the directory the file was read from (a server's temporary path)."""
    return str(exc).replace(str(path.resolve()), path.name).replace(str(path), path.name)


def _no_duplicates(path: Path, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        reason = f"has {len(names)} columns; at most {MAX_COLUMNS} are read"
        raise ImportFailed(f"{path.name}: the header {reason}", [InvalidParam("line 1", reason)])
    counts = Counter(n for n in names if n)
    seen = {n for n, c in counts.items() if c > 1}
    if seen:
        raise ImportFailed(f"{path.name}: column(s) {', '.join(sorted(seen))} appear twice in the header")


def _flatten(props: Mapping[str, object]) -> dict[str, object]:
    """Our own export nests provenance under 'geocoding': lift it to the geocode_* columns."""
    fields = dict(props)
    nested = fields.pop("geocoding", None)
    if isinstance(nested, dict):
        for key, column in GEOCODING_PROPS.items():
            fields.setdefault(column, nested.get(key))
    return fields


def _geojson_point(geometry: object) -> tuple[object, object] | None:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return None
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return ("", "")  # no usable coordinates: validation reports lat/lon
    return coords[0], coords[1]


def _cell(name: str, value: object) -> object:
    """Numpy/pandas scalars to plain values; integral floats of text columns back to integers."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and name not in COORDINATES:
            return int(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return value
