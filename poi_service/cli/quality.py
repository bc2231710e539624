"""`poi-service data check`: the click group `data` with its `check` command (registered by the CLI)."""

from __future__ import annotations

from pathlib import Path

import click

from poi_service.categories import Vocabulary
from poi_service.cli.common import CliState, echo_json
from poi_service.quality import check_data, render_text


@click.group("data")
def data_group() -> None:
    """Checks of the shipped reference and alliance data."""


@data_group.command("check")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Data directory to check (default: POI_DATA_DIR).",
)
@click.option(
    "--store",
    "with_store",
    is_flag=True,
    help="Also check the configured store (--database / POI_DATABASE_URL): it holds every row, and "
    "no place has a postcode of another town or a pin far from its locality.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.pass_context
def check(ctx: click.Context, data_dir: Path | None, with_store: bool, strict: bool, as_json: bool) -> None:
    """Report memberships that do not geocode, ambiguous or unmatched names, duplicates, rows without a
    source and the dataset against the official counts. Exit code 1 on errors (with --strict, on warnings)."""
    state = ctx.find_object(CliState) or CliState()
    settings = state.settings()
    folder = data_dir or settings.data_dir
    vocabulary = Vocabulary.from_settings(settings)  # POI_CATEGORIES_FILE extends the categories
    if with_store:
        with state.store(settings) as store:
            report = check_data(folder, store, vocabulary=vocabulary)
    else:
        report = check_data(folder, vocabulary=vocabulary)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(render_text(report))
    ctx.exit(report.exit_code(strict))
