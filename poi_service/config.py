"""Settings from POI_* environment variables; built by create_app or the CLI, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, FilePath, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_STATE_DIR = PROJECT_ROOT / "var"
DEFAULT_DATABASE = DEFAULT_STATE_DIR / "poi.gpkg"


class Settings(BaseSettings):
    """Runtime configuration; every field maps to POI_<FIELD> (see README, Configuration)."""

    model_config = SettingsConfigDict(env_prefix="POI_", extra="ignore")

    database_url: str = Field(
        default=str(DEFAULT_DATABASE),
        description="Store location: a file path, sqlite:///path.gpkg, or postgresql://...",
    )
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR, description="Shipped reference data (gazetteer, boundaries)."
    )
    categories_file: FilePath | None = Field(
        default=None,
        description="CSV of extra categories (columns slug, label_de, label_en, aliases) added to the shipped ones.",
    )
    osm_mapping_file: FilePath | None = Field(
        default=None,
        description="TOML file of extra OSM tag -> category rules, tried before the shipped poi_service/osm/mapping.toml.",
    )
    osm_replication_url: str = Field(
        default="", description="Replication server (base URL) that `poi-service osm update` follows."
    )
    max_radius_m: float = Field(
        default=50_000.0, gt=0, description="Largest radius_m a nearby query accepts."
    )
    max_page_size: int = Field(default=1000, ge=1, description="Largest limit a collection query accepts.")
    default_page_size: int = Field(default=50, ge=1, description="limit when the request gives none.")
    max_k: int = Field(default=100, ge=1, description="Largest k a nearest query accepts.")
    max_polygon_vertices: int = Field(
        default=10_000, ge=4, description="Most vertices in a POST /places/within body."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest accepted request body in bytes."
    )
    max_upload_bytes: int = Field(
        default=20_971_520, ge=1024, description="Largest file upload to POST /imports in bytes."
    )
    geocoder: Literal["offline", "nominatim", "photon"] = Field(
        default="offline",
        description="Geocoder: offline (shipped gazetteer) or an online provider via geopy.",
    )
    geocoder_domain: str = Field(
        default="", description="Host[:port] of the online geocoder (self-hosted server)."
    )
    geocoder_scheme: Literal["http", "https"] = Field(
        default="https", description="Scheme of the online geocoder."
    )
    geocoder_user_agent: str = Field(
        default="poi-service/0.1 (+https://example.invalid/poi-service)",
        description="Identifying User-Agent sent to online geocoders (their usage policies require one).",
    )
    geocoder_timeout_s: float = Field(
        default=5.0, gt=0, description="Timeout of one online geocoder request."
    )
    geocoder_min_delay_s: float = Field(
        default=1.0, ge=1.0, description="Pause between online geocoder requests."
    )
    state_dir: Path = Field(
        default=DEFAULT_STATE_DIR,
        description="Per-host runtime state: the online geocoder's rate-limit file, shared by all workers.",
    )
    export_dir: Path | None = Field(
        default=None,
        description="Where built downloads (/export/...) are cached, shared by all workers; default <state_dir>/exports.",
    )
    max_export_builds: int = Field(
        default=2, ge=1, description="Downloads built at once per worker; 503 with Retry-After beyond."
    )
    max_heavy_requests: int = Field(
        default=2,
        ge=1,
        description="Full 10,000-feature OGC pages answered at once per worker (smaller pages weigh their limit).",
    )
    max_queued_requests: int = Field(
        default=32, ge=0, description="Large pages waiting per worker; 503 with Retry-After beyond."
    )
    queue_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait of a queued large page before it gets 503."
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Time a client has to send a request's headers; the connection is closed after.",
    )
    body_timeout_s: float = Field(
        default=60.0, gt=0, description="Time a client has to send a request's body; 408 after."
    )
    geocoder_retries: int = Field(
        default=2, ge=0, le=5, description="Retries of a failed online geocoder request."
    )
    tile_url: str = Field(default="", description="XYZ tile URL template of an operator-configured basemap.")
    tile_attribution: str = Field(default="", description="Attribution shown with POI_TILE_URL tiles.")
    tiles_file: Path | None = Field(
        default=None,
        description="MBTiles file of the self-hosted street basemap (default: <POI_STATE_DIR>/tiles.mbtiles).",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS for the JSON API."
    )
    frame_ancestors: list[str] = Field(
        default_factory=list, description="Origins allowed to embed the map widget (CSP frame-ancestors)."
    )
    public_base_url: str = Field(
        default="",
        description="scheme://host[:port] of absolute links, instead of the request's Host header.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the service answers for (*.example.org allowed); others 400.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError("give scheme://host[:port] only, e.g. https://poi.example.org")
        return value

    @field_validator("geocoder_domain")
    @classmethod
    def _no_scheme_in_domain(cls, value: str) -> str:
        if "://" in value:
            raise ValueError("give the host only; the scheme goes in POI_GEOCODER_SCHEME")
        return value.strip().rstrip("/")

    def tiles_path(self) -> Path:
        """The street basemap's MBTiles file (it may not exist)."""
        return self.tiles_file or self.state_dir / "tiles.mbtiles"
