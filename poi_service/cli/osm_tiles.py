"""`poi-service osm tiles`: the street basemap (vector tiles in an MBTiles file) from an extract."""

from __future__ import annotations

from pathlib import Path

import click

from poi_service.cli.common import CliState
from poi_service.errors import PoiError


def _bbox(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give minlon,minlat,maxlon,maxlat in degrees") from None
    if len(parts) != 4:
        raise click.BadParameter("give minlon,minlat,maxlon,maxlat in degrees")
    return parts


@click.command("tiles")
@click.argument("extract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="MBTiles file to write, replaced only when the build succeeds [default: POI_TILES_FILE, else "
    "<POI_STATE_DIR>/tiles.mbtiles, i.e. var/tiles.mbtiles: where the service reads it].",
)
@click.option(
    "--bbox",
    callback=_bbox,
    metavar="MINLON,MINLAT,MAXLON,MAXLAT",
    help="Area of the tiles; default: the extract's header box, else the extent of its nodes.",
)
@click.option("--threads", type=click.IntRange(0, 256), default=0, help="tilemaker threads (0: all cores).")
@click.pass_obj
def tiles(
    state: CliState,
    extract: Path,
    out: Path | None,
    bbox: tuple[float, float, float, float] | None,
    threads: int,
) -> None:
    """Build street tiles (OpenMapTiles schema) from an OpenStreetMap extract with tilemaker."""
    from poi_service.osm.tiles import build_tiles  # pyosmium and geopandas load only for this command

    try:
        report = build_tiles(extract, out or state.settings().tiles_path(), bbox, threads)
    except PoiError as exc:
        raise click.ClickException(exc.detail) from None
    c = report.clean
    click.echo(
        f"Wrote {report.out}: {report.tiles} tiles, {report.size_bytes / 1e6:.1f} MB in {report.seconds:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in report.phases.items())}) "
        f"(kept {c.ways} ways, {c.relations} relations; dropped {c.dropped_ways} incomplete ways "
        f"and {c.dropped_relations} relations; {report.sea_polygons} sea and lake polygons from clipped water)"
    )
