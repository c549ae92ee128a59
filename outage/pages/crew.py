"""The field crew's mobile page: my crew's jobs in plan order, and buttons to report on them,
a form to report a device the crew opened or closed, and the steps of the switching orders
assigned to the crew, each confirmed with a form.

Staff only (`pages.crew`): a signed-out visitor is sent to the login page and back. The
page is server-rendered; its script (`static/crew.js`) sends the buttons' actions and the
switching reports to the JSON API with the session's CSRF token, queues them while the
phone is out of reach, and sends the phone's position while the crew is on shift. The
devices suggested for a switching report are those nearest the crew's jobs, rendered in
the page so they are there offline; typing searches the rest. The switching steps are plain
forms (`POST /crew/orders/{id}/steps/{n}`): a step is confirmed when the crew has done it,
and the page comes back with the order as it then stands. A job the crew is at work on has
a form to report where it found the fault (a `confirm` naming the device, through the same
queue); the devices it suggests, the job's and those below it, are asked for when the form
opens (`GET /crew/jobs/{id}/devices`) and kept for offline. Each job shows the thumbnails
of its photos (the customers' and the crews', served to signed-in staff only) and a plain
form to add one (`POST /crew/jobs/{id}/photos`, a phone's camera). Each job has a sketch
of the network around it, folded away until asked for, drawn from our records so it needs
no map tiles (`crew_sketch`). Each job has a damage form (what the crew assessed: poles,
spans, access, the crew type and hours needed), and one more is for damage found where no
job is, at the phone's position; both go through the same queue with an idempotency key
and the moment the button was pressed (`POST /api/v1/damage-assessments`). The script asks
for the page again now and then and adds the new jobs, so a crew sees them without
reloading. A crew member's sign-in lands here. Made
for a 360 px wide screen.
"""

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from dispatch.model import Skill
from grid_topology.model import Coordinate, DeviceKind
from outage import clock, i18n
from outage.crews import plan_view
from outage.crews import service as crews
from outage.crews.enums import Access
from outage.crews.models import DAMAGE_LIMITS, MAX_HOURS_NEEDED
from outage.crews.schemas import CrewOut, PlannedJobOut
from outage.errors import DomainError
from outage.grid import nearby, switchable
from outage.i18n import Language
from outage.incidents import findings, queries
from outage.incidents.errors import IncidentNotFound
from outage.incidents.lifecycle import CREW_AT_WORK, IncidentStatus
from outage.incidents.photos import add_incident_photo, incident_photos
from outage.incidents.schemas import DeviceRef
from outage.media.enums import PhotoSource
from outage.media.images import read_bounded
from outage.orders import execution
from outage.orders import service as orders
from outage.orders.enums import HOLDING, OrderState, StepState
from outage.orders.schemas import OrderOut
from outage.pages import crew_sketch
from outage.pages.staff import staff_links
from outage.settings import Settings
from outage.web.deps import SessionDep, SettingsDep, TopologyDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import (
    date_style,
    local_etr,
    local_moment,
    local_zone,
    render_page,
    request_language,
)

router = APIRouter(include_in_schema=False, tags=["crew page"])

CAUSES = (
    "tree_contact",
    "equipment_failure",
    "animal",
    "lightning",
    "vehicle_accident",
    "overload",
    "weather",
    "third_party_damage",
    "unknown",
)
"""The cause codes a crew picks from when it restores (`unknown` the one "not known")."""

ARRIVING: frozenset[IncidentStatus] = frozenset(
    {
        IncidentStatus.PREDICTED,
        IncidentStatus.CONFIRMED,
        IncidentStatus.DISPATCHED,
        IncidentStatus.EN_ROUTE,
    }
)
"""The jobs the crew has yet to reach: only these show a planned arrival."""

PHOTO_ADDED = "added"
"""The `photo` query of the page after a photo was kept (else the refusal's status)."""

FAULT_SUGGESTIONS = 200
"""Devices suggested where a crew may report the fault of a job, nearest the job's first."""
NEAR_EACH_JOB = 8
"""Switchable devices suggested around each job."""
SUGGESTED = 40
"""Switchable devices suggested in all."""

