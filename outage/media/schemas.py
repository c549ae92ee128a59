"""What the photos' routes answer: a photo's facts and where staff fetch it, never its bytes."""

from datetime import datetime

from pydantic import BaseModel

from outage.media.enums import PhotoSource


class PhotoOut(BaseModel):
    """One photo as staff see it listed; the links need a staff member's credentials."""

    id: int
    report_id: int | None
    incident_id: int | None
    source: PhotoSource
    added_by: str | None
    content_type: str
    width: int
    height: int
    created_at: datetime
    url: str
    thumbnail_url: str


class PhotoAdded(BaseModel):
    """The receipt of an added photo."""

    id: int | None
    """The photo's id, for staff and integrations (a customer is told none: photos are
    staff's to see)."""
    content_type: str
    width: int
    height: int

    def for_anyone(self) -> "PhotoAdded":
        return self.model_copy(update={"id": None})
