"""`poi-service maps build`: the maps as self-contained static HTML files."""

from __future__ import annotations

from pathlib import Path

import click

from poi_service.cli.common import CliState
from poi_service.config import PROJECT_ROOT
from poi_service.maps import build_static_maps


@click.group("maps")
def maps_group() -> None:
    """Static maps for hosting without the service or opening from disk."""


@maps_group.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "maps",
    show_default=True,
    help="Folder to write the HTML pages and their assets into.",
)
@click.pass_obj
def build(state: CliState, out: Path) -> None:
    """Write the resident map, the widget and the alliance map (German and English) with inline data."""
    settings = state.settings()
    with state.store(settings) as store:
        written = build_static_maps(store, settings, out)
    click.echo(f"Wrote {len(written)} files to {out}")