SKETCH_RADIUS_M = 250.0
"""Half the width of a job's sketch: the street or two around it."""
SKETCH_DEVICES = 300
"""The most devices a sketch draws, nearest the job first."""

SCRIPT_STRINGS = (
    "crew_sending",
    "crew_sent",
    "crew_failed",
    "crew_sign_in_again",
    "crew_offline",
    "crew_help_sent",
    "crew_waiting",
    *(f"crew_refused.{code}" for code in ("403", "404", "409", "422", "other")),
    "crew_new_job",
    "crew_new_jobs",
    *(f"crew_state.{s}" for s in IncidentStatus),
    *(f"crew_kind.{kind}" for kind in DeviceKind),
    "crew_switch_queued",
    "crew_switch_no_device",
    "crew_switch_future",
    *(f"crew_switch_did.{action}" for action in ("open", "close", "fuse")),
    *(f"crew_switch_recorded.{state}" for state in ("open", "closed")),
    *(f"crew_switch_is.{state}" for state in ("open", "closed")),
    *(f"crew_switch_refused.{code}" for code in ("unknown_device", "not_switchable", "event_time")),
    "crew_found_queued",
    "crew_found_sending",
    "crew_found_recorded",
    *(f"crew_found_refused.{code}" for code in ("unknown_device", "outside_area")),
    "crew_damage_queued",
    "crew_damage_sending",
    "crew_damage_recorded",
    "crew_damage_no_position",
    "crew_damage_incomplete",
    *(f"crew_damage_refused.{code}" for code in ("event_time", "unknown_incident")),
)
"""The words the script shows, handed to it in the page."""


def strings(language: i18n.Language) -> dict[str, str]:
    """The pages' words and the crew page's own (the `crew` catalogue)."""
    return {**i18n.strings(language), **i18n.catalogue("crew", language)}


def _when(moment: datetime | None, language: i18n.Language, zone: tzinfo) -> str | None:
    return local_moment(moment, language, zone)["text"] if moment is not None else None


def _sketch(
    session: Session, job: PlannedJobOut, crew_at: Coordinate | None, t: Mapping[str, str]
) -> Markup:
    """The network around the job, drawn from our records (no map tiles needed)."""
    assert job.lon is not None and job.lat is not None
    centre = (job.lon, job.lat)
    devices = nearby.devices_near(session, centre, radius_m=SKETCH_RADIUS_M, limit=SKETCH_DEVICES)
    job_device = job.device.asset_ref if job.device else None
    sketch = crew_sketch.Sketch(centre, SKETCH_RADIUS_M, devices, job_device, crew_at)
    return crew_sketch.render(sketch, t)


def _card(
    session: Session,
    job: PlannedJobOut,
    n: int,
    language: Language,
    crew_at: Coordinate | None,
    zone: tzinfo,
) -> dict[str, Any]:
    t = strings(language)
    title = t["crew_job"].format(n=n)
    here = None
    if job.lat is not None and job.lon is not None:
        lat, lon = f"{job.lat:.6f}", f"{job.lon:.6f}"
        here = {
            "lat": lat,
            "lon": lon,
            "geo": f"geo:{lat},{lon}",
            "directions": "https://www.openstreetmap.org/directions?"
            + urlencode({"to": f"{lat},{lon}"}),
            "map": f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}",
            "sketch": _sketch(session, job, crew_at, t),
        }
    return {
        "id": job.incident_id,
        "title": title,
        "status": job.status.value,
        "version": job.version,
        "status_text": t[f"crew_state.{job.status}"],
        "device": job.device.asset_ref if job.device else None,
        "device_kind": t[f"crew_kind.{job.device.kind}"] if job.device else None,
        "premise": job.premise,
        "address": job.address,
        "customers": job.customers_affected,
        "hazard": i18n.hazard_label(language, job.hazard) if job.hazard else None,
        "critical": [i18n.critical_label(language, kind) for kind in job.critical],
        "arrival": _when(job.planned_arrival, language, zone) if job.status in ARRIVING else None,
        "etr": (
            local_etr(job.etr, job.etr_earliest, job.etr_latest, language, zone)["text"]
            if job.etr
            else None
        ),
        "here": here,
        "photos": [
            {
                "url": photo.url,
                "thumbnail": photo.thumbnail_url,
                "alt": t["crew_photo_alt"].format(n=i),
            }
            for i, photo in enumerate(incident_photos(session, job.incident_id), start=1)
        ],
    }


