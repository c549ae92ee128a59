"""Finding a caller among our customers: by account, by phone number, or by address.

The lookup is a sequence, like geocoding: an exact account number first, then the phone
number in any format a caller reads it out, then a fuzzy, accent-blind address search.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage import clock
from outage.agent.schemas import CustomerOut, LookupKind, OpenReportOut, PremiseOut
from outage.care import service as care
from outage.care.schemas import RequestOut
from outage.grid.models import Customer, Device, Feeder, GridNode, Premise
from outage.incidents.enums import IncidentKind
from outage.incidents.lifecycle import ACTIVE, IncidentStatus
from outage.incidents.models import Incident
from outage.intake.enums import ReportOutcome, ReportStatus
from outage.intake.geocode import ADDRESS_MIN_SCORE, search_query
from outage.intake.models import Report
from outage.intake.phones import InvalidPhone, to_e164
from outage.storms import service as storms
from outage.storms.enums import EtrScope

MAX_CUSTOMERS = 20
MAX_OPEN_REPORTS = 10

INSIDE_SHOWN = timedelta(days=2)
"""A report closed as inside the premise stays beside the open ones this long: the caller
may ring back for the service visit it offered."""
"""Per customer; older open reports are still in the review queue."""


@dataclass(frozen=True)
class _Found:
    kind: LookupKind
    customer_ids: list[int]


def find_customers(
    session: Session, *, query: str, kind: LookupKind | None = None, limit: int = MAX_CUSTOMERS
) -> list[CustomerOut]:
    """Up to `limit` customers the query names; `kind` restricts it to one way of looking."""
    text = query.strip()
    if not text:
        return []
    kinds = [kind] if kind else list(LookupKind)
    for attempt in kinds:
        found = _FINDERS[attempt](session, text, limit)
        if found:
            return _customers(session, _Found(attempt, found))
    return []


def _by_account(session: Session, text: str, limit: int) -> list[int]:
    return list(session.scalars(select(Customer.id).where(Customer.account == text).limit(1)))


def _by_phone(session: Session, text: str, limit: int) -> list[int]:
    try:
        phone = to_e164(text)
    except InvalidPhone:
        return []
    return list(
        session.scalars(
            select(Customer.id)
            .where(Customer.phone == phone)
            .order_by(Customer.account)
            .limit(limit)
        )
    )


def _by_address(session: Session, text: str, limit: int) -> list[int]:
    """Best word similarity first; a house number, when typed, ranks its own premises first."""
    query = search_query(text, session)
    if not query:
        return []
    session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(ADDRESS_MIN_SCORE), True))
    )
    score = func.word_similarity(query, Premise.address_search)
    order: list[Any] = [score.desc(), Premise.ref, Customer.account]
    first = query.split()[0]
    if first.isdigit():
        house_number = func.split_part(Premise.address_search, " ", 1)
        order.insert(0, case((house_number == first, 0), else_=1))
    return list(
        session.scalars(
            select(Customer.id)
            .join(Premise, Premise.id == Customer.premise_id)
            .where(literal(query).op("<%")(Premise.address_search))
            .order_by(*order)
            .limit(limit)
        )
    )


_FINDERS = {
    LookupKind.ACCOUNT: _by_account,
    LookupKind.PHONE: _by_phone,
    LookupKind.ADDRESS: _by_address,
}


def _customers(session: Session, found: _Found) -> list[CustomerOut]:
    """The customers with their premise and open reports, in the order they were found."""
    rows = session.execute(
        select(Customer, Premise, Device.asset_ref, Feeder.name)
        .join(Premise, Premise.id == Customer.premise_id)
        .outerjoin(Device, Device.id == Premise.transformer_id)
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .where(Customer.id.in_(found.customer_ids))
    ).all()
    by_id = {row[0].id: row for row in rows}
    reports = _open_reports(session, [r[0].id for r in rows], [r[1].id for r in rows])
    result = []
    for customer_id in found.customer_ids:
        customer, premise, transformer, feeder = by_id[customer_id]
        mine = [
            OpenReportOut(
                ticket=r.ticket,
                status=r.status,
                received_at=r.received_at,
                service_code=r.service_code,
                outcome=r.outcome,
            )
            for r in reports
            if r.customer_id == customer.id or r.premise_id == premise.id
        ]
        result.append(
            CustomerOut(
                account=customer.account,
                name=customer.name,
                phone=customer.phone,
                email=customer.email,
                language=customer.language,
                critical=customer.critical,
                premise=PremiseOut(
                    ref=premise.ref, address=premise.address, transformer=transformer, feeder=feeder
                ),
                open_reports=mine[:MAX_OPEN_REPORTS],
                matched_by=found.kind,
            )
        )
    return result


def _open_reports(
    session: Session, customer_ids: Sequence[int], premise_ids: Sequence[int]
) -> list[Report]:
    if not customer_ids:
        return []
    return list(
        session.scalars(
            select(Report)
            .where(
                or_(
                    Report.status != ReportStatus.CLOSED,
                    (Report.outcome == ReportOutcome.INSIDE_PREMISE)
                    & (Report.closed_at >= clock.now() - INSIDE_SHOWN),
                ),
                or_(Report.customer_id.in_(customer_ids), Report.premise_id.in_(premise_ids)),
            )
            .order_by(Report.received_at.desc(), Report.id.desc())
            .limit(MAX_CUSTOMERS * MAX_OPEN_REPORTS)
        )
    )


# --- what else an agent sees of a caller --------------------------------------------------


@dataclass(frozen=True)
class IncidentBrief:
    id: int
    kind: IncidentKind
    status: IncidentStatus
    device: str | None
    started_at: datetime
    etr: datetime | None
    """The time its customers are told: in a storm, what the region's phase allows."""
    etr_earliest: datetime | None
    etr_latest: datetime | None
    """The range the restoration likely falls in; none for a crew's own time."""
    restored_at: datetime | None
    etr_scope: EtrScope = EtrScope.OUTAGE
    """Whose time it is: the outage's own, its area's or the storm's."""
    assessing_damage: bool = False
    """Its region's storm damage is being assessed: its customers are told no time."""


