"""Settings read from the environment."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from outage.care.enums import RequestType
from outage.care.sla import DEFAULT_TARGETS
from outage.settings import Settings


def test_local_time_is_vietnam_unless_configured() -> None:
    assert Settings().local_timezone == ZoneInfo("Asia/Ho_Chi_Minh")


def test_local_timezone_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_LOCAL_TIMEZONE", "Asia/Tokyo")
    assert Settings().local_timezone == ZoneInfo("Asia/Tokyo")


def test_an_unknown_timezone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_LOCAL_TIMEZONE", "Asia/Atlantis")
    with pytest.raises(ValidationError, match="local_timezone"):
        Settings()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("duplicate_window_hours", timedelta(hours=12)),
        ("incident_window_hours", timedelta(hours=4)),
        ("event_max_age_hours", timedelta(days=7)),
        ("session_hours", timedelta(hours=12)),
        ("token_hours", timedelta(hours=12)),
        ("login_max_delay_seconds", timedelta(minutes=5)),
        ("login_window_minutes", timedelta(minutes=15)),
        ("map_cache_seconds", timedelta(seconds=15)),
        ("map_poll_seconds", timedelta(seconds=10)),
        ("notify_lease_seconds", timedelta(minutes=2)),
        ("notify_backoff_seconds", timedelta(seconds=30)),
        ("notify_backoff_max_seconds", timedelta(hours=1)),
        ("notify_etr_interval_minutes", timedelta(minutes=30)),
        ("notify_first_etr_wait_minutes", timedelta(minutes=3)),
        ("notify_etr_change_minutes", timedelta(minutes=15)),
        ("notify_planned_days", timedelta(days=5)),
        ("notify_reminder_hours", timedelta(hours=24)),
        ("retention_days", timedelta(days=365)),
        ("dispatch_time_limit_s", timedelta(seconds=5)),
        ("dispatch_replan_s", timedelta(seconds=30)),
        ("dispatch_plan_max_age_minutes", timedelta(minutes=15)),
        ("dispatch_position_max_age_minutes", timedelta(hours=1)),
    ],
)
def test_a_duration_defaults_to_what_it_always_was(name: str, expected: timedelta) -> None:
    assert getattr(Settings(), name) == expected


@pytest.mark.parametrize(
    ("variable", "value", "name", "expected"),
    [
        ("OUTAGE_SESSION_HOURS", "8", "session_hours", timedelta(hours=8)),
        ("OUTAGE_LOGIN_WINDOW_MINUTES", "2.5", "login_window_minutes", timedelta(seconds=150)),
        ("OUTAGE_NOTIFY_LEASE_SECONDS", "90", "notify_lease_seconds", timedelta(seconds=90)),
        ("OUTAGE_NOTIFY_PLANNED_DAYS", "2", "notify_planned_days", timedelta(days=2)),
        ("OUTAGE_RETENTION_DAYS", "30", "retention_days", timedelta(days=30)),
        ("OUTAGE_DISPATCH_REPLAN_S", "45", "dispatch_replan_s", timedelta(seconds=45)),
    ],
)
def test_a_duration_in_the_environment_is_in_the_unit_its_name_says(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, name: str, expected: timedelta
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(Settings(), name) == expected


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("OUTAGE_SESSION_HOURS", "-1", "not below 0"),
        ("OUTAGE_DUPLICATE_WINDOW_HOURS", "-0.5", "not below 0"),
        ("OUTAGE_NOTIFY_LEASE_SECONDS", "0", "greater than 0"),
        ("OUTAGE_LOGIN_WINDOW_MINUTES", "0", "greater than 0"),
        ("OUTAGE_EVENT_MAX_AGE_HOURS", "soon", "expected a number of hours"),
        ("OUTAGE_RETENTION_DAYS", "0", "greater than 0"),
        ("OUTAGE_RETENTION_DAYS", "1.5", "expected a whole number of days"),
        ("OUTAGE_DISPATCH_TIME_LIMIT_S", "61", "less than or equal to 1 minute"),
    ],
)
def test_a_bad_duration_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=complaint) as refused:
        Settings()
    assert refused.value.errors()[0]["loc"] == (variable.removeprefix("OUTAGE_").lower(),)


def test_zero_is_allowed_where_it_means_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_NOTIFY_FIRST_ETR_WAIT_MINUTES", "0")
    assert Settings().notify_first_etr_wait_minutes == timedelta(0)


def test_care_targets_in_the_environment_are_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_CARE_SLA_HOURS", '{"meter_check": 6}')
    targets = Settings().care_sla_hours
    assert targets[RequestType.METER_CHECK] == timedelta(hours=6)
    assert RequestType.NEW_CONNECTION not in targets
    assert DEFAULT_TARGETS[RequestType.NEW_CONNECTION] == timedelta(hours=72)


def test_a_care_target_of_no_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_CARE_SLA_HOURS", '{"meter_check": 0}')
    with pytest.raises(ValidationError, match="greater than") as refused:
        Settings()
    assert refused.value.errors()[0]["loc"] == ("care_sla_hours", "meter_check")


def test_dumped_settings_read_back_the_same() -> None:
    configured = Settings(session_hours=8, notify_lease_seconds=90, local_timezone="Asia/Tokyo")
    dumped = configured.model_dump(mode="json")
    assert (dumped["session_hours"], dumped["notify_lease_seconds"]) == (8.0, 90.0)
    assert dumped["local_timezone"] == "Asia/Tokyo"
    assert Settings.model_validate(dumped) == configured


def test_engine_regions_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_ENGINE_REGIONS", '{"1": ["North"], "2": ["South", "Port"]}')
    assert Settings().engine_regions == {1: ["North"], 2: ["South", "Port"]}


def test_an_engine_region_numbered_0_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_ENGINE_REGIONS", '{"0": ["North"]}')
    with pytest.raises(ValidationError, match="region 0 holds the rest"):
        Settings()


def test_a_substation_in_two_engine_regions_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTAGE_ENGINE_REGIONS", '{"1": ["North"], "2": ["North"]}')
    with pytest.raises(ValidationError, match="'North' in two regions"):
        Settings()
