"""The `poi-service` command line: init, import, export, geocode, reverse, nearby, serve."""

from poi_service.cli.group import cli, main

__all__ = ["cli", "main"]
