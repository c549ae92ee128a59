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
    sample_grid: Path = Field(
        default=Path(__file__).resolve().parent.parent / "data" / "sample-grid.geojson.gz",
        validation_alias="OUTAGE_SAMPLE_GRID",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
