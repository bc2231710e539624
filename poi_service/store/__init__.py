"""Storage backends behind one protocol; open_store(url) picks one."""

from __future__ import annotations

from pathlib import Path

from poi_service.store.base import (
    Collection,
    Extent,
    Hit,
    ImportPlan,
    MembershipFilter,
    MembershipStats,
    Near,
    Page,
    PlaceFilter,
    Query,
    Store,
)

__all__ = [
    "Collection",
    "Extent",
    "Hit",
    "ImportPlan",
    "MembershipFilter",
    "MembershipStats",
    "Near",
    "Page",
    "PlaceFilter",
    "Query",
    "Store",
    "open_store",
]


def open_store(url: str, data_dir: Path) -> Store:
    """A store for a file path, sqlite:///path or postgresql://... URL."""
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        try:
            from poi_service.store.postgis import PostgisStore
        except ImportError as exc:  # the PostGIS backend needs the 'postgis' extra (psycopg)
            raise ValueError(f"PostGIS backend unavailable: {exc}") from exc
        return PostgisStore(url, data_dir)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif "://" in url:
        raise ValueError(f"unsupported store URL {url!r}: use a file path, sqlite:///... or postgresql://...")
    else:
        path = Path(url)
    from poi_service.store.sqlite import SqliteStore

    return SqliteStore(path, data_dir)
