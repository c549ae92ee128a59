"""HTTP routes of photos: staff read them; a reporter adds them to a report by its ticket;
staff and crews add them to an incident.

A photo is served only to signed-in staff, in the type it was re-encoded to, with
`nosniff`, a sandboxing Content-Security-Policy (opened as a page, it can run nothing) and
`Cache-Control: private`. Uploads are multipart, one photo (`photo`) a request; the body may
be `photo_max_bytes` larger than other bodies.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Request, Response, UploadFile, status

from outage.auth.enums import PrincipalKind
from outage.incidents import photos as incident_photos
from outage.incidents import queries
from outage.intake import photos as report_photos
from outage.media import service
from outage.media.enums import PhotoSource
from outage.media.images import read_bounded
from outage.media.schemas import PhotoAdded, PhotoOut
from outage.web.deps import LimitsDep, SessionDep, SettingsDep, client_ip
from outage.web.principal import AccessDenied, PrincipalDep, require

router = APIRouter(prefix="/api/v1", tags=["photos"])

READ = [Depends(require("photos.read"))]

PHOTO_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
"""A photo opened on its own is an image, never a page that runs anything (the inline
style is the browser's own page around an image it shows)."""

PhotoFile = Annotated[
    UploadFile, File(description="A JPEG, PNG or WebP image (the type is read from its bytes)")
]

_IMAGE_ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
}
_UPLOAD_REFUSALS: dict[int | str, dict[str, object]] = {
    413: {"description": "the photo is larger than `photo_max_bytes`"},
    415: {"description": "not a JPEG, PNG or WebP image"},
    422: {"description": "the image cannot be decoded, or has too many pixels"},
}


def image_response(photo: service.PhotoBytes) -> Response:
    """The stored bytes as what they are, for staff only, never sniffed or run."""
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={
            "Content-Security-Policy": PHOTO_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": "inline",
            "ETag": f'"{photo.sha256}"',
        },
    )


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    responses=_IMAGE_ANSWERS,
    dependencies=READ,
)
def get_photo(photo_id: int, session: SessionDep) -> Response:
    """A photo as kept (re-encoded, without EXIF)."""
    return image_response(service.photo_bytes(session, photo_id))


@router.get(
    "/photos/{photo_id}/thumbnail",
    response_class=Response,
    responses=_IMAGE_ANSWERS,
    dependencies=READ,
)
def get_thumbnail(photo_id: int, session: SessionDep) -> Response:
    """A photo made small (320 px at most), for lists and job cards."""
    return image_response(service.photo_bytes(session, photo_id, thumbnail=True))


@router.get("/incidents/{incident_id}/photos", response_model=list[PhotoOut], dependencies=READ)
def list_incident_photos(incident_id: int, session: SessionDep) -> list[PhotoOut]:
    """The photos of an incident: its reports' and those its crews and staff added."""
    return incident_photos.incident_photos(session, incident_id)


@router.post(
    "/incidents/{incident_id}/photos",
    response_model=PhotoAdded,
    status_code=status.HTTP_201_CREATED,
    responses=_UPLOAD_REFUSALS,
    dependencies=[Depends(require("photos.add"))],
)
def add_incident_photo(
    incident_id: int,
    photo: PhotoFile,
    session: SessionDep,
    principal: PrincipalDep,
    config: SettingsDep,
) -> PhotoAdded:
    """A photo of the damage, from a crew (on its own crew's incidents only) or staff."""
    grant = principal.grant("photos.add")
    if grant is not None and grant.restriction is not None:
        crew_id = queries.crew_of(session, incident_id)
        if crew_id is None or crew_id != principal.crew_id:
            raise AccessDenied("a crew member adds photos only to incidents of their crew")
    return incident_photos.add_incident_photo(
        session,
        incident_id,
        read_bounded(photo.file, max_bytes=config.photo_max_bytes),
        source=PhotoSource.CREW if principal.crew_id is not None else PhotoSource.STAFF,
        settings=config,
        added_by=principal.name,
    )


@router.post(
    "/reports/{ticket}/photos",
    response_model=PhotoAdded,
    status_code=status.HTTP_201_CREATED,
    responses={**_UPLOAD_REFUSALS, 404: {"description": "no report with that ticket"}},
    dependencies=[Depends(require("reports.photos"))],
)
def add_report_photo(
    ticket: Annotated[str, Path(max_length=32)],
    photo: PhotoFile,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    config: SettingsDep,
    limits: LimitsDep,
) -> PhotoAdded:
    """A photo of what the reporter sees, added after filing: the ticket, which only the
    reporter was given, is the proof. Counted against the client address's rate limit,
    and a report keeps `photo_max_per_report` photos at most. An anonymous caller's
    receipt names no photo id."""
    if not principal.is_staff:
        limits.check(ip=client_ip(request), phone=None)
    added = report_photos.add_report_photo(
        session,
        ticket,
        read_bounded(photo.file, max_bytes=config.photo_max_bytes),
        source=PhotoSource.API,
        settings=config,
        added_by=principal.name if principal.is_staff else None,
    )
    return added if principal.kind is not PrincipalKind.ANONYMOUS else added.for_anyone()
