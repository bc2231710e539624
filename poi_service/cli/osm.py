"""`poi-service osm ...`: fill and refresh the directory from OpenStreetMap extracts."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from poi_service.categories import Vocabulary
from poi_service.cli.common import CliState, echo_json
from poi_service.config import Settings

if TYPE_CHECKING:  # osmium loads only for osm commands
    from poi_service.osm.importer import Options, OsmReport


@click.group("osm")
def osm_group() -> None:
    """Import OpenStreetMap extracts, apply change files, build street tiles."""


def _options(settings: Settings, dry_run: bool) -> Options:
    from poi_service.osm.importer import Options

    return Options(
        Vocabulary.from_settings(settings),
        settings.data_dir,
        (settings.osm_mapping_file,) if settings.osm_mapping_file else (),
        dry_run,
    )


def _say(report: OsmReport, as_json: bool) -> None:
    if as_json:
        echo_json(report.as_dict())
        return
    o = report.outcome
    verb = "dry run, nothing written" if report.dry_run else "written"
    click.echo(
        f"{report.path}: {o.new} new, {o.updated} updated, {o.unchanged} unchanged, {o.deleted} deleted, "
        f"{o.conflicts} conflicts ({verb})"
    )
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items())) or "none"
    click.echo(f"  skipped: {skipped}")
    if report.invalid_fields:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(report.invalid_fields.items()))
        click.echo(f"  invalid values dropped: {dropped}")
    if report.outside:
        click.echo(f"  outside the area: {report.outside}")
    if o.unknown:
        click.echo(f"  deletes of objects not in the store: {o.unknown}")
    if o.conflict_keys:
        click.echo(f"  kept editors' changes of: {', '.join(o.conflict_keys)}")


@osm_group.command("import")
@click.argument("extract", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--area", help="Only this municipality, district or state (name or AGS).")
@click.option("--bbox", help="Only inside minx,miny,maxx,maxy (degrees).")
@click.option("--dry-run", is_flag=True, help="Read and compare everything, write nothing.")
@click.option(
    "--no-addresses",
    is_flag=True,
    help="Places only: leave the address index (house-number geocoding) as it is.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_cmd(
    state: CliState,
    extract: Path,
    area: str | None,
    bbox: str | None,
    dry_run: bool,
    no_addresses: bool,
    as_json: bool,
) -> None:
    """Import the places of an OSM EXTRACT (.osm.pbf), all changes in one transaction; then its addresses
    and streets into the address index (another transaction; `poi-service osm addresses` alone)."""
    from poi_service.osm.addresses import import_addresses
    from poi_service.osm.importer import import_extract, parse_bbox

    settings = state.settings()
    box = parse_bbox(bbox) if bbox else None
    with state.store(settings) as store:
        report = import_extract(store, extract, _options(settings, dry_run), area=area, bbox=box)
        addresses = None
        if not (dry_run or no_addresses):
            addresses = import_addresses(store, extract, bbox=box, area=area, data_dir=settings.data_dir)
    if as_json:
        echo_json({**report.as_dict(), "addresses": asdict(addresses) if addresses else None})
        return
    _say(report, False)
    for line in addresses.lines() if addresses else ():
        click.echo(line)


@osm_group.command("update")
@click.argument("changes", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replication", "url", help="Follow this replication server (default POI_OSM_REPLICATION_URL)."
)
@click.option("--max-diffs", type=click.IntRange(min=1), help="Apply at most this many diffs.")
@click.option("--dry-run", is_flag=True, help="Compare a change file, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report(s) as JSON.")
@click.pass_obj
def update_cmd(
    state: CliState,
    changes: Path | None,
    url: str | None,
    max_diffs: int | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Apply an OSM change file CHANGES (.osc, .osc.gz), or follow a replication server until up to date."""
    from poi_service.osm.importer import apply_changes
    from poi_service.osm.replication import catch_up

    settings = state.settings()
    opts = _options(settings, dry_run)
    with state.store(settings) as store:
        if changes is not None:
            if url:
                raise click.UsageError("give a change file or --replication, not both")
            _say(apply_changes(store, changes, opts), as_json)
            return
        if dry_run:
            raise click.UsageError("--dry-run applies to a change file only")
        reports = catch_up(store, url or settings.osm_replication_url or None, opts, max_diffs=max_diffs)
    if as_json:
        echo_json([r.as_dict() for r in reports])
        return
    if not reports:
        click.echo("up to date: no new diffs")
    for report in reports:
        _say(report, False)


from poi_service.cli.osm_addresses import addresses_cmd  # noqa: E402 - registered after the group exists

osm_group.add_command(addresses_cmd)
