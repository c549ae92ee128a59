"""How a photo reached us."""

from enum import StrEnum


class PhotoSource(StrEnum):
    """The channel a photo came through (a crew's is added by a signed-in member)."""

    WEB = "web"
    API = "api"
    OPEN311 = "open311"
    EMAIL = "email"
    ZALO = "zalo"
    CREW = "crew"
    STAFF = "staff"


class FetchOutcome(StrEnum):
    """What came of fetching a photo a client named by URL (Open311's `media_url`)."""

    STORED = "stored"
    FAILED = "failed"
