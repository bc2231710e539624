"""Self-hosted front-end assets: Leaflet and Leaflet.markercluster from their XStatic packages, and the
service's own map scripts. Nothing is ever loaded from a CDN.

URLs carry a version segment (/static/<package>/<version>/<file>), so responses can be cached for a year;
relative URLs inside the CSS (images/layers.png) keep working under that prefix.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

OWN_STATIC = Path(__file__).with_name("static")
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# Files the pages use; the rest of the XStatic data (source maps, ESM builds) is not served.
PACKAGE_FILES: dict[str, tuple[str, ...]] = {
    "leaflet": (
        "leaflet.js",
        "leaflet.css",
        "images/layers.png",
        "images/layers-2x.png",
        "images/marker-icon.png",
        "images/marker-icon-2x.png",
        "images/marker-shadow.png",
    ),
    "leaflet-markercluster": ("leaflet.markercluster.js", "MarkerCluster.css"),
    "poi-maps": ("common.js", "places.js", "hours.js", "alliance.js", "maps.css", "streets.js"),
    "protomaps-leaflet": ("protomaps-leaflet.js",),
}
PROTOMAPS_VERSION = "5.1.0"  # vendored from npm, see static/vendor/VENDORED.md


@dataclass(frozen=True, slots=True)
class Package:
    """One directory of static files and the version that appears in its URLs."""

    name: str
    root: Path
    version: str


def _own_version() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES["poi-maps"]:
        digest.update((OWN_STATIC / name).read_bytes())
    return digest.hexdigest()[:12]


@cache
def packages() -> dict[str, Package]:
    """The served packages by URL name."""
    return {
        "leaflet": Package("leaflet", Path(xs_leaflet.BASE_DIR), str(xs_leaflet.VERSION)),
        "leaflet-markercluster": Package(
            "leaflet-markercluster", Path(xs_cluster.BASE_DIR), str(xs_cluster.VERSION)
        ),
        "poi-maps": Package("poi-maps", OWN_STATIC, _own_version()),
        "protomaps-leaflet": Package(
            "protomaps-leaflet", OWN_STATIC / "vendor" / "protomaps-leaflet", PROTOMAPS_VERSION
        ),
    }


def find(package: str, path: str) -> tuple[Path, str] | None:
    """The file and media type for /static/<package>/<version>/<path>, None unless it is a listed file."""
    pkg = packages().get(package)
    if pkg is None or path not in PACKAGE_FILES[package]:
        return None
    file = pkg.root / path
    media = MEDIA_TYPES.get(file.suffix)
    if media is None or not file.is_file():
        return None
    return file, media


@dataclass(frozen=True, slots=True)
class AssetUrls:
    """Where a page loads its scripts and stylesheets from (served or beside a static file)."""

    leaflet_js: str
    leaflet_css: str
    cluster_js: str
    cluster_css: str
    common_js: str
    places_js: str
    hours_js: str
    alliance_js: str
    maps_css: str


def asset_urls(prefix: str, versioned: bool = True) -> AssetUrls:
    """URLs under prefix ('/static' when served, 'assets' beside static files)."""

    def url(package: str, name: str) -> str:
        pkg = packages()[package]
        return f"{prefix}/{package}/{pkg.version}/{name}" if versioned else f"{prefix}/{package}/{name}"

    return AssetUrls(
        leaflet_js=url("leaflet", "leaflet.js"),
        leaflet_css=url("leaflet", "leaflet.css"),
        cluster_js=url("leaflet-markercluster", "leaflet.markercluster.js"),
        cluster_css=url("leaflet-markercluster", "MarkerCluster.css"),
        common_js=url("poi-maps", "common.js"),
        places_js=url("poi-maps", "places.js"),
        hours_js=url("poi-maps", "hours.js"),
        alliance_js=url("poi-maps", "alliance.js"),
        maps_css=url("poi-maps", "maps.css"),
    )


def url(prefix: str, package: str, name: str) -> str:
    """The versioned URL of one served file."""
    return f"{prefix}/{package}/{packages()[package].version}/{name}"


def copy_assets(out_dir: Path) -> list[Path]:
    """Copies every served file to out_dir/<package>/<file> (for the static maps); returns the copies."""
    written = []
    for name, pkg in packages().items():
        for rel in PACKAGE_FILES[name]:
            target = out_dir / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pkg.root / rel, target)
            written.append(target)
    return written
