"""`poi-service osm ...`: fill and refresh the directory from OpenStreetMap extracts."""

from __future__ import annotations

import click


@click.group("osm")
def osm_group() -> None:
    """Import OpenStreetMap extracts, apply change files, build street tiles."""


from poi_service.cli.osm_tiles import tiles  # noqa: E402  (the subcommands register on the group above)

osm_group.add_command(tiles)
