"""The field crew's mobile page: my crew's jobs in plan order, and buttons to report on them.

Staff only (`pages.crew`): a signed-out visitor is sent to the login page and back. The
page is server-rendered; its script (`static/crew.js`) sends the buttons' actions to the
JSON API with the session's CSRF token, queues them while the phone is out of reach, and
sends the phone's position while the crew is on shift. Made for a 360 px wide screen.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from maps import crew as crew_maps
from maps.page import Tiles
from outage import i18n
from outage.crews import plan_view
from outage.crews import service as crews
from outage.crews.schemas import PlannedJobOut
from outage.i18n import Language
from outage.incidents.lifecycle import IncidentStatus
from outage.web.deps import SessionDep
from outage.web.principal import PrincipalDep, require
from outage.web.rendering import local_moment, local_zone, render_page, request_language

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
"""The cause codes a crew picks from when it restores."""

SCRIPT_STRINGS = (
    "crew_queued",
    "crew_sending",
    "crew_sent",
    "crew_failed",
    "crew_sign_in_again",
    "crew_offline",
    "crew_help_sent",
    *(f"crew_state.{s}" for s in IncidentStatus),
)
"""The words the script shows, handed to it in the page."""


def strings(language: i18n.Language) -> dict[str, str]:
    """The pages' words and the crew page's own (the `crew` catalogue)."""
    return {**i18n.strings(language), **i18n.catalogue("crew", language)}


def _when(moment: datetime | None, t: Mapping[str, str], zone: tzinfo) -> str | None:
    return local_moment(moment, t, zone)["text"] if moment is not None else None


def _card(
    job: PlannedJobOut, n: int, language: Language, tiles: Tiles, zone: tzinfo
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
            "small_map": crew_maps.job_map(job.lat, job.lon, label=title, tiles=tiles),
        }
    return {
        "id": job.incident_id,
        "title": title,
        "status": job.status.value,
        "version": job.version,
        "status_text": t[f"crew_state.{job.status}"],
        "device": job.device.asset_ref if job.device else None,
        "device_kind": job.device.kind.value if job.device else None,
        "premise": job.premise,
        "address": job.address,
        "customers": job.customers_affected,
        "hazard": i18n.hazard_label(language, job.hazard) if job.hazard else None,
        "critical": [i18n.critical_label(language, kind) for kind in job.critical],
        "arrival": _when(job.planned_arrival, t, zone),
        "etr": _when(job.etr, t, zone),
        "here": here,
    }


@router.get(
    "/crew", response_class=HTMLResponse, dependencies=[Depends(require("pages.crew", page=True))]
)
def crew_page(
    request: Request, session: SessionDep, staff: PrincipalDep, lang: str | None = None
) -> HTMLResponse:
    """The signed-in member's crew: its jobs in plan order, with the buttons to report."""
    language = request_language(request, lang)
    t = strings(language)
    settings = request.app.state.settings
    tiles = Tiles(settings.map_tile_url, settings.map_tile_attribution)
    zone = local_zone(request)
    crew = None
    jobs: list[PlannedJobOut] = []
    if staff.crew_id is not None:
        try:
            crew = crews.get_crew(session, staff.crew_id, now=datetime.now(UTC))
        except crews.CrewNotFound:
            crew = None
        jobs = plan_view.crew_jobs(session, staff.crew_id)
    return render_page(
        "crew.html",
        language,
        {
            "staff": staff,
            "crew": crew,
            "crew_id": staff.crew_id,
            "jobs": [_card(job, n, language, tiles, zone) for n, job in enumerate(jobs, start=1)],
            "map_stylesheets": crew_maps.STYLESHEETS,
            "map_scripts": crew_maps.SCRIPTS,
            "causes": [(cause, t[f"cause.{cause}"]) for cause in CAUSES],
            "script_strings": {name: t[name] for name in SCRIPT_STRINGS},
        },
        path="/crew",
        words=strings,
        headers={"Cache-Control": "no-store"},
    )
