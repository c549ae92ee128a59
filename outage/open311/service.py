"""Open311 requests in terms of our reports and service requests: taking them in, and
showing them to anyone.

Outage and hazard requests go through outage intake unchanged; the customer-care types
become service requests (`outage.care`), their attributes kept as the request's details.
What GET shows is public: no names, phone numbers, e-mail addresses, customer text or
premise locations, only the service, its state, when it is expected done (care requests)
and a location rounded to about 100 m; and only requests that came through Open311: a
report by SMS, phone or the web was not made in public.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, null, select
from sqlalchemy.orm import Session, aliased

from outage import clock
from outage.care import service as care
from outage.care.enums import RequestState, RequestType
from outage.care.lifecycle import CLOSED as CARE_CLOSED
from outage.care.lifecycle import OPEN as CARE_OPEN
from outage.care.models import ServiceRequest
from outage.care.schemas import RequestIn
from outage.grid.models import Device, Premise
from outage.i18n import Language, catalogue
from outage.incidents.progress import report_progress
from outage.intake import service as intake
from outage.intake.enums import Channel, Hazard, ReportStatus
from outage.intake.models import Report
from outage.intake.photos import add_report_photo
from outage.intake.progress import describe
from outage.intake.schemas import ReportIn
from outage.media.enums import PhotoSource
from outage.open311.catalogue import (
    CARE_CODES,
    CHANGESET,
    CUSTOMER_ACCOUNT,
    HAZARD,
    HAZARD_TYPE,
    SERVICES,
    Attribute,
    ServiceType,
    hazard_name,
    text,
)
from outage.open311.formats import Open311Error
from outage.prediction.hazards import open_reported_hazard
from outage.settings import Settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

PUBLIC_DECIMALS = 3
"""Public locations are rounded to 0.001 degree: about 110 m north-south, less east-west."""

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
"""The specification's default window, and the widest a query may ask for."""

OPEN = "open"
CLOSED = "closed"

_PUBLIC_FIELDS = {"lat": "lat", "lon": "long", "address": "address_string"}
"""Our field names as an Open311 client knows them, for error messages."""


@dataclass(frozen=True)
class NewRequest:
    """A POSTed service request, as the form gave it (strings, unchecked)."""

    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    description: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    media_url: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, values: Mapping[str, str], attributes: Mapping[str, str]) -> "NewRequest":
        """Fields the specification defines; anything else a client sends is ignored."""
        names = {f.name for f in fields(cls)} - {"attributes"}
        return cls(**{k: v for k, v in values.items() if k in names}, attributes=dict(attributes))


# --- services -------------------------------------------------------------------------


