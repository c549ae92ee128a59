"""Keeping photos: re-encoded with their facts, within the count, never without an owner."""

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outage.media import service
from outage.media.enums import PhotoSource
from outage.media.errors import NoOwner, NotAnImage, TooManyPhotos
from outage.media.models import Photo
from outage.settings import Settings
from tests.outage.media import pictures

SETTINGS = Settings(photo_max_per_report=2)


def photos(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Photo)) or 0


def test_a_photo_is_kept_with_its_facts(
    session: Session, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    added = service.add_photo(
        session,
        pictures.jpeg_with_html(),
        source=PhotoSource.API,
        settings=SETTINGS,
        report_id=report_id,
    )
    stored = service.photo_bytes(session, added.id)
    assert stored.content_type == "image/jpeg"
    assert stored.sha256 == hashlib.sha256(stored.data).hexdigest()
    assert b"<html" not in stored.data
    listed = service.photos_of(
        session, report_ids=select(Photo.report_id).where(Photo.report_id == report_id)
    )
    assert [(p.id, p.width, p.height, p.source) for p in listed] == [
        (added.id, 40, 20, PhotoSource.API)
    ]


def test_a_report_keeps_so_many_photos(
    session: Session, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    for colour in ("red", "green"):
        service.add_photo(
            session,
            pictures.picture(colour=colour),
            source=PhotoSource.WEB,
            settings=SETTINGS,
            report_id=report_id,
        )
    with pytest.raises(TooManyPhotos):
        service.add_photo(
            session,
            pictures.picture(colour="blue"),
            source=PhotoSource.WEB,
            settings=SETTINGS,
            report_id=report_id,
        )


def test_a_refused_photo_stores_nothing(
    session: Session, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    before = photos(session)
    with pytest.raises(NotAnImage):
        service.add_photo(
            session, pictures.pdf(), source=PhotoSource.WEB, settings=SETTINGS, report_id=report_id
        )
    assert photos(session) == before


def test_a_photo_of_no_report_is_refused(session: Session) -> None:
    with pytest.raises(NoOwner):
        service.add_photo(
            session, pictures.picture(), source=PhotoSource.ZALO, settings=SETTINGS, report_id=-1
        )


def test_the_same_photo_sent_twice_is_kept_once(
    session: Session, add_report: Callable[[Session], int]
) -> None:
    report_id = add_report(session)
    first, again = (
        service.add_photo(
            session,
            pictures.picture(),
            source=PhotoSource.WEB,
            settings=SETTINGS,
            report_id=report_id,
        )
        for _ in range(2)
    )
    assert first.id == again.id


def _not_decoded(data: bytes, **limits: int) -> None:
    raise AssertionError("the photo was decoded")


def test_a_full_report_refuses_a_photo_before_decoding_it(
    session: Session, add_report: Callable[[Session], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = add_report(session)
    for colour in ("red", "green"):
        service.add_photo(
            session,
            pictures.picture(colour=colour),
            source=PhotoSource.WEB,
            settings=SETTINGS,
            report_id=report_id,
        )
    monkeypatch.setattr(service.images, "clean", _not_decoded)
    with pytest.raises(TooManyPhotos):
        service.add_photo(
            session,
            pictures.picture(colour="blue"),
            source=PhotoSource.WEB,
            settings=SETTINGS,
            report_id=report_id,
        )


def test_the_same_file_sent_again_is_not_decoded_again(
    session: Session, add_report: Callable[[Session], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    report_id = add_report(session)
    sent = pictures.jpeg_with_gps()
    first = service.add_photo(
        session, sent, source=PhotoSource.EMAIL, settings=SETTINGS, report_id=report_id
    )
    monkeypatch.setattr(service.images, "clean", _not_decoded)
    again = service.add_photo(
        session, sent, source=PhotoSource.EMAIL, settings=SETTINGS, report_id=report_id
    )
    assert again.id == first.id
