"""The photos' tables: the re-encoded image bytes with what they belong to, and the
record of each photo asked for by URL."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from outage.db import Base, checked_enum
from outage.media.enums import FetchOutcome, PhotoSource


class Photo(Base):
    """One photo, of a report (a customer's) or of an incident (a crew's), or both.

    Only the re-encoded image is kept: no EXIF (no GPS), nothing appended to the file.
    """

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(report_id, incident_id) >= 1", name="ck_photos_belongs_somewhere"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", name="fk_photos_report_id"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", name="fk_photos_incident_id"), index=True
    )
    source: Mapped[PhotoSource] = mapped_column(checked_enum(PhotoSource, "photo_source"))
    added_by: Mapped[str | None] = mapped_column(String(200))
    """The staff member or crew member who added it; None for a customer."""
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    """Of the stored (re-encoded) bytes."""
    sent_sha256: Mapped[str | None] = mapped_column(String(64))
    """Of the bytes as they were sent, so the same file sent again is known before it is
    decoded (None for photos kept before it was recorded)."""
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PhotoFetch(Base):
    """A photo a client named by URL: fetched once, and whether that worked, so a failed
    fetch is on record while the report stands without it."""

    __tablename__ = "photo_fetches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", name="fk_photo_fetches_report_id"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    outcome: Mapped[FetchOutcome] = mapped_column(checked_enum(FetchOutcome, "photo_fetch_outcome"))
    photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photos.id", name="fk_photo_fetches_photo_id")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    """Why the fetch failed."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