def discovery(*, base_url: str, settings: Settings) -> dict[str, Any]:
    """The service discovery document: where the endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": settings.open311_contact,
        "key_service": settings.open311_key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_list(*, lang: Language) -> list[dict[str, Any]]:
    return [
        {
            "service_code": s.code,
            "service_name": s.name(lang),
            "description": s.description(lang),
            "metadata": bool(s.attributes),
            "type": "realtime",
            "keywords": ", ".join(s.keywords),
            "group": s.group_name(lang),
        }
        for s in SERVICES.values()
    ]


def service_definition(*, service_code: str, lang: Language) -> dict[str, Any]:
    service = _service(service_code, missing_status=404)
    return {
        "service_code": service.code,
        "attributes": [
            _attribute(a, order, lang) for order, a in enumerate(service.attributes, start=1)
        ],
    }


def _attribute(attribute: Attribute, order: int, lang: Language) -> dict[str, Any]:
    return {
        "variable": True,
        "code": attribute.code,
        "datatype": attribute.datatype.value,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description(lang),
        "order": order,
        "description": attribute.description(lang),
        "values": [
            {"key": key, "name": attribute.value_name(lang, key)} for key in attribute.values
        ],
    }


def _service(code: str | None, *, missing_status: int = 400) -> ServiceType:
    if not code or not code.strip():
        raise Open311Error(400, "service_code is required")
    service = SERVICES.get(code.strip())
    if service is None:
        raise Open311Error(missing_status, f"unknown service_code {code.strip()!r}")
    return service


# --- posting --------------------------------------------------------------------------


def submit_request(
    session: Session,
    *,
    service: ServiceType,
    report: ReportIn,
    details: Mapping[str, str | int],
    idempotency_key: str | None,
    settings: Settings,
    lang: Language,
    photo: bytes | None = None,
) -> dict[str, Any]:
    """Store one checked request; the receipt names our ticket as `service_request_id`.

    Outages and hazards become reports, with the photo if one came (refused: the request
    is refused too); customer-care types become service requests, which keep no photos.
    """
    if service.is_outage_intake:
        submission = intake.Submission(report, idempotency_key=idempotency_key)
        receipt = intake.submit_report(session, submission, settings)
        if report.hazard is not None:
            open_reported_hazard(session, receipt.ticket)
        if photo is not None:
            add_report_photo(
                session, receipt.ticket, photo, source=PhotoSource.OPEN311, settings=settings
            )
        ticket, status = receipt.ticket, receipt.status
    else:
        request = RequestIn(
            type=RequestType(service.code),
            details=dict(details),
            **report.model_dump(exclude={"hazard"}),
        )
        care_receipt = care.submit_request(
            session, request, settings=settings, language=lang, idempotency_key=idempotency_key
        )
        ticket, status = care_receipt.ticket, None
    return {
        "service_request_id": ticket,
        "service_notice": _notice(service, ticket, status, lang),
        "account_id": None,
    }


def to_report(new: NewRequest) -> tuple[ServiceType, ReportIn, dict[str, str | int]]:
    """Check a posted request and turn it into our report, with the service's attributes
    other than the account and hazard type; Open311Error(400) says what is wrong.

    Names are not kept (we have no place for them; the account says who it is).
    """
    service = _service(new.service_code)
    try:
        attributes = service.parse_attributes(new.attributes)
    except ValueError as exc:
        raise Open311Error(400, str(exc)) from None
    lat, lon = _coordinates(new.lat, new.long)
    address = (new.address_string or "").strip() or None
    if lat is None and address is None:
        if new.address_id:
            raise Open311Error(400, "address_id is not supported: send lat/long or address_string")
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    hazard = attributes.pop(HAZARD_TYPE, None) if service.code == HAZARD else None
    account = attributes.pop(CUSTOMER_ACCOUNT, None)
    description = (new.description or "").strip()
    try:
        report = ReportIn(
            account=str(account) if account is not None else None,
            phone=(new.phone or "").strip() or None,
            email=(new.email or "").strip() or None,
            address=address,
            lat=lat,
            lon=lon,
            description=description or None,
            hazard=Hazard(str(hazard)) if hazard is not None else None,
            channel=Channel.OPEN311,
        )
    except ValidationError as exc:
        raise Open311Error(400, _first_problem(exc)) from None
    return service, report, attributes


def _coordinates(lat: str | None, lon: str | None) -> tuple[float | None, float | None]:
    lat, lon = (lat or "").strip(), (lon or "").strip()
    if not lat and not lon:
        return None, None
    if not lat or not lon:
        raise Open311Error(400, "lat and long go together")
    try:
        return float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, "lat and long must be decimal degrees (WGS84)") from None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    message = str(problem["msg"]).removeprefix("Value error, ")
    if not problem["loc"]:
        return message
    name = str(problem["loc"][0])
    if name == "account":
        name = f"attribute[{CUSTOMER_ACCOUNT}]"
    return f"{_PUBLIC_FIELDS.get(name, name)}: {message}"


def _notice(service: ServiceType, ticket: str, status: ReportStatus | None, lang: Language) -> str:
    """What the receipt tells the client, in sentences of the `notice.*` texts."""
    if not service.is_outage_intake:
        said = [text(lang, "notice.request", service=service.name(lang), ticket=ticket)]
    elif status is ReportStatus.DUPLICATE:
        said = [text(lang, "notice.duplicate", ticket=ticket)]
    else:
        said = [text(lang, "notice.report", ticket=ticket)]
    if service.is_outage_intake and status is ReportStatus.NEEDS_AGENT:
        said.append(text(lang, "notice.needs_agent"))
    if service.code == HAZARD:
        said.append(text(lang, "notice.hazard"))
    return " ".join(said)


@dataclass(frozen=True)
class RequestQuery:
    """Filters of GET requests; service request ids, when given, override the rest."""

    tickets: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset()


def parse_query(
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> RequestQuery:
    """The query parameters as the specification writes them; Open311Error(400) if wrong."""
    tickets = _comma_list(service_request_id)
    if len(tickets) > MAX_RESULTS:
        raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id at once")
    codes = _comma_list(service_code)
    unknown = [c for c in codes if c not in SERVICES]
    if unknown:
        raise Open311Error(400, f"unknown service_code {unknown[0]!r}")
    statuses = frozenset(s.lower() for s in _comma_list(status))
    if statuses - {OPEN, CLOSED}:
        raise Open311Error(400, "status must be open, closed or both")
    start, end = _datetime(start_date, "start_date"), _datetime(end_date, "end_date")
    if start is not None and end is not None:
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > MAX_SPAN:
            raise Open311Error(400, f"start_date to end_date spans more than {MAX_SPAN.days} days")
    return RequestQuery(
        tickets=tuple(t.upper() for t in tickets),
        service_codes=tuple(codes),
        start=start,
        end=end,
        statuses=statuses,
    )


def _comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _datetime(value: str | None, name: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a W3C date-time, e.g. 2026-01-31T08:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} needs a time zone: Z or an offset such as +07:00")
    return parsed


def find_requests(
    session: Session, *, query: RequestQuery, lang: Language, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Public view of reports and service requests, newest first: by ids, or in a window of
    at most 90 days."""
    reports, requests = _public_select(), _public_care_select()
    if query.tickets:
        reports = reports.where(Report.ticket.in_(query.tickets))
        requests = requests.where(ServiceRequest.ticket.in_(query.tickets))
    else:
        start, end = _window(query, now or clock.now())
        reports = reports.where(Report.received_at >= start, Report.received_at <= end)
        requests = requests.where(
            ServiceRequest.received_at >= start, ServiceRequest.received_at <= end
        )
        if query.service_codes:
            reports = reports.where(Report.service_code.in_(query.service_codes))
            care_codes = sorted(CARE_CODES.intersection(query.service_codes))
            requests = requests.where(ServiceRequest.request_type.in_(care_codes))
        if query.statuses == {OPEN}:
            reports = reports.where(Report.status != ReportStatus.CLOSED)
            requests = requests.where(ServiceRequest.state.in_(sorted(CARE_OPEN)))
        elif query.statuses == {CLOSED}:
            reports = reports.where(Report.status == ReportStatus.CLOSED)
            requests = requests.where(ServiceRequest.state.in_(sorted(CARE_CLOSED)))
    rows = [
        *session.execute(
            reports.order_by(Report.received_at.desc(), Report.id.desc()).limit(MAX_RESULTS)
        ),
        *session.execute(
            requests.order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc()).limit(
                MAX_RESULTS
            )
        ),
    ]
    rows.sort(key=lambda row: row.received_at, reverse=True)
    return [_public(row, lang) for row in rows[:MAX_RESULTS]]


