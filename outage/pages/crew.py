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

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        "crew_site_name": "Đội hiện trường",
        "crew_title": "Công việc của đội",
        "crew_no_crew": "Tài khoản này không thuộc đội nào.",
        "crew_no_jobs": "Chưa có việc nào được giao cho đội.",
        "crew_on_shift": "Đang trong ca",
        "crew_off_shift": "Ngoài ca",
        "crew_job": "Việc {n}",
        "crew_device": "Thiết bị",
        "crew_premise": "Điểm đấu nối",
        "crew_address": "Địa chỉ",
        "crew_customers": "Khách hàng mất điện",
        "crew_hazard": "Nguy hiểm",
        "crew_critical": "Khách hàng ưu tiên",
        "crew_arrival": "Dự kiến đến",
        "crew_etr": "Dự kiến có điện",
        "crew_status": "Trạng thái",
        "crew_location": "Vị trí",
        "crew_no_location": "Chưa rõ vị trí",
        "crew_navigate": "Chỉ đường",
        "crew_open_map": "Mở bản đồ",
        "crew_en_route": "Đang đi",
        "crew_on_site": "Đã đến nơi",
        "crew_need_help": "Cần hỗ trợ",
        "crew_restored": "Đã có điện",
        "crew_restore_full": "Toàn bộ",
        "crew_restore_partial": "Một phần",
        "crew_restored_customers": "Số khách hàng đã có điện",
        "crew_cause": "Nguyên nhân",
        "crew_cause_none": "Chưa rõ / không chọn",
        "crew_notes": "Ghi chú",
        "crew_send_restored": "Báo đã có điện",
        "crew_queued": "Đã lưu, sẽ gửi khi có mạng.",
        "crew_sending": "Đang gửi…",
        "crew_sent": "Đã gửi.",
        "crew_failed": "Không gửi được: {reason}",
        "crew_sign_in_again": "Phiên đăng nhập đã hết. Hãy đăng nhập lại.",
        "crew_offline": "Mất kết nối: các thao tác được giữ lại và gửi lại sau.",
        "crew_help_sent": "Đã báo trung tâm điều độ.",
        "crew_state_predicted": "Dự đoán",
        "crew_state_confirmed": "Đã xác nhận",
        "crew_state_dispatched": "Đã giao",
        "crew_state_en_route": "Đang đi",
        "crew_state_on_site": "Tại hiện trường",
        "crew_state_partially_restored": "Đã có điện một phần",
        "crew_state_restored": "Đã có điện",
        "crew_state_closed": "Đã đóng",
        "crew_state_cancelled": "Đã hủy",
        "cause_tree_contact": "Cây chạm đường dây",
        "cause_equipment_failure": "Hỏng thiết bị",
        "cause_animal": "Động vật",
        "cause_lightning": "Sét",
        "cause_vehicle_accident": "Xe đâm cột",
        "cause_overload": "Quá tải",
        "cause_weather": "Thời tiết",
        "cause_third_party_damage": "Bên thứ ba gây hư hỏng",
        "cause_unknown": "Không rõ",
    },
    "en": {
        "crew_site_name": "Field crew",
        "crew_title": "My crew's jobs",
        "crew_no_crew": "This account belongs to no crew.",
        "crew_no_jobs": "No jobs are assigned to your crew yet.",
        "crew_on_shift": "On shift",
        "crew_off_shift": "Off shift",
        "crew_job": "Job {n}",
        "crew_device": "Device",
        "crew_premise": "Premise",
        "crew_address": "Address",
        "crew_customers": "Customers out",
        "crew_hazard": "Hazard",
        "crew_critical": "Critical customers",
        "crew_arrival": "Planned arrival",
        "crew_etr": "ETR",
        "crew_status": "Status",
        "crew_location": "Location",
        "crew_no_location": "Location unknown",
        "crew_navigate": "Navigate",
        "crew_open_map": "Open map",
        "crew_en_route": "En route",
        "crew_on_site": "On site",
        "crew_need_help": "Need help",
        "crew_restored": "Restored",
        "crew_restore_full": "Full",
        "crew_restore_partial": "Partial",
        "crew_restored_customers": "Customers restored",
        "crew_cause": "Cause",
        "crew_cause_none": "Not known / none",
        "crew_notes": "Notes",
        "crew_send_restored": "Report restored",
        "crew_queued": "Saved; it will be sent when the network is back.",
        "crew_sending": "Sending…",
        "crew_sent": "Sent.",
        "crew_failed": "Not sent: {reason}",
        "crew_sign_in_again": "Your session has ended. Please sign in again.",
        "crew_offline": "Offline: actions are kept and sent again later.",
        "crew_help_sent": "The control room has been told.",
        "crew_state_predicted": "Predicted",
        "crew_state_confirmed": "Confirmed",
        "crew_state_dispatched": "Dispatched",
        "crew_state_en_route": "En route",
        "crew_state_on_site": "On site",
        "crew_state_partially_restored": "Partially restored",
        "crew_state_restored": "Restored",
        "crew_state_closed": "Closed",
        "crew_state_cancelled": "Cancelled",
        "cause_tree_contact": "Tree contact",
        "cause_equipment_failure": "Equipment failure",
        "cause_animal": "Animal",
        "cause_lightning": "Lightning",
        "cause_vehicle_accident": "Vehicle accident",
        "cause_overload": "Overload",
        "cause_weather": "Weather",
        "cause_third_party_damage": "Third-party damage",
        "cause_unknown": "Unknown",
    },
}
"""The crew page's words; the rest (sign out, hazards, critical kinds) come from `i18n`."""

SCRIPT_STRINGS = (
    "crew_queued",
    "crew_sending",
    "crew_sent",
    "crew_failed",
    "crew_sign_in_again",
    "crew_offline",
    "crew_help_sent",
    *(f"crew_state_{s.value}" for s in IncidentStatus),
)
"""The words the script shows, handed to it in the page."""


def strings(language: str) -> dict[str, str]:
    return {**i18n.strings(language), **STRINGS[language]}


def _when(moment: datetime | None, t: Mapping[str, str], zone: tzinfo) -> str | None:
    return local_moment(moment, t, zone)["text"] if moment is not None else None


def _card(job: PlannedJobOut, n: int, language: str, tiles: Tiles, zone: tzinfo) -> dict[str, Any]:
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
        "status_text": t[f"crew_state_{job.status.value}"],
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
            "causes": [(cause, t[f"cause_{cause}"]) for cause in CAUSES],
            "script_strings": {name: t[name] for name in SCRIPT_STRINGS},
        },
        path="/crew",
        words=strings,
        headers={"Cache-Control": "no-store"},
    )