def _position(crew: CrewOut | None) -> Coordinate | None:
    """Where the crew was last seen, (lon, lat), if it ever sent its position."""
    if crew is None or crew.position is None:
        return None
    return (crew.position.lon, crew.position.lat)


def _suggestions(
    session: Session, jobs: list[PlannedJobOut], t: Mapping[str, str]
) -> list[dict[str, str]]:
    """The switchable devices nearest the crew's jobs, for the switching report's field."""
    places = [(job.lon, job.lat) for job in jobs if job.lon is not None and job.lat is not None]
    found = switchable.nearest(session, places, each=NEAR_EACH_JOB, limit=SUGGESTED)
    return [
        {
            "asset_ref": device.asset_ref,
            "label": t[f"crew_kind.{device.kind}"]
            + " · "
            + t["crew_switch_is.open" if device.is_open else "crew_switch_is.closed"],
        }
        for device in found
    ]


def _order_card(order: OrderOut, t: Mapping[str, str]) -> dict[str, Any]:
    """An order as the crew sees it: its steps, and which one is to be confirmed next."""
    next_step = next((s.position for s in order.steps if s.state is not StepState.DONE), None)
    return {
        "id": order.id,
        "title": order.title,
        "state": t[f"crew_order_state.{order.state.value}"],
        "started": order.state in (OrderState.IN_PROGRESS, OrderState.HELD),
        "version": order.version,
        "steps": [
            {
                "position": step.position,
                "label": t["crew_order_step"].format(n=step.position),
                "action": t[f"crew_step_action.{step.action.value}"],
                "device": step.asset_ref,
                "note": step.note,
                "state": t[f"crew_step_state.{step.state.value}"],
                "next": step.position == next_step,
            }
            for step in order.steps
        ],
    }


@router.get(
    "/crew", response_class=HTMLResponse, dependencies=[Depends(require("pages.crew", page=True))]
)
def crew_page(
    request: Request,
    session: SessionDep,
    staff: PrincipalDep,
    lang: str | None = None,
    refused: str | None = None,
    photo: str | None = None,
) -> HTMLResponse:
    """The signed-in member's crew: its jobs in plan order, with the buttons to report and
    their photos (`photo`: what came of the one just sent, `added` or the refusal's
    status)."""
    language = request_language(request, lang)
    t = strings(language)
    settings = request.app.state.settings
    zone = local_zone(request)
    crew = None
    jobs: list[PlannedJobOut] = []
    switching: list[OrderOut] = []
    if staff.crew_id is not None:
        switching = orders.list_orders(session, states=HOLDING, crew_id=staff.crew_id)
        try:
            crew = crews.get_crew(session, staff.crew_id, now=clock.now())
        except crews.CrewNotFound:
            crew = None
        jobs = plan_view.crew_jobs(session, staff.crew_id)
    return render_page(
        "crew.html",
        language,
        {
            "staff": staff,
            "staff_links": staff_links(staff, "/crew"),
            "crew": crew,
            "crew_id": staff.crew_id,
            "jobs": [
                _card(session, job, n, language, _position(crew), zone)
                for n, job in enumerate(jobs, start=1)
            ],
            "photo_outcome": _photo_outcome(photo, t, settings),
            "nearby": _suggestions(session, jobs, t),
            "orders": [_order_card(order, t) for order in reversed(switching)],
            "refused": t["crew_step_refused"].format(reason=refused[:300]) if refused else None,
            "causes": [(cause, t[f"cause.{cause}"]) for cause in CAUSES],
            "damage_counts": list(DAMAGE_LIMITS.items()),
            "access": [(access.value, t[f"crew_access.{access}"]) for access in Access],
            "skills": [(skill.value, t[f"crew_skill.{skill}"]) for skill in Skill],
            "max_hours": MAX_HOURS_NEEDED,
            "found_when": " ".join(sorted(CREW_AT_WORK)),
            "arriving": " ".join(sorted(ARRIVING)),
            "script_strings": {name: t[name] for name in SCRIPT_STRINGS},
            "date_style": date_style(language, zone),
            "clock": clock.Clock.of(settings),
        },
        path="/crew",
        words=strings,
        headers={"Cache-Control": "no-store"},
    )