def get_request(
    session: Session, *, ticket: str, lang: Language, zone: tzinfo
) -> dict[str, Any] | None:
    """One request; an outage report's `status_notes` tell its incident's phase (a list
    tells only the report's status: one read per row is too many for a thousand rows).

    An outage report is found by its ticket whatever channel filed it (the web form, an
    SMS): whoever holds the ticket follows its public progress here as on every other
    channel; the lists show Open311's own requests only. Its `status` is the report's,
    `closed` once the customer's supply is back (as the lists say). Anyone may read a
    request, so nothing more of this customer's own supply: the notes tell the incident's
    phase, and the update time moves only when the whole incident is restored; a report
    of another channel has no point (its reporter never chose to publish one, and a
    ticket may be guessed)."""
    wanted = ticket.strip().upper()
    if care.is_request_ticket(wanted):
        row = session.execute(
            _public_care_select().where(ServiceRequest.ticket == wanted)
        ).one_or_none()
        return _public(row, lang) if row is not None else None
    row = session.execute(_report_select().where(Report.ticket == wanted)).one_or_none()
    if row is None:
        return None
    found = _public(row, lang)
    if row.channel != Channel.OPEN311:
        found["lat"] = found["long"] = None  # where someone who texted or called lives
    progress = report_progress(session, wanted, personal=False)
    if progress is not None and progress.phase is not None:
        found["status_notes"] = describe(progress, lang, zone)
        if progress.restored_at is not None:
            found["updated_datetime"] = w3c(progress.restored_at)
    return found


