"""Shared CLI plumbing: settings and store per command, tqdm progress, output helpers."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from pydantic import ValidationError
from tqdm import tqdm

from poi_service.config import Settings
from poi_service.errors import PoiError
from poi_service.geocode.base import Geocoder
from poi_service.store import Store, open_store

NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass
class CliState:
    """Global options; Settings are built per command, never at import."""

    database: str | None = None

    def settings(self) -> Settings:
        """Settings from POI_* variables, --database overriding POI_DATABASE_URL."""
        try:
            return Settings(database_url=self.database) if self.database else Settings()
        except ValidationError as exc:
            problems = "; ".join(
                f"POI_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise click.ClickException(f"configuration: {problems}") from exc

    @contextmanager
    def store(self, settings: Settings) -> Iterator[Store]:
        """The configured store, closed afterwards."""
        try:
            store = open_store(settings.database_url, settings.data_dir)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        try:
            yield store
        finally:
            store.close()


def geocoder_for(settings: Settings, store: Store) -> Geocoder:
    """The configured geocoder (online answers cached in the store)."""
    from poi_service.geocode import make_geocoder

    try:
        return make_geocoder(settings, store, store.addresses)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def report_error(exc: PoiError) -> None:
    """One line for the error, then one indented line per bad field or row."""
    click.echo(f"error: {exc.detail}", err=True)
    for param in exc.invalid_params:
        click.echo(f"  {param.name}: {param.reason}", err=True)


def echo_json(value: Any) -> None:
    """Machine output: one JSON document on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def counts(by_precision: dict[str, int]) -> str:
    """'exact 3, postcode 14' (or 'none')."""
    return ", ".join(f"{k} {v}" for k, v in by_precision.items()) or "none"


class TqdmProgress:
    """One tqdm bar per stage on stderr (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm[Any]] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Moves the stage's bar to done of total."""
        bar = self.bars.get(stage)
        if bar is None:
            bar = tqdm(total=total, desc=stage, unit="row", file=sys.stderr, disable=None, leave=False)
            self.bars[stage] = bar
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close(self) -> None:
        """Closes every bar (also after an error)."""
        for bar in self.bars.values():
            bar.close()


class CoordinateCommand(click.Command):
    """Takes negative coordinates as arguments ('reverse -33.9 18.4') without needing '--'."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Moves positional tokens (negative numbers included) behind '--', keeping their order."""
        if "--" in args:
            return super().parse_args(ctx, args)
        with_value = {
            name
            for p in self.params
            if isinstance(p, click.Option) and not p.is_flag and not p.count
            for name in p.opts
        }
        options: list[str] = []
        positional: list[str] = []
        tokens = iter(args)
        for token in tokens:
            if token == "-" or not token.startswith("-") or NEGATIVE_NUMBER.fullmatch(token):
                positional.append(token)
                continue
            options.append(token)
            if token in with_value:
                value = next(tokens, None)
                if value is not None:
                    options.append(value)
        return super().parse_args(ctx, [*options, "--", *positional])


def guard_point(lat: float, lon: float) -> tuple[float, float]:
    """Validated (lon, lat) from CLI arguments."""
    from poi_service.models import Point

    try:
        point = Point(lon, lat)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="LAT LON") from exc
    return point.lon, point.lat


__all__ = [
    "CliState",
    "CoordinateCommand",
    "TqdmProgress",
    "counts",
    "echo_json",
    "geocoder_for",
    "guard_point",
    "report_error",
]
