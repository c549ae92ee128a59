"""Runtime configuration, read from the environment (and an optional `.env` file).

Every setting is `OUTAGE_<NAME>` in the environment, except `DATABASE_URL`.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_prefix="OUTAGE_", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "OUTAGE_DATABASE_URL"),
        description="SQLAlchemy URL of PostgreSQL+PostGIS; unset means the private cluster.",
    )
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the private PostgreSQL cluster and other local state live.",
    )
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=8000)
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
    incident_window_hours: float = Field(
        default=4.0,
        description="Reports further apart than this, with no open incident, start a new one.",
    )
    rate_limit_per_ip: str = Field(default="300/minute")
    rate_limit_per_phone: str = Field(default="10/hour")
    max_body_bytes: int = Field(default=64 * 1024, description="Larger requests get 413.")
    sample_grid: Path = Field(
        default=Path(__file__).resolve().parent.parent / "data" / "sample-grid.geojson.gz",
    )
    smtp_receiver_host: str = Field(
        default="127.0.0.1", description="Where the inbound e-mail receiver listens."
    )
    smtp_receiver_port: int = Field(
        default=8025, description="TCP port of the inbound e-mail receiver; 0 turns it off."
    )
    smtp_max_message_bytes: int = Field(
        default=10 * 1024 * 1024, description="Larger e-mails are refused (SMTP 552)."
    )
    session_hours: float = Field(
        default=12.0, description="How long a staff member's web session lasts (one shift)."
    )
    token_hours: float = Field(
        default=12.0, description="How long a bearer token from /api/v1/auth/token lasts."
    )
    login_max_failures: int = Field(
        default=5, description="Failed sign-ins of one user within the window that lock it."
    )
    login_window_minutes: float = Field(
        default=15.0, description="The lockout window; the lock lifts as failures age out of it."
    )
    status_check_limit: str = Field(
        default="10/15minutes",
        description="Wrong `phone_last4` checks of one ticket before 429 (a guessing guard).",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the session cookie Secure; unset: when the request came over TLS.",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="When set, an Open311 request naming another jurisdiction_id gets 404.",
    )
    open311_contact: str = Field(
        default="Customer care centre of the power company",
        description="Who runs the Open311 endpoint, for its discovery document.",
    )
    open311_key_service: str = Field(
        default="API keys for posting service requests are issued by the customer care centre.",
        description="How a developer gets an Open311 API key, for the discovery document.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
