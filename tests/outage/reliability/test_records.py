"""From an incident's history to its customers' interruption records (pure part)."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from outage.incidents.enums import AuditAction
from outage.incidents.interruptions import IncidentHistory, Step, StepKind, _step, interruptions_of
from outage.reliability.indices import InterruptionRecord, merge_overlaps, saidi, saifi

T0 = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)
A = frozenset({"A1", "A2", "A3", "A4"})
B = frozenset({"B1", "B2", "B3"})


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def history(accounts: frozenset[str], *steps: Step, event: str = "incident/1") -> IncidentHistory:
    return IncidentHistory(event=event, started_at=T0, accounts=accounts, steps=steps)


def ends(records: Iterable[InterruptionRecord]) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = {}
    for record in sorted(records, key=lambda r: r.start):
        found.setdefault(record.customer, []).append(record.end)
    return found


def test_restoration_gives_everyone_the_same_end() -> None:
    records = interruptions_of(history(A, Step(StepKind.RESTORED, at(45))), as_of=LATER)
    assert ends(records) == {c: [at(45)] for c in A}
    assert {(r.start, r.event, r.planned, r.ongoing) for r in records} == {
        (T0, "incident/1", False, False)
    }


def test_partial_restoration_by_device_restores_the_customers_below_it() -> None:
    steps = (
        Step(StepKind.PARTIAL, at(30), accounts=B | {"X9"}),
        Step(StepKind.RESTORED, at(90)),
    )
    records = interruptions_of(history(A | B, *steps), as_of=LATER)
    assert ends(records) == {**{c: [at(30)] for c in B}, **{c: [at(90)] for c in A}}


def test_partial_restoration_by_count_restores_that_many_in_account_order() -> None:
    steps = (Step(StepKind.PARTIAL, at(20), count=2), Step(StepKind.RESTORED, at(80)))
    records = interruptions_of(history(A, *steps), as_of=LATER)
    assert ends(records) == {"A1": [at(20)], "A2": [at(20)], "A3": [at(80)], "A4": [at(80)]}
    # the customer minutes do not depend on which customers the stand-in picks
    assert saidi(records, 10) == pytest.approx((2 * 20 + 2 * 80) / 10)


def test_a_setback_puts_the_restored_customers_out_again() -> None:
    steps = (
        Step(StepKind.PARTIAL, at(30), accounts=B),
        Step(StepKind.SETBACK, at(50)),
        Step(StepKind.RESTORED, at(120)),
    )
    records = interruptions_of(history(A | B, *steps), as_of=LATER)
    assert ends(records)["B1"] == [at(30), at(120)]
    assert [r.start for r in records if r.customer == "B1"] == [T0, at(50)]
    assert ends(records)["A1"] == [at(120)]
    assert saifi(records, 10) == pytest.approx((4 + 3 + 3) / 10)


def test_a_reopened_incident_interrupts_everyone_again() -> None:
    steps = (
        Step(StepKind.RESTORED, at(10)),
        Step(StepKind.SETBACK, at(20)),
        Step(StepKind.RESTORED, at(60)),
    )
    records = interruptions_of(history(A, *steps), as_of=LATER)
    assert ends(records) == {c: [at(10), at(60)] for c in A}


def test_an_active_incident_keeps_its_customers_out_until_now() -> None:
    now = at(40)
    records = interruptions_of(history(A, Step(StepKind.PARTIAL, at(10), count=1)), as_of=now)
    ongoing = [r for r in records if r.ongoing]
    assert {r.customer for r in ongoing} == {"A2", "A3", "A4"}
    assert {r.end for r in ongoing} == {now}


def test_a_nested_incident_keeps_its_customers_out_until_it_is_restored() -> None:
    parent = history(A | B, Step(StepKind.RESTORED, at(60)), event="incident/5")
    nested = history(B, Step(StepKind.RESTORED, at(180)), event="incident/6")
    records = merge_overlaps(
        interruptions_of(parent, as_of=LATER) + interruptions_of(nested, as_of=LATER)
    )
    assert ends(records) == {**{c: [at(60)] for c in A}, **{c: [at(180)] for c in B}}
    assert {r.event for r in records} == {"incident/5"}
    assert saidi(records, 10) == pytest.approx((4 * 60 + 3 * 180) / 10)


def test_planned_incidents_make_planned_records() -> None:
    planned = IncidentHistory(
        event="planned/3",
        started_at=T0,
        accounts=A,
        steps=(Step(StepKind.RESTORED, at(240)),),
        planned=True,
    )
    assert all(r.planned for r in interruptions_of(planned, as_of=LATER))


def test_customers_switched_back_within_five_minutes_had_a_momentary_interruption() -> None:
    steps = (Step(StepKind.PARTIAL, at(3), accounts=B), Step(StepKind.RESTORED, at(90)))
    records = interruptions_of(history(A | B, *steps), as_of=LATER)
    assert {r.customer for r in records if r.momentary} == B
    assert saifi(records, 10) == pytest.approx(len(A) / 10)
    assert saidi(records, 10) == pytest.approx(len(A) * 90 / 10)


def test_a_restoration_by_switching_that_names_its_customers_restores_exactly_them() -> None:
    details = {"at": at(20).isoformat(), "by": "switching", "restored_customers": 2}
    step = _step(
        AuditAction.PARTIALLY_RESTORED,
        None,
        at(20),
        {**details, "accounts": ["A3", "A4"]},
        lambda device, moment: frozenset(),
    )
    assert step is not None and step.accounts == frozenset({"A3", "A4"})