def _photo_outcome(outcome: str | None, t: Mapping[str, str], settings: Settings) -> str | None:
    """What to tell of the photo just sent: kept, or why not in the page's own words."""
    if outcome is None:
        return None
    if outcome == PHOTO_ADDED:
        return t["crew_photo_added"]
    reason = t.get(f"error_photo.{outcome[:3]}", t["crew_photo_refused"])
    return reason.format(mb=f"{settings.photo_max_bytes / 1024 / 1024:g}")


@router.post(
    "/crew/jobs/{incident_id}/photos",
    dependencies=[Depends(require("photos.add", page=True))],
)
def add_job_photo(
    incident_id: int,
    photo: Annotated[UploadFile, File()],
    session: SessionDep,
    staff: PrincipalDep,
    config: SettingsDep,
    lang: str | None = None,
) -> RedirectResponse:
    """A photo of the damage at one of the crew's jobs (the page's plain form); back to
    the job, with what came of it. Another crew's job is refused, as the API refuses it."""
    query = {"lang": lang} if lang else {}
    try:
        if queries.crew_of(session, incident_id) != staff.crew_id or staff.crew_id is None:
            raise IncidentNotFound(f"no incident {incident_id} of your crew")
        with session.begin_nested():
            add_incident_photo(
                session,
                incident_id,
                read_bounded(photo.file, max_bytes=config.photo_max_bytes),
                source=PhotoSource.CREW,
                settings=config,
                added_by=staff.name,
            )
        query["photo"] = PHOTO_ADDED
    except DomainError as refusal:
        query["photo"] = str(refusal.status)
    return RedirectResponse(f"/crew?{urlencode(query)}#job-{incident_id}", status_code=303)


@router.get(
    "/crew/jobs/{incident_id}/devices",
    dependencies=[Depends(require("pages.crew"))],
)
def job_devices(
    incident_id: int, session: SessionDep, live: TopologyDep, staff: PrincipalDep
) -> list[DeviceRef]:
    """Where the crew may report the fault of one of its jobs: the job's device and those
    below it, nearest first. Asked when the crew opens the form, not with the page, so a
    storm's hundreds of jobs do not weigh on every load; the page keeps it for offline."""
    if staff.crew_id is None:
        raise IncidentNotFound(f"no incident {incident_id} of your crew: you are in no crew")
    return findings.crew_job_area(
        session,
        incident_id,
        crew_id=staff.crew_id,
        operated=live.get(session),
        limit=FAULT_SUGGESTIONS,
    )


@router.post(
    "/crew/orders/{order_id}/steps/{position}",
    dependencies=[Depends(require("orders.execute", page=True))],
)
def confirm_step(
    order_id: int,
    position: int,
    session: SessionDep,
    live: TopologyDep,
    staff: PrincipalDep,
    config: SettingsDep,
    lang: str | None = None,
) -> RedirectResponse:
    """The crew did step `position` of its order; back to the page, with the reason if the
    step was refused (out of turn, another crew's order, the order not started)."""
    grant = staff.grant("orders.execute")
    executor = execution.Executor(
        staff.name,
        crew_id=staff.crew_id,
        restricted=grant is not None and grant.restriction is not None,
    )
    query = {"lang": lang} if lang else {}
    try:
        with session.begin_nested():
            execution.execute_step(
                session,
                order_id,
                position,
                executor=executor,
                expected_version=None,
                networks=execution.Networks(live.get(session), live.energized(session)),
                now=clock.now(),
                late_within=config.scada_late_confirmation_minutes,
                by_hand=True,
            )
    except DomainError as refusal:
        query["refused"] = str(refusal)
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(f"/crew{suffix}#order-{order_id}", status_code=303)
