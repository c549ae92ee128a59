"""HTTP routes of Open311 GeoReport v2 under `/open311/v2`, each as `.json` or `.xml`.

Every refusal answers in the specification's error format, in the format asked for. An
outage or hazard request may carry a photo: posted as the multipart field `media` (checked
with the request: a refused photo refuses it), or named by `media_url`, fetched once the
request is stored (`outage.media.remote`); a failed fetch is kept on record and the
request stands. Routes open their own transaction (rather than the shared session
dependency) so that it has rolled back before a refusal is turned into that answer.
"""

import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from outage.db import session_scope
from outage.errors import DomainError
from outage.i18n import Language
from outage.intake.geocode import OutsideTerritory
from outage.intake.limits import IntakeLimits
from outage.intake.photos import fetch_report_photo
from outage.intake.service import IdempotencyConflict
from outage.media.enums import PhotoSource
from outage.media.images import read_bounded
from outage.open311 import service
from outage.open311.catalogue import language
from outage.open311.formats import (
    Format,
    Open311Error,
    encode,
    errors_document,
    format_of,
    format_of_path,
)
from outage.web.deps import SettingsDep, client_ip
from outage.web.principal import require

_ATTRIBUTE = re.compile(r"attribute\[([^\[\]]+)\](\[\])?")


def render(
    content: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    fmt: Format,
    *,
    root: str,
    item: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A GeoReport document in `fmt` (see `outage.open311.formats.encode`)."""
    return Response(
        encode(content, fmt, root=root, item=item),
        status_code=status_code,
        media_type=f"{fmt.media_type}; charset=utf-8",
        headers=dict(headers or {}),
    )


def error_response(
    status: int, descriptions: Sequence[str], fmt: Format, headers: Mapping[str, str] | None = None
) -> Response:
    document = errors_document(status, descriptions)
    return render(document, fmt, root="errors", item="error", status_code=status, headers=headers)


class Open311Route(APIRoute):
    """Turns refusals, ours and intake's, into GeoReport errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            fmt = format_of_path(request.url.path)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
                return error_response(400, problems[:5], fmt)
            # GeoReport's statuses for intake's refusals, on purpose not intake's own (422).
            except OutsideTerritory as exc:
                return error_response(400, [str(exc)], fmt)
            except IdempotencyConflict as exc:
                return error_response(409, [str(exc)], fmt)
            except DomainError as exc:  # ours, a refused key, a rate limit (Retry-After)
                return error_response(exc.status, [str(exc)], fmt, headers=exc.headers)
            except HTTPException as exc:  # e.g. a malformed multipart body
                return error_response(exc.status_code, [str(exc.detail)], fmt)

        return handle


MEDIA_FIELD = "media"
"""The multipart field of a photo posted with a request (GeoReport names only `media_url`;
this is the common extension)."""


@dataclass(frozen=True)
class Params:
    """Query string and, for POST, the form: plain fields, `attribute[code]` values and a
    photo (`media`)."""

    values: dict[str, str]
    attributes: dict[str, str]
    media: UploadFile | None = None


async def open311_params(request: Request) -> Params:
    items: list[tuple[str, Any]] = list(request.query_params.multi_items())
    if request.method == "POST":
        form = await request.form()
        items.extend(form.multi_items())
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    media: UploadFile | None = None
    for key, value in items:
        if not isinstance(value, str):
            if key != MEDIA_FIELD or media is not None:
                raise Open311Error(400, f"{key}: one photo is taken, as the field {MEDIA_FIELD}")
            media = value
            continue
        attribute = _ATTRIBUTE.fullmatch(key)
        if attribute:
            attributes[attribute.group(1)] = value
        else:
            values[key] = value
    return Params(values, attributes, media)


ParamsDep = Annotated[Params, Depends(open311_params)]


def check_jurisdiction(params: ParamsDep, config: SettingsDep) -> None:
    """One jurisdiction per endpoint: naming it is optional, naming another is a 404."""
    given = params.values.get("jurisdiction_id", "").strip()
    expected = config.open311_jurisdiction_id
    if given and expected and given != expected:
        raise Open311Error(404, f"jurisdiction_id {given!r} not found")


def lang_param(
    params: ParamsDep,
    lang: Annotated[
        str | None, Query(description="`vi` for Vietnamese names and notices; English else")
    ] = None,
) -> Language:
    """From the query string, or for POST the form too."""
    return language(params.values.get("lang", lang))


LangDep = Annotated[Language, Depends(lang_param)]

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)

READ = [Depends(require("open311.read")), Depends(check_jurisdiction)]
SUBMIT = [Depends(require("open311.submit", open311=True)), Depends(check_jurisdiction)]
"""Who may call first, then which jurisdiction: a stranger learns nothing about it."""


