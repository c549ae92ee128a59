"""Runtime configuration, read from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of PostgreSQL+PostGIS; unset means the private cluster.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        validation_alias="OUTAGE_DATA_DIR",
        description="Where the private PostgreSQL cluster and other local state live.",
    )
    host: str = Field(default="127.0.0.1", validation_alias="OUTAGE_HOST")
    port: int = Field(default=8000, validation_alias="OUTAGE_PORT")
    territory_margin_m: float = Field(
        default=2000.0,
        description="How far beyond the network's outline reports are still ours.",
    )
    gps_premise_radius_m: float = Field(
        default=100.0, description="A GPS fix this close to a premise is taken as that premise."
    )
    gps_transformer_radius_m: float = Field(
        default=1000.0,
        description="Else a transformer this close is taken; beyond it an agent decides.",
    )
    duplicate_window_hours: float = Field(
        default=12.0,
        description="A customer's second report within this time attaches to the first.",
    )
    rate_limit_per_ip: str = Field(default="300/minute", validation_alias="OUTAGE_RATE_LIMIT_IP")
    rate_limit_per_phone: str = Field(default="10/hour", validation_alias="OUTAGE_RATE_LIMIT_PHONE")
    max_body_bytes: int = Field(default=64 * 1024, description="Larger requests get 413.")
    sample_grid: Path = Field(
        default=Path(__file__).resolve().parent.parent / "data" / "sample-grid.geojson.gz",
        validation_alias="OUTAGE_SAMPLE_GRID",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
