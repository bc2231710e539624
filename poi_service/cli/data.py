"""Commands that change or move data: init, import, export, serve."""

from __future__ import annotations

import os
from pathlib import Path

import click

from poi_service.categories import Vocabulary
from poi_service.cli.common import CliState, TqdmProgress, counts, echo_json, geocoder_for
from poi_service.config import Settings
from poi_service.errors import Conflict
from poi_service.ingest.export import FORMATS, export_records, format_for
from poi_service.ingest.importer import KINDS, Kind, import_file
from poi_service.ingest.seed import SeedReport, load_shipped
from poi_service.store import Store

APP_FACTORY = "poi_service.api.app:app_from_env"


def seed(settings: Settings, store: Store, force: bool) -> SeedReport:
    """Loads the shipped data; a store that holds records needs force (which replaces them)."""
    places, members = store.places.count(), store.memberships.count()
    if (places or members) and not force:
        raise Conflict(
            f"the store at {store.url} already holds {places} places and {members} memberships; "
            "use --force to replace them with the shipped data"
        )
    progress = TqdmProgress()
    try:
        return load_shipped(store, settings.data_dir, geocoder_for(settings, store), progress, replace=force)
    finally:
        progress.close()


def _say_seeded(report: SeedReport, url: str) -> None:
    removed = f" (replacing {report.removed} records)" if report.removed else ""
    click.echo(f"Loaded {report.places} places and {report.memberships} memberships into {url}{removed}")
    for kind, by_precision in report.precision.items():
        click.echo(f"  {kind} by geocoding precision: {counts(by_precision)}")


@click.command()
@click.option(
    "--force", is_flag=True, help="Replace every record of a non-empty store with the shipped data."
)
@click.pass_obj
def init(state: CliState, force: bool) -> None:
    """Create the store and load the shipped places and alliance members (geocoded offline)."""
    settings = state.settings()
    with state.store(settings) as store:
        report = seed(settings, store, force)
        _say_seeded(report, store.url)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind", type=click.Choice(KINDS), default="places", show_default=True, help="What the file holds."
)
@click.option("--dry-run", is_flag=True, help="Check and geocode every row, report, write nothing.")
@click.option("--layer", help="GeoPackage layer (default: the one named like --kind, or the only one).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_file_cmd(
    state: CliState, file: Path, kind: Kind, dry_run: bool, layer: str | None, as_json: bool
) -> None:
    """Import a CSV, GeoJSON or GeoPackage FILE: all rows or none (errors name the line)."""
    settings = state.settings()
    with state.store(settings) as store:
        progress = TqdmProgress()
        try:
            report = import_file(
                store,
                file,
                geocoder_for(settings, store),
                dry_run=dry_run,
                kind=kind,
                progress=progress,
                data_dir=settings.data_dir,
                vocabulary=Vocabulary.from_settings(settings),
                layer=layer,
                actor="cli",
            )
        finally:
            progress.close()
    if as_json:
        echo_json(report.as_dict())
        return
    written = "dry run: nothing written" if dry_run else f"{report.written} written"
    click.echo(
        f"{kind} from {file}: {report.rows} rows, {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged; {written}"
    )
    click.echo(f"  geocoding precision: {counts(report.precision)}")
    if report.ignored_columns:
        click.echo(f"  ignored columns: {', '.join(report.ignored_columns)}")


@click.command("export")
@click.option("--kind", type=click.Choice(KINDS), default="places", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format (default: from the file suffix).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file (a GeoPackage gains or replaces the layer named after --kind).",
)
@click.pass_obj
def export_cmd(state: CliState, kind: Kind, fmt: str | None, output: Path) -> None:
    """Export places or memberships as GeoJSON, CSV (with lat, lon, wkt) or GeoPackage (EPSG:4326)."""
    settings = state.settings()
    chosen = format_for(output, fmt)
    with state.store(settings) as store:
        n = export_records(store, kind, chosen, output, Vocabulary.from_settings(settings))
    layer = f" (layer {kind!r})" if chosen == "gpkg" else ""
    click.echo(f"Wrote {n} {kind} to {output}{layer}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--reload/--no-reload", default=False, show_default=True, help="Restart on code changes.")
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log every request (off behind a proxy that logs, or for benchmarks).",
)
@click.pass_obj
def serve(state: CliState, host: str, port: int, workers: int, reload: bool, access_log: bool) -> None:
    """Run the HTTP API (uvicorn); an empty or missing store is first loaded with the shipped data."""
    settings = state.settings()
    if state.database:
        os.environ["POI_DATABASE_URL"] = state.database  # workers build their Settings from the environment
    with state.store(settings) as store:
        if store.places.count() == 0 and store.memberships.count() == 0:
            click.echo(f"The store at {store.url} is empty: loading the shipped data first", err=True)
            _say_seeded(seed(settings, store, force=False), store.url)
    import uvicorn

    from poi_service.api.protocol import (
        HEADER_TIMEOUT_ENV,
        KEEP_ALIVE_S,
        WORKER_HEALTHCHECK_S,
        HeaderTimeoutProtocol,
    )

    os.environ[HEADER_TIMEOUT_ENV] = str(settings.header_timeout_s)  # read by each worker's protocol
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        access_log=access_log,
        http=HeaderTimeoutProtocol,
        # uvicorn kills a worker that misses a health ping for this long; its default of 5 s killed
        # busy (not hung) workers, and new ones during start-up, on a loaded 2-core machine.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
