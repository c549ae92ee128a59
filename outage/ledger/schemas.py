"""The published roots, as the public reads them: no personal data, nothing but hashes."""

from datetime import date

from pydantic import BaseModel, Field


class HeadOut(BaseModel):
    seq: int = Field(description="The chain's last place that day.")
    hash: str = Field(description="That row's link (SHA-256, hex).")


class RootOut(BaseModel):
    day: date = Field(description="The local day the root closes.")
    root: str = Field(description="SHA-256 over every chain's head (hex).")
    heads: dict[str, HeadOut]
    signature: str | None = Field(
        description="Ed25519 signature of the root's hex text (hex); null: unsigned."
    )
    public_key: str | None = Field(description="The raw Ed25519 public key (hex) it checks with.")
