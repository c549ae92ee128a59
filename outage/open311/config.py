"""Settings of the Open311 interface, read like the service's own (`OUTAGE_` + name)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Open311Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_prefix="OUTAGE_", extra="ignore")

    open311_api_keys: str = Field(
        default="",
        description="Comma-separated keys that may POST requests; empty refuses every POST.",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="When set, a request naming another jurisdiction_id is refused (404).",
    )
    open311_contact: str = Field(
        default="Customer care centre of the power company",
        description="Who runs this endpoint, for the discovery document.",
    )
    open311_key_service: str = Field(
        default="API keys for posting service requests are issued by the customer care centre.",
        description="How a developer gets an API key, for the discovery document.",
    )

    @property
    def api_keys(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.open311_api_keys.split(",") if k.strip())


@lru_cache
def get_open311_settings() -> Open311Settings:
    """The FastAPI dependency; tests and embedders replace it with `dependency_overrides`."""
    return Open311Settings()