def _window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime]:
    if query.start is None and query.end is None:
        return now - MAX_SPAN, now
    if query.start is None:
        assert query.end is not None
        return query.end - MAX_SPAN, query.end
    return query.start, query.end or query.start + MAX_SPAN


def _public_select() -> Select[Any]:
    """The reports Open311 lists: those posted through it."""
    return _report_select().where(Report.channel == Channel.OPEN311)


def _report_select() -> Select[Any]:
    """Only what anyone may see; the point is the transformer's, else the premise's, else
    the reporter's own fix, and is rounded before it leaves."""
    transformer = aliased(Device)
    point = func.coalesce(func.ST_Centroid(transformer.geom), Premise.geom, Report.geom)
    return (
        select(
            Report.ticket,
            Report.channel,
            Report.status,
            Report.service_code,
            Report.hazard,
            Report.received_at,
            Report.received_at.label("updated"),
            null().label("expected"),
            func.ST_Y(point).label("lat"),
            func.ST_X(point).label("lon"),
        )
        .outerjoin(transformer, transformer.id == Report.transformer_id)
        .outerjoin(Premise, Premise.id == Report.premise_id)
    )


def _public_care_select() -> Select[Any]:
    """Service requests in the columns of `_public_select`; expected done by the due time."""
    transformer = aliased(Device)
    point = func.coalesce(func.ST_Centroid(transformer.geom), Premise.geom, ServiceRequest.geom)
    return (
        select(
            ServiceRequest.ticket,
            ServiceRequest.state.label("status"),
            ServiceRequest.request_type.label("service_code"),
            null().label("hazard"),
            ServiceRequest.received_at,
            ServiceRequest.updated_at.label("updated"),
            ServiceRequest.due_at.label("expected"),
            func.ST_Y(point).label("lat"),
            func.ST_X(point).label("lon"),
        )
        .outerjoin(Premise, Premise.id == ServiceRequest.premise_id)
        .outerjoin(transformer, transformer.id == Premise.transformer_id)
        .where(ServiceRequest.channel == Channel.OPEN311)
    )


def public_status(status: ReportStatus) -> str:
    """Received, waiting for an agent and joined to another are all still open."""
    return CLOSED if status is ReportStatus.CLOSED else OPEN


def w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _public(row: Any, lang: Language) -> dict[str, Any]:
    service = SERVICES.get(row.service_code)
    words = catalogue("open311", lang)
    if isinstance(row.status, RequestState):
        state = CLOSED if row.status in CARE_CLOSED else OPEN
        notes = words.get(f"request_state_note.{row.status}")
    else:
        status = ReportStatus(row.status)
        state = public_status(status)
        notes = words.get(f"report_status_note.{status}")
    return {
        "service_request_id": row.ticket,
        "status": state,
        "status_notes": notes,
        "service_name": service.name(lang) if service else row.service_code,
        "service_code": row.service_code,
        "description": hazard_name(lang, Hazard(row.hazard)) if row.hazard else None,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": w3c(row.received_at),
        "updated_datetime": w3c(row.updated),
        "expected_datetime": w3c(row.expected) if row.expected is not None else None,
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": round(row.lat, PUBLIC_DECIMALS) if row.lat is not None else None,
        "long": round(row.lon, PUBLIC_DECIMALS) if row.lon is not None else None,
        "media_url": None,
    }
