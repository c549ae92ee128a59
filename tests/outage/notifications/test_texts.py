"""Every message renders in Vietnamese and English; SMS stays one plain message."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from outage.care.enums import RequestState, RequestType
from outage.i18n import catalogue
from outage.intake.channels.texts import GSM7_BASIC, sms_text
from outage.notifications.enums import DeliveryChannel
from outage.notifications.texts import TEMPLATED, Facts, RequestFacts, Unrenderable, render
from outage.outbox.enums import EventKind
from outage.storms.enums import EtrScope

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FACTS = Facts(
    etr=datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
    etr_earliest=datetime(2026, 3, 1, 9, 45, tzinfo=UTC),
    etr_latest=datetime(2026, 3, 1, 11, 30, tzinfo=UTC),
    starts_at=datetime(2026, 3, 5, 1, 0, tzinfo=UTC),
    ends_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
    link="https://outage.example.com/n/" + "x" * 22,
    cause="third_party_damage",
    area="FEEDER-WITH-A-LONG-NAME",
    ticket="261206-ABCDEF",
    restored_at=datetime(2026, 3, 1, 11, 45, tzinfo=UTC),
    request=RequestFacts(
        ticket="261206-ABCDEF", type="meter_check", state="in_progress", reason=None
    ),
)


@pytest.mark.parametrize("kind", TEMPLATED)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_sms_is_one_plain_message(kind: EventKind, language: str) -> None:
    sms = render(kind, language, DeliveryChannel.SMS, FACTS, ZONE)
    assert 0 < len(sms.body) <= 160
    assert set(sms.body) <= set(GSM7_BASIC)
    assert sms.subject


@pytest.mark.parametrize("state", list(RequestState))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_request_update_says_its_state_and_ticket_in_one_whole_sms(
    state: RequestState, language: str
) -> None:
    request = RequestFacts(
        ticket="261206-ABCDEF",
        type=RequestType.CHANGE_OF_CONTRACT_HOLDER.value,
        state=state.value,
        reason="duplicate" if state is RequestState.REJECTED else None,
    )
    facts = Facts(link="https://outage.example.com/request/261206-ABCDEF", request=request)
    sms = render(EventKind.REQUEST_UPDATE, language, DeliveryChannel.SMS, facts, ZONE)
    assert "261206-ABCDEF" in sms.body and "261206-ABCDEF" in sms.subject
    assert not sms.body.endswith("..."), "cut short"


@pytest.mark.parametrize("kind", [EventKind.ETR_SET, EventKind.CREW_ON_SITE])
def test_times_are_shown_in_local_time(kind: EventKind) -> None:
    assert "17:30" in render(kind, "vi", DeliveryChannel.SMS, FACTS, ZONE).body


def test_each_language_speaks_its_own() -> None:
    vietnamese = render(EventKind.RESTORED, "vi", DeliveryChannel.WEBHOOK, FACTS, ZONE)
    english = render(EventKind.RESTORED, "en", DeliveryChannel.WEBHOOK, FACTS, ZONE)
    assert "điện" in vietnamese.body and "power" in english.body.lower()


def test_an_email_escapes_what_it_shows() -> None:
    facts = Facts(link='https://outage.example.com/n/"><script>')
    email = render(EventKind.RESTORED, "en", DeliveryChannel.EMAIL, facts, ZONE)
    assert "<script>" not in email.body and "&lt;script&gt;" in email.body


def test_a_safety_message_warns() -> None:
    warning = render(EventKind.OUTAGE_DETECTED, "en", DeliveryChannel.SMS, Facts(safety=True), ZONE)
    assert "10 m" in warning.body


def test_a_time_local_time_cannot_hold_is_refused_as_unrenderable() -> None:
    far = Facts(etr=datetime(9999, 12, 31, 20, 0, tzinfo=UTC))
    with pytest.raises(Unrenderable, match="cannot be shown in local time"):
        render(EventKind.ETR_SET, "vi", DeliveryChannel.SMS, far, ZONE)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_power_back_by_switching_says_so_with_the_repairs_etr(language: str) -> None:
    facts = Facts(switching=True, etr=FACTS.etr)
    sms = render(EventKind.RESTORED, language, DeliveryChannel.SMS, facts, ZONE)
    plain = render(EventKind.RESTORED, language, DeliveryChannel.SMS, Facts(), ZONE)
    assert "17:30" in sms.body and sms.body != plain.body
    assert len(sms.body) <= 160 and set(sms.body) <= set(GSM7_BASIC)


@pytest.mark.parametrize("kind", TEMPLATED)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_sms_with_every_fact_is_not_cut_short(kind: EventKind, language: str) -> None:
    for facts in (FACTS, replace(FACTS, switching=True)):
        assert "..." not in render(kind, language, DeliveryChannel.SMS, facts, ZONE).body


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_earlier_etr_carries_no_apology(language: str) -> None:
    later = replace(FACTS, previous_etr=FACTS.etr - timedelta(hours=1))
    earlier = replace(FACTS, previous_etr=FACTS.etr + timedelta(hours=1))
    apology = {"vi": "Xin loi", "en": "Sorry"}[language]
    assert apology in render(EventKind.ETR_CHANGED, language, DeliveryChannel.SMS, later, ZONE).body
    good = render(EventKind.ETR_CHANGED, language, DeliveryChannel.SMS, earlier, ZONE).body
    assert apology not in good and "17:30" in good


@pytest.mark.parametrize(
    ("language", "written"), [("vi", "17:30 ngay 01/03"), ("en", "17:30 on 1 Mar")]
)
def test_each_language_writes_a_date_one_unambiguous_way(language: str, written: str) -> None:
    for kind in (EventKind.OUTAGE_DETECTED, EventKind.ETR_SET, EventKind.CREW_ON_SITE):
        assert written in render(kind, language, DeliveryChannel.SMS, FACTS, ZONE).body


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_unknown_cause_is_not_mentioned(language: str) -> None:
    unknown = replace(FACTS, cause="unknown", etr_earliest=None, etr_latest=None)  # no range
    sms = render(EventKind.OUTAGE_DETECTED, language, DeliveryChannel.SMS, unknown, ZONE)
    assert "(" not in sms.body


@pytest.mark.parametrize(("language", "asked"), [("vi", "Tra loi 1"), ("en", "Reply 1")])
def test_power_back_by_switching_asks_if_still_out_in_one_sms(language: str, asked: str) -> None:
    facts = replace(FACTS, switching=True)
    sms = render(EventKind.RESTORED, language, DeliveryChannel.SMS, facts, ZONE).body
    assert asked in sms and "..." not in sms and len(sms) <= 160


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("vi", "17:30 ngày 01/03 (nhiều khả năng trong khoảng 16:45 đến 18:30)"),
        ("en", "17:30 on 1 Mar (likely between 16:45 and 18:30)"),
    ],
)
def test_a_message_tells_the_etrs_range(language: str, said: str) -> None:
    assert said in render(EventKind.ETR_SET, language, DeliveryChannel.WEBHOOK, FACTS, ZONE).body


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_sms_tells_the_etrs_range_in_few_words(language: str) -> None:
    sms = render(EventKind.ETR_SET, language, DeliveryChannel.SMS, FACTS, ZONE)
    assert "(16:45-18:30)" in sms.body


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_crews_etr_is_told_without_a_range(language: str) -> None:
    crews = replace(FACTS, etr_earliest=None, etr_latest=None)
    body = render(EventKind.ETR_SET, language, DeliveryChannel.WEBHOOK, crews, ZONE).body
    assert "17:30" in body and "16:45" not in body


@pytest.mark.parametrize(
    ("language", "promise"),
    [("vi", "Chúng tôi sẽ gửi thời gian mới"), ("en", "We will send you a new one")],
)
def test_a_withdrawal_sms_keeps_its_promise_of_a_new_time(language: str, promise: str) -> None:
    stop = sms_text(catalogue("notifications", language)["sms.stop"])
    for month in range(1, 13):  # every month's name, on a two-digit day
        told = datetime(2026, month, 28, 10, 30, tzinfo=UTC)
        facts = replace(FACTS, etr=None, assessing_damage=True, previous_etr=told)
        sms = render(EventKind.ETR_CHANGED, language, DeliveryChannel.SMS, facts, ZONE).body
        assert sms.endswith(f"{sms_text(promise)}. {stop}"), sms
        assert "..." not in sms and "17:30 " in sms


@pytest.mark.parametrize("kind", [EventKind.ETR_SET, EventKind.ETR_CHANGED])
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_time_message_while_damage_is_assessed_gives_no_time(
    kind: EventKind, language: str
) -> None:
    facts = replace(FACTS, etr=None, etr_earliest=None, etr_latest=None, assessing_damage=True)
    for channel in (DeliveryChannel.SMS, DeliveryChannel.WEBHOOK):
        body = render(kind, language, channel, facts, ZONE).body
        assert "None" not in body and "17:30" not in body


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_sms_too_long_leaves_out_the_cause_and_keeps_the_ticket_whole(language: str) -> None:
    facts = replace(FACTS, etr_scope=EtrScope.STORM)
    sms = render(EventKind.OUTAGE_DETECTED, language, DeliveryChannel.SMS, facts, ZONE).body
    cause = catalogue("crew", language)["cause.third_party_damage"]
    assert "..." not in sms and "261206-ABCDEF" in sms
    assert sms_text(cause) not in sms


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_sms_that_fits_keeps_its_cause(language: str) -> None:
    facts = replace(FACTS, area="F1", ticket=None, etr=None, etr_earliest=None, etr_latest=None)
    sms = render(EventKind.OUTAGE_DETECTED, language, DeliveryChannel.SMS, facts, ZONE).body
    assert sms_text(catalogue("crew", language)["cause.third_party_damage"]) in sms


@pytest.mark.parametrize("escalated", [False, True])
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_handover_names_the_team_in_one_whole_sms(language: str, escalated: bool) -> None:
    request = RequestFacts(
        ticket="261206-ABCDEF",
        type=RequestType.METER_CHECK.value,
        state=RequestState.IN_PROGRESS.value,
        reason=None,
        team="Metering team 2",
        escalated=escalated,
    )
    facts = Facts(link="https://outage.example.com/request/261206-ABCDEF", request=request)
    sms = render(EventKind.REQUEST_UPDATE, language, DeliveryChannel.SMS, facts, ZONE)
    assert "261206-ABCDEF" in sms.body and "Metering team 2" in sms.body
    assert not sms.body.endswith("..."), "cut short"
    assert set(sms.body) <= set(GSM7_BASIC)
