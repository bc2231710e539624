"""`poi-service osm addresses EXTRACT`: the house-number index of an OSM extract, into the store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from poi_service.cli.common import CliState, echo_json
from poi_service.osm.addresses import import_addresses
from poi_service.params import bbox as parse_bbox


@click.command("addresses")
@click.argument("extract", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--area", help="Only this municipality, district or state (name or AGS); the index part it replaces."
)
@click.option("--bbox", "bbox_text", metavar="MINX,MINY,MAXX,MAXY", help="Only addresses inside (lon/lat).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def addresses_cmd(
    state: CliState, extract: Path, area: str | None, bbox_text: str | None, as_json: bool
) -> None:
    """Load the addresses and named streets of EXTRACT (.osm.pbf) for house-number geocoding.

    Re-running replaces the same area's addresses (the AGS of --area, else the file name), all or nothing.
    """
    bbox = parse_bbox(bbox_text)
    settings = state.settings()
    with state.store(settings) as store:
        report = import_addresses(store, extract, bbox=bbox, area=area, data_dir=settings.data_dir)
    if as_json:
        echo_json(asdict(report))
        return
    for line in report.lines():
        click.echo(line)
