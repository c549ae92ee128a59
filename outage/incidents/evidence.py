"""Evidence of an incident: `EvidenceRef`, the prediction engine's name for a report, meter
event or SCADA event, and attaching it to or detaching it from an incident (for the
engine's changes).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, Integer, Table, any_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from outage.incidents.enums import EvidenceSource
from outage.incidents.errors import UnknownAsset
from outage.incidents.models import IncidentEvidence
from outage.intake.models import MeterEvent, Report, ScadaEvent


@dataclass(frozen=True)
class EvidenceRef:
    """One report, meter event or SCADA event, by id: `EvidenceRef.report(42)`."""

    source: EvidenceSource
    id: int

    @classmethod
    def report(cls, report_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.REPORT, report_id)

    @classmethod
    def meter_event(cls, meter_event_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.METER_EVENT, meter_event_id)

    @classmethod
    def scada_event(cls, scada_event_id: int) -> "EvidenceRef":
        return cls(EvidenceSource.SCADA_EVENT, scada_event_id)


_EVIDENCE_COLUMN = {
    EvidenceSource.REPORT: IncidentEvidence.report_id,
    EvidenceSource.METER_EVENT: IncidentEvidence.meter_event_id,
    EvidenceSource.SCADA_EVENT: IncidentEvidence.scada_event_id,
}
_EVIDENCE_ROWS = cast(Table, IncidentEvidence.__table__)

_EVIDENCE_TABLE: dict[EvidenceSource, Any] = {
    EvidenceSource.REPORT: Report,
    EvidenceSource.METER_EVENT: MeterEvent,
    EvidenceSource.SCADA_EVENT: ScadaEvent,
}


def _by_source(evidence: Iterable[EvidenceRef]) -> dict[EvidenceSource, list[int]]:
    grouped: dict[EvidenceSource, set[int]] = {}
    for item in evidence:
        grouped.setdefault(item.source, set()).add(item.id)
    return {source: sorted(ids) for source, ids in grouped.items()}


def _add_evidence(
    session: Session, incident_id: int, evidence: Iterable[EvidenceRef]
) -> dict[str, list[int]]:
    """Attach evidence (again is harmless); reports point to the incident. Returns what is new."""
    return _add_evidence_to_many(session, {incident_id: evidence}).get(incident_id, {})


def _add_evidence_to_many(
    session: Session, evidence: Mapping[int, Iterable[EvidenceRef]]
) -> dict[int, dict[str, list[int]]]:
    """`_add_evidence` for many incidents in a few statements (a storm's openings carry a
    hundred thousand references): incident -> what is new to it, by source."""
    grouped = {incident_id: _by_source(refs) for incident_id, refs in evidence.items()}
    pairs: dict[EvidenceSource, tuple[list[int], list[int]]] = {}
    for incident_id, by_source in grouped.items():
        for source, ids in by_source.items():
            incidents, wanted = pairs.setdefault(source, ([], []))
            incidents.extend([incident_id] * len(ids))
            wanted.extend(ids)
    added: dict[int, dict[str, list[int]]] = {}
    for source, (incidents, ids) in pairs.items():
        _require_known(session, source, ids)
        column = _EVIDENCE_COLUMN[source].key
        rows = (
            func.unnest(literal(incidents, ARRAY(Integer)), literal(ids, ARRAY(BigInteger)))
            .table_valued("incident_id", "ref_id")
            .render_derived()
        )
        new = session.execute(  # the table, not the entity: plain rows back, no ORM objects
            insert(_EVIDENCE_ROWS)
            .from_select(["incident_id", column], select(rows.c.incident_id, rows.c.ref_id))
            .on_conflict_do_nothing()
            .returning(_EVIDENCE_ROWS.c.incident_id, _EVIDENCE_ROWS.c[column])
        ).all()
        for incident_id, ref_id in sorted(new):
            added.setdefault(incident_id, {}).setdefault(source.value, []).append(ref_id)
        if source is EvidenceSource.REPORT:
            _point_reports(session, dict(zip(ids, incidents, strict=True)))
    return added


def _require_known(session: Session, source: EvidenceSource, ids: list[int]) -> None:
    table = _EVIDENCE_TABLE[source]
    unique = sorted(set(ids))
    wanted = literal(unique, ARRAY(BigInteger))  # one parameter, however many
    known = session.scalar(select(func.count()).select_from(table).where(table.id == any_(wanted)))
    if known != len(unique):
        found = set(session.scalars(select(table.id).where(table.id == any_(wanted))))
        missing = ", ".join(map(str, sorted(set(unique) - found)))
        raise UnknownAsset(f"no {source.value} with id {missing}")


def _point_reports(session: Session, pointed: Mapping[int, int]) -> None:
    """Reports -> the incident each now points to, in one statement."""
    if not pointed:
        return
    rows = (
        func.unnest(
            literal(list(pointed), ARRAY(BigInteger)),
            literal(list(pointed.values()), ARRAY(Integer)),
        )
        .table_valued("report_id", "incident_id")
        .render_derived()
    )
    session.execute(
        update(Report)
        .where(
            Report.id == rows.c.report_id,
            Report.incident_id.is_distinct_from(rows.c.incident_id),
        )
        .values(incident_id=rows.c.incident_id)
        .execution_options(synchronize_session="fetch")
    )


def _remove_evidence(
    session: Session, incident_id: int, evidence: Iterable[EvidenceRef]
) -> dict[str, list[int]]:
    """Detach evidence; reports that pointed here point nowhere. Returns what was removed."""
    removed: dict[str, list[int]] = {}
    for source, ids in _by_source(evidence).items():
        column = _EVIDENCE_COLUMN[source]
        gone = session.scalars(
            delete(IncidentEvidence)
            .where(IncidentEvidence.incident_id == incident_id, column.in_(ids))
            .returning(column)
        ).all()
        if gone:
            removed[source.value] = sorted(i for i in gone if i is not None)
        if source is EvidenceSource.REPORT:
            session.execute(
                update(Report)
                .where(Report.id.in_(ids), Report.incident_id == incident_id)
                .values(incident_id=None)
            )
    return removed
