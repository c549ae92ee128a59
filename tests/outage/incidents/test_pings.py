"""What the meters asked about incidents answered, per transformer."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from outage.incidents.pings import PingCounts, TransformerPings, incident_pings
from outage.intake.enums import PingReason, PingState

from .conftest import Meter, Places, add_ping, statements

OpenOn = Callable[..., int]
Metered = dict[str, list[Meter]]

S = PingState


def _two_transformers(metered: Metered) -> tuple[str, str]:
    first, second = [t for t, meters in metered.items() if len(meters) >= 3][:2]
    return first, second


def test_meters_are_counted_per_transformer_by_their_answer(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    incident = open_on(session, places.fuses[0])
    one, two = _two_transformers(metered)
    for meter, state in zip(metered[one], (S.ON, S.ON, S.OFF), strict=False):
        add_ping(session, incident, meter, state)
    for meter, state in zip(metered[two], (S.NO_ANSWER, S.PENDING, S.PENDING), strict=False):
        add_ping(session, incident, meter, state)

    found = incident_pings(session, [incident])[incident]

    assert [(t.transformer, t.counts) for t in found.transformers] == [
        (one, PingCounts(on=2, off=1)),
        (two, PingCounts(silent=1, pending=2)),
    ]
    assert found.counts == PingCounts(on=2, off=1, silent=1, pending=2)


def test_the_newest_answer_is_the_latest_on_or_off_not_a_silence(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    incident = open_on(session, places.fuses[0])
    one, _ = _two_transformers(metered)
    now = datetime.now(UTC).replace(microsecond=0)
    add_ping(session, incident, metered[one][0], S.OFF, answered_at=now - timedelta(minutes=5))
    add_ping(session, incident, metered[one][1], S.ON, answered_at=now - timedelta(minutes=3))
    add_ping(session, incident, metered[one][2], S.NO_ANSWER, answered_at=now)

    [transformer] = incident_pings(session, [incident])[incident].transformers

    assert transformer.last_answer_at == now - timedelta(minutes=3)


def test_a_transformer_whose_meters_all_wait_has_no_answer_time(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    incident = open_on(session, places.fuses[0])
    one, _ = _two_transformers(metered)
    add_ping(session, incident, metered[one][0], S.PENDING, reason=PingReason.MANUAL)

    found = incident_pings(session, [incident])[incident]

    assert found.transformers == (
        TransformerPings(one, PingCounts(pending=1), None, (PingReason.MANUAL,)),
    )
    assert found.last_answer_at is None


def test_a_meter_asked_again_counts_once_by_its_latest_ping(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    incident = open_on(session, places.fuses[0])
    one, _ = _two_transformers(metered)
    meter = metered[one][0]
    early = datetime.now(UTC) - timedelta(hours=1)
    add_ping(session, incident, meter, S.OFF, asked_at=early)
    add_ping(session, incident, meter, S.ON, reason=PingReason.RESTORATION)

    found = incident_pings(session, [incident])[incident]

    assert found.counts == PingCounts(on=1)
    assert found.reasons == (PingReason.RESTORATION,)


def test_the_reasons_are_listed_once_in_their_order(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    incident = open_on(session, places.fuses[0])
    one, two = _two_transformers(metered)
    add_ping(session, incident, metered[one][0], S.ON, reason=PingReason.MANUAL)
    add_ping(session, incident, metered[one][1], S.ON, reason=PingReason.VERIFY_INCIDENT)
    add_ping(session, incident, metered[two][0], S.OFF, reason=PingReason.MANUAL)

    found = incident_pings(session, [incident])[incident]

    assert found.reasons == (PingReason.VERIFY_INCIDENT, PingReason.MANUAL)
    assert [t.reasons for t in found.transformers] == [
        (PingReason.VERIFY_INCIDENT, PingReason.MANUAL),
        (PingReason.MANUAL,),
    ]


def test_several_incidents_are_read_in_one_query(
    session: Session, places: Places, open_on: OpenOn, metered: Metered
) -> None:
    one, two = _two_transformers(metered)
    first = open_on(session, places.fuses[0])
    second = open_on(session, places.fuses[2])
    silent = open_on(session, places.fuses[3])
    add_ping(session, first, metered[one][0], S.ON)
    add_ping(session, second, metered[two][0], S.OFF)
    add_ping(session, second, metered[two][1], S.PENDING)

    with statements(session) as seen:
        found = incident_pings(session, [first, second, silent])

    assert len(seen) == 1
    assert {i: p.counts for i, p in found.items()} == {
        first: PingCounts(on=1),
        second: PingCounts(off=1, pending=1),
    }


def test_no_incidents_ask_nothing(session: Session) -> None:
    with statements(session) as seen:
        assert incident_pings(session, []) == {}
    assert seen == []
