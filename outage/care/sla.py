"""Service-level targets of requests: when one is due, how it stands, how old open work is.

Pure: no database, no HTTP. Targets are in calendar hours, counted from when the request
was received, nights, weekends and holidays included, and the clock does not stop while
we wait for the customer: a customer-care centre works around the clock, and a target a
customer can read ("within 48 hours") should not need a calendar to understand.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from outage.care.enums import RequestType, SlaStanding

AT_RISK_SHARE = 0.2
"""An open request with less than this share of its target time left is at risk."""


def due_at(received_at: datetime, target: timedelta) -> datetime:
    return received_at + target


DEFAULT_TARGETS: dict[RequestType, timedelta] = {
    RequestType.NEW_CONNECTION: timedelta(hours=72),
    RequestType.METER_RELOCATION: timedelta(hours=120),
    RequestType.CHANGE_OF_CONTRACT_HOLDER: timedelta(hours=72),
    RequestType.CHANGE_OF_TARIFF_QUOTA: timedelta(hours=72),
    RequestType.METER_CHECK: timedelta(hours=48),
    RequestType.BILLING_QUESTION: timedelta(hours=48),
    RequestType.ELECTRICITY_SAFETY: timedelta(hours=24),
    RequestType.SERVICE_FEEDBACK: timedelta(hours=120),
    RequestType.CONNECTION_CHECK: timedelta(hours=24),
}
"""Time to close each type, when the settings (`OUTAGE_CARE_SLA_HOURS`) name none."""


def target_of(targets: Mapping[str, timedelta], request_type: RequestType) -> timedelta:
    """The configured target of a type, else its default: a partial setting overrides some."""
    return targets.get(request_type, DEFAULT_TARGETS[request_type])


def check_targets(targets: Mapping[str, timedelta]) -> None:
    """Refuse configured targets of types there are none of: the settings hold them as
    plain names (they know nothing of care), and a misspelt one would go unnoticed."""
    unknown = sorted(set(targets) - set(RequestType))
    if unknown:
        known = ", ".join(RequestType)
        raise ValueError(f"care_sla_hours names no request type {unknown}; the types: {known}")


def standing(
    *, received_at: datetime, due: datetime, now: datetime, closed_at: datetime | None = None
) -> SlaStanding:
    """Met or missed once closed; else breached past due, at risk near it, on track before."""
    if closed_at is not None:
        return SlaStanding.MET if closed_at <= due else SlaStanding.MISSED
    if now > due:
        return SlaStanding.BREACHED
    if due - now < (due - received_at) * AT_RISK_SHARE:
        return SlaStanding.AT_RISK
    return SlaStanding.ON_TRACK


@dataclass(frozen=True)
class AgeBucket:
    key: str
    """Names the bucket in the pages' catalogue (`age.<key>`)."""
    upper: timedelta | None
    """Requests younger than this fall in the bucket; None: no upper bound."""


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("under_1d", timedelta(days=1)),
    AgeBucket("1_3d", timedelta(days=3)),
    AgeBucket("3_7d", timedelta(days=7)),
    AgeBucket("7_30d", timedelta(days=30)),
    AgeBucket("over_30d", None),
)
"""From youngest to oldest; every age falls in exactly one."""


def age_bucket(age: timedelta) -> AgeBucket:
    for bucket in AGE_BUCKETS:
        if bucket.upper is None or age < bucket.upper:
            return bucket
    raise AssertionError("the last bucket has no upper bound")


def age_histogram(received: Iterable[datetime], now: datetime) -> list[tuple[AgeBucket, int]]:
    """How many open requests fall in each age bucket, every bucket listed."""
    counts = Counter(age_bucket(now - moment).key for moment in received)
    return [(bucket, counts.get(bucket.key, 0)) for bucket in AGE_BUCKETS]


def compliance(met: int, closed: int) -> float | None:
    """The share of closed requests closed within target; None when none were closed."""
    return met / closed if closed else None