@dataclass(frozen=True)
class PremiseOutages:
    active: list[IncidentBrief]
    """Incidents going on now whose device feeds the premise, or that name it."""
    history: list[IncidentBrief]
    """Outages since the date asked for that did, newest first."""


def outages_at(
    session: Session, *, topology: Topology, premises: Sequence[str], since: datetime
) -> dict[str, PremiseOutages]:
    """For each premise (by ref): the incidents affecting it now, and its recent outages.

    An incident affects a premise when its device lies between the premise and its source
    on the network, when it is the premise's own single-service outage, or when a report
    from the premise is evidence of it.
    """
    rows = session.execute(
        select(Premise.id, Premise.ref, GridNode.ref)
        .join(GridNode, GridNode.id == Premise.node_id)
        .where(Premise.ref.in_(premises))
    ).all()
    upstream = {
        ref: frozenset(topology.upstream_of_node(node).devices)
        if topology.is_energized(node)
        else frozenset()
        for _, ref, node in rows
    }
    premise_ids = {ref: premise_id for premise_id, ref, _ in rows}
    reported = (
        select(Report.premise_id, Report.incident_id)
        .where(Report.premise_id.in_(premise_ids.values()), Report.incident_id.is_not(None))
        .distinct()
    )
    reported_by = {
        (premise_id, incident_id) for premise_id, incident_id in session.execute(reported)
    }
    devices = sorted(set().union(*upstream.values())) if upstream else []
    found = session.execute(
        select(Incident, Device.asset_ref)
        .outerjoin(Device, Device.id == Incident.device_id)
        .where(
            Incident.status != IncidentStatus.CANCELLED,
            or_(Incident.status.in_(sorted(ACTIVE)), Incident.started_at >= since),
            or_(
                Device.asset_ref.in_(devices),
                Incident.premise_id.in_(premise_ids.values()),
                Incident.id.in_({incident_id for _, incident_id in reported_by}),
            ),
        )
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    ).all()
    storm = storms.current(session)
    regions = storms.regions_of(session, (i.feeder_id for i, _ in found)) if storm else {}
    answer = {}
    for ref, premise_id in premise_ids.items():
        mine = [
            _brief(incident, asset_ref, storm, regions)
            for incident, asset_ref in found
            if asset_ref in upstream[ref]
            or incident.premise_id == premise_id
            or (premise_id, incident.id) in reported_by
        ]
        answer[ref] = PremiseOutages(
            active=[i for i in mine if i.status in ACTIVE],
            history=[i for i in mine if i.status not in ACTIVE and i.kind is IncidentKind.OUTAGE],
        )
    return answer


def _brief(
    incident: Incident,
    asset_ref: str | None,
    storm: storms.StormState | None,
    regions: Mapping[int, int],
) -> IncidentBrief:
    """The incident as an agent tells it: the time its customers are told, as the status
    answers give it (`storms.told_time`), so the agent says what the customer reads."""
    told = storms.ToldTime(
        incident.etr, incident.etr_earliest, incident.etr_latest, scope=incident.etr_scope
    )
    if incident.status in ACTIVE and incident.kind is IncidentKind.OUTAGE:
        region = regions.get(incident.feeder_id) if incident.feeder_id is not None else None
        told = storms.told_time(storm, region, told)
    return IncidentBrief(
        id=incident.id,
        kind=incident.kind,
        status=incident.status,
        device=asset_ref,
        started_at=incident.started_at,
        etr=told.etr,
        etr_earliest=told.earliest,
        etr_latest=told.latest,
        restored_at=incident.restored_at,
        etr_scope=told.scope,
        assessing_damage=told.assessing_damage,
    )


def open_requests(session: Session, accounts: Sequence[str]) -> dict[str, list[RequestOut]]:
    """Each customer's open service requests (their own, and any about their premise)."""
    rows = session.execute(
        select(Customer.account, Customer.id, Customer.premise_id).where(
            Customer.account.in_(accounts)
        )
    ).all()
    found = care.requests_of(
        session,
        customer_ids=[customer_id for _, customer_id, _ in rows],
        premise_ids=[premise_id for _, _, premise_id in rows],
    )
    return {
        account: [
            out
            for request_customer, request_premise, out in found
            if request_customer == customer_id or request_premise == premise_id
        ][:MAX_OPEN_REPORTS]
        for account, customer_id, premise_id in rows
    }