@router.get("/discovery.{fmt}", summary="Service discovery", dependencies=READ)
def discovery(fmt: str, request: Request, config: SettingsDep) -> Response:
    base_url = str(request.url_for("discovery", fmt=fmt)).rsplit("/", 1)[0]
    document = service.discovery(base_url=base_url, settings=config)
    return render(document, format_of(fmt), root="discovery")


@router.get("/services.{fmt}", summary="GET Service List", dependencies=READ)
def services(fmt: str, lang: LangDep) -> Response:
    return render(service.service_list(lang=lang), format_of(fmt), root="services", item="service")


@router.get("/services/{service_code}.{fmt}", summary="GET Service Definition", dependencies=READ)
def service_definition(service_code: str, fmt: str, lang: LangDep) -> Response:
    output = format_of(fmt)
    definition = service.service_definition(service_code=service_code, lang=lang)
    return render(definition, output, root="service_definition")


_FORM_FIELDS: dict[str, Any] = {
    "type": "object",
    "required": ["api_key", "service_code"],
    "properties": {
        name: {"type": "string"}
        for name in (
            "api_key",
            "jurisdiction_id",
            "service_code",
            "lat",
            "long",
            "address_string",
            "email",
            "phone",
            "first_name",
            "last_name",
            "description",
            "device_id",
            "account_id",
            "media_url",
        )
    },
    "additionalProperties": {
        "type": "string",
        "description": "attribute[CODE] as the service definition lists them",
    },
}

_POST_FORM = {
    "requestBody": {
        "content": {
            "application/x-www-form-urlencoded": {"schema": _FORM_FIELDS},
            "multipart/form-data": {
                "schema": {
                    **_FORM_FIELDS,
                    "properties": {
                        **_FORM_FIELDS["properties"],
                        MEDIA_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "A photo: JPEG, PNG or WebP",
                        },
                    },
                }
            },
        }
    }
}


@router.post(
    "/requests.{fmt}",
    status_code=201,
    summary="POST Service Request",
    dependencies=SUBMIT,
    openapi_extra=_POST_FORM,
    responses={201: {"description": "`[{service_request_id, service_notice, account_id}]`"}},
)
def post_request(
    fmt: str,
    request: Request,
    params: ParamsDep,
    config: SettingsDep,
    lang: LangDep,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Retry-safe key")
    ] = None,
) -> Response:
    output = format_of(fmt)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 180:
        raise Open311Error(400, "Idempotency-Key must be 1 to 180 characters")
    new = service.NewRequest.from_form(params.values, params.attributes)
    kind, report, details = service.to_report(new)
    limits: IntakeLimits = request.app.state.intake_limits
    limits.check(ip=client_ip(request), phone=report.phone)
    photo = None
    if params.media is not None and params.media.filename:  # a form's empty file field: none
        photo = read_bounded(params.media.file, max_bytes=config.photo_max_bytes)
    with session_scope(request.app.state.sessions) as session:
        posted = service.submit_request(
            session,
            service=kind,
            report=report,
            details=details,
            idempotency_key=f"open311:{idempotency_key}" if idempotency_key else None,
            settings=config,
            lang=lang,
            photo=photo,
        )
    if new.media_url and kind.is_outage_intake:
        with session_scope(request.app.state.sessions) as session:
            fetch_report_photo(
                session,
                posted["service_request_id"],
                new.media_url,
                source=PhotoSource.OPEN311,
                settings=config,
            )
    return render([posted], output, root="service_requests", item="request", status_code=201)


@router.get("/requests.{fmt}", summary="GET Service Requests", dependencies=READ)
def get_requests(
    fmt: str,
    request: Request,
    lang: LangDep,
    service_request_id: Annotated[str | None, Query(description="Comma-separated ids")] = None,
    service_code: Annotated[str | None, Query(description="Comma-separated codes")] = None,
    start_date: Annotated[str | None, Query(description="W3C date-time")] = None,
    end_date: Annotated[str | None, Query(description="W3C date-time")] = None,
    status: Annotated[str | None, Query(description="open, closed or both")] = None,
) -> Response:
    output = format_of(fmt)
    query = service.parse_query(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
    )
    with session_scope(request.app.state.sessions) as session:
        found = service.find_requests(session, query=query, lang=lang)
    return render(found, output, root="service_requests", item="request")


@router.get(
    "/requests/{service_request_id}.{fmt}", summary="GET Service Request", dependencies=READ
)
def get_request(
    service_request_id: str, fmt: str, request: Request, lang: LangDep, config: SettingsDep
) -> Response:
    output = format_of(fmt)
    with session_scope(request.app.state.sessions) as session:
        found = service.get_request(
            session, ticket=service_request_id, lang=lang, zone=config.local_timezone
        )
    if found is None:
        raise Open311Error(404, f"no service request {service_request_id!r}")
    return render([found], output, root="service_requests", item="request")
