"""The click group: global --database, one-line errors for PoiError, the commands."""

from __future__ import annotations

from typing import Any

import click

from poi_service import __version__
from poi_service.cli import data, keys, lookup, maps
from poi_service.cli.common import CliState, report_error
from poi_service.cli.geocode_group import geocode_group
from poi_service.cli.osm import osm_group
from poi_service.cli.quality import data_group
from poi_service.errors import PoiError


class PoiGroup(click.Group):
    """A group that prints service errors as one line (plus the bad fields) and exits 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Runs the command; PoiError becomes a message on stderr and exit code 1, without a traceback."""
        try:
            return super().invoke(ctx)
        except PoiError as exc:
            report_error(exc)
            ctx.exit(1)
        except OSError as exc:  # unreadable input, unwritable output, full disk ...
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=PoiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database",
    metavar="URL",
    default=None,
    help="Store: a file path, sqlite:///path.gpkg or postgresql://... (overrides POI_DATABASE_URL).",
)
@click.version_option(__version__, prog_name="poi-service")
@click.pass_context
def cli(ctx: click.Context, database: str | None) -> None:
    """Points-of-interest directory: load, import, export and query places and alliance members."""
    ctx.obj = CliState(database)


for command in (
    data.init,
    data.import_file_cmd,
    data.export_cmd,
    data.serve,
    geocode_group,
    lookup.reverse,
    lookup.nearby,
    data_group,
    maps.maps_group,
    keys.keys_group,
    osm_group,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point (`poi-service`)."""
    cli(prog_name="poi-service")
