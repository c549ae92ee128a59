"""What an alert of the public feeds says in words."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from outage.i18n import Language
from outage.pages.feed_sources import Alert, Phase
from outage.pages.feed_xml import description

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
STARTED = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
"""15:00 in Hanoi."""


def _alert(**etr: datetime) -> Alert:
    fields = {"etr": None, "etr_earliest": None, "etr_latest": None, **etr}
    return Alert(
        incident_id=1,
        version=1,
        hazard=False,
        hazard_kind=None,
        phase=Phase.ACTIVE,
        predicted=False,
        started_at=STARTED,
        created_at=STARTED,
        updated_at=STARTED,
        restored_at=None,
        customers_out=500,
        areas=["F1"],
        outline=[],
        **fields,
    )


def test_an_outages_description_tells_the_etrs_range() -> None:
    etr = STARTED + timedelta(hours=3)
    alert = _alert(
        etr=etr, etr_earliest=etr - timedelta(minutes=45), etr_latest=etr + timedelta(hours=1)
    )
    assert description(alert, Language.EN, ZONE) == (
        "Since 15:00 on 6 Dec. Expected back around 18:00 on 6 Dec"
        " (likely between 17:15 and 19:00)."
    )


def test_a_crews_etr_is_described_alone() -> None:
    alert = _alert(etr=STARTED + timedelta(hours=3))
    assert description(alert, Language.VI, ZONE).endswith(
        "Dự kiến có điện lại lúc 18:00 ngày 06/12."
    )
