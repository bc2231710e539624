"""`poi-service geocode TEXT` (a lookup) and `poi-service geocode refresh` (better points for stored places)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from poi_service.cli import lookup
from poi_service.cli.common import CliState, echo_json, geocoder_for
from poi_service.ingest.refresh import refresh_places


class LookupByDefault(click.Group):
    """A group whose first argument, unless it names a subcommand, is the text to look up."""

    default = "lookup"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Puts the default subcommand in front of anything that is not one of ours."""
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: Any) -> None:
        """Usage naming both forms."""
        formatter.write_usage(ctx.command_path, "TEXT [OPTIONS] | refresh [OPTIONS]")


@click.group("geocode", cls=LookupByDefault)
def geocode_group() -> None:
    """Locate an address or place name (`geocode TEXT`), or re-geocode stored places (`geocode refresh`)."""


geocode_group.add_command(lookup.geocode, "lookup")


@geocode_group.command("refresh")
@click.option("--dry-run", is_flag=True, help="Report what would improve, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def refresh(state: CliState, dry_run: bool, as_json: bool) -> None:
    """Give every place whose point is coarser than the geocoder can now place it (say postcode, with an
    address index loaded) its better point; pinned (exact) places stay; history entries by 'cli'."""
    settings = state.settings()
    with state.store(settings) as store:
        report = refresh_places(store, geocoder_for(settings, store), at=datetime.now(UTC), dry_run=dry_run)
    if as_json:
        echo_json(
            {
                "checked": report.checked,
                "pinned": report.pinned,
                "unchanged": report.unchanged,
                "improved": dict(report.improved),
                "changed": report.changed,
                "dry_run": dry_run,
            }
        )
        return
    for line in report.lines():
        click.echo(("dry run: " if dry_run else "") + line)
