"""Adding a photo to a report or an incident, and reading photos back.

`add_photo` is the one way in for every channel (the report form, the API, Open311, e-mail,
Zalo, crews): bytes in, a photo id out, or a domain error and nothing stored. The type is
decided from the bytes alone, so a channel need not pass on what the sender declared.
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from outage import locks
from outage.media import images
from outage.media.enums import FetchOutcome, PhotoSource
from outage.media.errors import NoOwner, PhotoNotFound, TooManyPhotos
from outage.media.models import Photo, PhotoFetch
from outage.media.schemas import PhotoAdded, PhotoOut
from outage.settings import Settings

_WITHOUT_BYTES = (defer(Photo.data), defer(Photo.thumbnail))

NO_BYTES = type_coerce(literal(b""), LargeBinary)
"""An erased photo's image and thumbnail (a customer's, past retention or on request):
the row, its owner and facts stay, the picture is gone."""
_KEPT = func.octet_length(Photo.data) > 0

PHOTO_PATH = "/api/v1/photos/{id}"
THUMBNAIL_PATH = "/api/v1/photos/{id}/thumbnail"


@dataclass(frozen=True)
class PhotoBytes:
    """A stored image (or its thumbnail) as it is served."""

    data: bytes
    content_type: str
    sha256: str


def add_photo(
    session: Session,
    data: bytes,
    *,
    source: PhotoSource,
    settings: Settings,
    report_id: int | None = None,
    incident_id: int | None = None,
    added_by: str | None = None,
) -> PhotoAdded:
    """Check, re-encode and keep one photo of a report and/or an incident.

    Refusals (nothing stored): PhotoTooLarge (413), NotAnImage (415), CorruptImage (422),
    TooManyPhotos (409) past the report's count, or for a photo of the incident alone past
    the incident's, NoOwner (422) when neither is given or either does not exist. The
    cheap refusals and a file sent again come before the image is decoded.
    """
    if report_id is None and incident_id is None:
        raise NoOwner("a photo belongs to a report or an incident")
    images.check_size(data, max_bytes=settings.photo_max_bytes)
    sent_sha256 = hashlib.sha256(data).hexdigest()
    held = _lock_owner(session, report_id=report_id, incident_id=incident_id)
    same = _kept(session, held, Photo.sent_sha256 == sent_sha256)
    if same is None:
        _check_room(session, held, report_id=report_id, settings=settings)
        image = images.clean(
            data,
            max_bytes=settings.photo_max_bytes,
            max_pixels=settings.photo_max_pixels,
            at_once=settings.photo_decodes_at_once,
        )
        same = _kept(session, held, Photo.sha256 == image.sha256)
    if same is not None:  # sent again (a form resent, a retried upload): kept once
        return PhotoAdded(
            id=same.id, content_type=same.content_type, width=same.width, height=same.height
        )
    photo = Photo(
        report_id=report_id,
        incident_id=incident_id,
        source=source,
        added_by=added_by,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        sha256=image.sha256,
        sent_sha256=sent_sha256,
        data=image.data,
        thumbnail=image.thumbnail,
    )
    try:
        with session.begin_nested():
            session.add(photo)
            session.flush()
    except IntegrityError:
        raise NoOwner("no such report or incident for the photo") from None
    return PhotoAdded(
        id=photo.id, content_type=photo.content_type, width=photo.width, height=photo.height
    )


def _lock_owner(
    session: Session, *, report_id: int | None, incident_id: int | None
) -> ColumnElement[bool]:
    """Take the owner's (the report's, else the incident's) turn at adding photos, so two
    at once cannot both take its last place; which photos it holds."""
    if report_id is not None:
        space, owner = locks.LockSpace.REPORT_PHOTOS, report_id
        held = Photo.report_id == report_id
    else:
        assert incident_id is not None
        space, owner = locks.LockSpace.INCIDENT_PHOTOS, incident_id
        held = (Photo.incident_id == incident_id) & Photo.report_id.is_(None)
    session.execute(select(func.pg_advisory_xact_lock(int(space), owner)))
    return held


def _kept(session: Session, held: ColumnElement[bool], same: ColumnElement[bool]) -> Photo | None:
    """The owner's kept photo that is `same`, if it has one."""
    return session.scalar(select(Photo).options(*_WITHOUT_BYTES).where(held, same, _KEPT).limit(1))


def _check_room(
    session: Session, held: ColumnElement[bool], *, report_id: int | None, settings: Settings
) -> None:
    """TooManyPhotos when the owner holds its most photos already."""
    most = settings.photo_max_per_incident if report_id is None else settings.photo_max_per_report
    count = session.scalar(select(func.count()).select_from(Photo).where(held)) or 0
    if count >= most:
        raise TooManyPhotos(f"at most {most} photos are kept here")


def record_fetch(
    session: Session,
    *,
    report_id: int,
    url: str,
    photo_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Keep on record what came of fetching a photo by URL: the photo, or why none."""
    session.add(
        PhotoFetch(
            report_id=report_id,
            url=url,
            outcome=FetchOutcome.FAILED if photo_id is None else FetchOutcome.STORED,
            photo_id=photo_id,
            reason=reason,
        )
    )
    session.flush()


def photo_bytes(session: Session, photo_id: int, *, thumbnail: bool = False) -> PhotoBytes:
    """A photo's stored image, or its thumbnail; PhotoNotFound (an erased one too)."""
    column = Photo.thumbnail if thumbnail else Photo.data
    row = session.execute(
        select(column, Photo.content_type, Photo.sha256).where(Photo.id == photo_id)
    ).first()
    if row is None or not row[0]:
        raise PhotoNotFound(f"no photo {photo_id}")
    return PhotoBytes(data=row[0], content_type=row.content_type, sha256=row.sha256)


def erase_photos(session: Session, report_ids: Select[tuple[int]]) -> int:
    """Erase the photos of the reports `report_ids` selects (their customer asked); how
    many were erased."""
    erased = session.scalars(
        update(Photo)
        .where(Photo.report_id.in_(report_ids.scalar_subquery()), _KEPT)
        .values(data=NO_BYTES, thumbnail=NO_BYTES)
        .returning(Photo.id)
    ).all()
    return len(erased)


def photos_of(
    session: Session,
    *,
    incident_id: int | None = None,
    report_ids: Select[tuple[int]] | None = None,
) -> list[PhotoOut]:
    """The photos of an incident and of the reports `report_ids` selects, oldest first."""
    conditions = []
    if incident_id is not None:
        conditions.append(Photo.incident_id == incident_id)
    if report_ids is not None:
        conditions.append(Photo.report_id.in_(report_ids.scalar_subquery()))
    if not conditions:
        return []
    rows = session.scalars(
        select(Photo)
        .options(*_WITHOUT_BYTES)
        .where(or_(*conditions), _KEPT)
        .order_by(Photo.created_at, Photo.id)
    )
    return [_out(photo) for photo in rows]


def _out(photo: Photo) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        report_id=photo.report_id,
        incident_id=photo.incident_id,
        source=photo.source,
        added_by=photo.added_by,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        created_at=photo.created_at,
        url=PHOTO_PATH.format(id=photo.id),
        thumbnail_url=THUMBNAIL_PATH.format(id=photo.id),
    )
