"""The engine role: wake on new evidence, re-predict, and bring the incidents up to date.

Intake commits a report (or a meter or SCADA event) and PostgreSQL notifies the channel
`outage_evidence` (a trigger, migration 0004). The engine, holding an advisory lock so it
is the only one working its region (`outage.prediction.claims`), re-runs the inference
over the region's active evidence and applies the changes in one transaction. A periodic
pass catches anything a lost notification would have missed.

With several regions (`engine_regions`), each engine loads only the network of the
regions it works and reads only their evidence and incidents, so engines side by side
share a storm between them.
"""

import gc
import logging
import select as io_select
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg2
from sqlalchemy import create_engine, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from grid_topology.topology import Topology
from outage import clock, collector
from outage.db import session_factory
from outage.grid.live import LiveTopology, shared_topology
from outage.grid.models import Customer, Device
from outage.grid.regions import Scope, closed_ties
from outage.grid.switching import closed_by_operators
from outage.incidents.changes import (
    Merging,
    Opening,
    PredictionUpdate,
    cancel,
    merge_many,
    open_incident,
    open_incidents,
    open_nested,
    restore,
    update_predictions,
)
from outage.incidents.enums import IncidentKind
from outage.incidents.errors import IncidentConflict
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import IncidentStatus
from outage.incidents.models import Incident, IncidentEvidence
from outage.incidents.queries import ActiveIncident, active_incidents
from outage.prediction.attached import AttachedEvidence
from outage.prediction.claims import Claims, Layouts, claim, settle_now, unworked
from outage.prediction.evidence import EvidenceSet, gather, refed_by_switching
from outage.prediction.hazards import open_hazard
from outage.prediction.inference import (
    SERVICE,
    Evidence,
    EvidenceKind,
    Params,
    Prediction,
    ProtectionIndex,
    infer,
    predict,
)
from outage.prediction.meters import Off, back_at, concurrent, ended, unrecorded
from outage.prediction.pinging import (
    Doubt,
    Pinging,
    ask,
    configured_pinging,
    in_doubt,
    kept_back,
    link,
)
from outage.prediction.reconcile import (
    Cancel,
    Merge,
    Open,
    OpenIncident,
    Update,
    reconcile,
)
from outage.prediction.switching import (
    Interval,
    Known,
    RecordPast,
    RestoreAt,
    SwitchEvent,
    closed_outages,
)
from outage.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "outage_evidence"


@dataclass(frozen=True)
class CycleResult:
    predictions: int
    opened: int
    updated: int
    merged: int
    cancelled: int
    restored: int


class Engine:
    """Holds the oriented network and turns evidence into incidents.

    Built on a `LiveTopology`, it follows switching: each cycle starts on the network as
    operated at that moment. Built on a plain `Topology` (benchmarks), it keeps that one.
    """

    def __init__(
        self,
        topology: Topology,
        *,
        window: timedelta,
        params: Params = Params(),
        live: LiveTopology | None = None,
        pinging: Pinging | None = None,
        scope: Scope | None = None,
    ):
        self.topology = topology
        self.scope = scope
        self.index = ProtectionIndex(topology)
        self.window = window
        self.params = params
        self.live = live
        self.pinging = pinging
        self.attached = AttachedEvidence()

    @classmethod
    def load(cls, session: Session, *, window: timedelta, scope: Scope | None = None) -> "Engine":
        """On the process's network, or on a copy of the scope's network of its own."""
        live = (
            shared_topology(session.get_bind().engine.url) if scope is None else LiveTopology(scope)
        )
        pinging = configured_pinging(get_settings())
        with collector.paused():
            engine = cls(live.get(session), window=window, live=live, pinging=pinging, scope=scope)
            engine.index.prime(engine.index.node_of)  # a storm's first cycles need them all
        return engine

    def run_cycle(self, session: Session, now: datetime | None = None) -> CycleResult:
        """One pass; the caller commits."""
        with collector.paused():
            return self._run_cycle(session, now or clock.now())

    def _run_cycle(self, session: Session, now: datetime) -> CycleResult:
        evidence = gather(session, now=now, window=self.window, scope=self.scope)
        if self.live is not None:
            self._follow(self.live.get(session))
            refed = refed_by_switching(
                self.live.energized(session),
                evidence.last_out,
                closed_by_operators(session, now - self.window),
            )
            evidence.without_outages_of(refed)
        active = self._on_network(
            i for i in active_incidents(session, scope=self.scope) if i.kind is IncidentKind.OUTAGE
        )
        done: set[int] = set()
        for apply in (self._apply_switching, self._apply_meters):
            done |= apply(session, evidence, [i for i in active if i.id not in done])
        active = [i for i in active if i.id not in done]
        current = [
            OpenIncident(
                id=i.id,
                device=i.device or (i.accounts[0] if i.accounts else None),
                accounts=self.index.accounts(i.device) if i.device else frozenset(i.accounts),
                status=i.status,
                placed_by=i.placed_by,
            )
            for i in active
        ]
        links = self.topology.network.links
        held = {  # a single customer's incident stands on an account, not a device
            i.device
            for i in current
            if i.device is not None and i.device in links and not i.engine_owned
        }
        inference = infer(
            self.topology,
            evidence.items,
            self.params,
            known_out=set(evidence.known_out) | held,
            index=self.index,
        )
        doubtful = in_doubt(inference, self.pinging.policy) if self.pinging else []
        new = [d for d in doubtful if not any(i.accounts & d[0].accounts for i in current)]
        waiting = self._ask_about_new(session, new, evidence, now)
        predictions = [p for p in inference.predictions if p.device not in waiting]
        placed: dict[str, int] = {}
        places = {i.id: i for i in current}
        versions = {i.id: i.version for i in active}
        figures = {i.id: (i.confidence, i.customers_affected) for i in active}
        attached: dict[int, frozenset[EvidenceRef]] = {}
        counts = {"opened": 0, "updated": 0, "merged": 0, "cancelled": 0}
        changes = reconcile(current, predictions)
        openings = [change.prediction for change in changes if isinstance(change, Open)]
        restored = self._recently_restored(session, now) if openings else []
        updates: list[tuple[int, Prediction, frozenset[EvidenceRef]]] = []
        writes: list[PredictionUpdate] = []
        merges: list[Merging] = []
        for change in changes:
            match change:
                case Update(incident_id, prediction, move):
                    refs = self._refs(prediction, evidence)
                    known = self.attached.known(incident_id, versions[incident_id])
                    unattached = [ref for ref in refs if ref not in known]
                    write = self._update(
                        places[incident_id], figures[incident_id], prediction, unattached, move
                    )
                    if write is not None:
                        writes.append(write)
                    updates.append((incident_id, prediction, known.union(refs)))
                case Merge(keep_id, merged_id):
                    merges.append(Merging(keep_id, merged_id, "the evidence points to one device"))
                case Cancel(incident_id):
                    reason = "the evidence no longer supports an outage"
                    counts["cancelled"] += _cancelled(session, incident_id, reason)
        unmerged = merge_many(session, merges)
        for incident_id, conflict in unmerged.items():
            _left_as_it_is(incident_id, conflict)
        counts["merged"] = len(merges) - len(unmerged)
        updated = update_predictions(session, writes)
        for incident_id, conflict in updated.left.items():
            _left_as_it_is(incident_id, conflict)
        counts["updated"] = len(updated.changed)
        for incident_id, prediction, now_known in updates:
            if incident_id not in updated.left:
                attached[incident_id] = now_known
                placed[prediction.device] = incident_id
        for prediction, opened, opened_with in self._open(
            session, openings, evidence, restored, now
        ):
            placed[prediction.device] = opened
            attached[opened] = frozenset(opened_with)
            counts["opened"] += 1
            self._link_pings(session, opened, prediction, evidence)
        self._open_hazards(session, evidence)
        self._ask_about_open(session, [d for d in doubtful if d not in new], placed, now)
        self.attached.stage(session, attached)
        return CycleResult(predictions=len(predictions), restored=len(done), **counts)

    def _on_network(self, active: Iterable[ActiveIncident]) -> list[ActiveIncident]:
        """The incidents whose device the network has. One it has not (an import retired
        or moved it meanwhile) can be neither matched nor restored here: it is left as it
        is, for a person, and the cycle goes on."""
        links = self.topology.network.links
        kept = []
        for incident in active:
            if incident.device is None or incident.device in links:
                kept.append(incident)
            else:
                log.warning(
                    "incident %s is on %s, which this engine's network does not have; left as is",
                    incident.id,
                    incident.device,
                )
        return kept

    def committed(self) -> None:
        """The last cycle's transaction committed: what it attached is attached (the owner
        of the transaction says so; without it, every cycle sends all its evidence)."""
        self.attached.committed()

    def _link_pings(
        self, session: Session, incident_id: int, prediction: Prediction, evidence: EvidenceSet
    ) -> None:
        """A new outage takes the pings asked of its customers while it waited."""
        if self.pinging is None:
            return
        seen = [evidence.first_seen[a] for a in prediction.evidence if a in evidence.first_seen]
        if seen:
            link(session, incident_id, prediction.accounts, since=min(seen))

    def _ask_about_new(
        self, session: Session, doubtful: list[Doubt], evidence: EvidenceSet, now: datetime
    ) -> set[str]:
        """Ask meters about new outages in doubt; the devices of those that wait for the
        answers before they open."""
        if self.pinging is None or not doubtful:
            return set()
        since = now - self.window
        waiting = ask(session, self.pinging, doubtful, incidents={}, since=since, now=now)
        return kept_back(self.pinging, doubtful, waiting, first_seen=evidence.first_seen, now=now)

    def _ask_about_open(
        self, session: Session, doubtful: list[Doubt], placed: dict[str, int], now: datetime
    ) -> None:
        """Ask meters about open incidents still in doubt, on their incidents."""
        if self.pinging is not None and doubtful:
            ask(session, self.pinging, doubtful, incidents=placed, since=now - self.window, now=now)

    def _follow(self, topology: Topology) -> None:
        if topology is not self.topology:
            self.topology = topology
            self.index = ProtectionIndex(topology, previous=self.index)

    def _refs(self, prediction: Prediction, evidence: EvidenceSet) -> list[EvidenceRef]:
        refs = [ref for account in prediction.evidence for ref in evidence.refs[account]]
        if prediction.device in evidence.known_out:
            refs.append(evidence.known_out[prediction.device])
        return refs

    def _place(self, prediction: Prediction) -> tuple[str | None, str | None]:
        """(device asset_ref, account) as the incident service names a place."""
        if prediction.kind == SERVICE:
            return None, prediction.device
        return prediction.device, None

    def _open(
        self,
        session: Session,
        predictions: list[Prediction],
        evidence: EvidenceSet,
        restored: list[tuple[int, str]],
        now: datetime,
    ) -> list[tuple[Prediction, int, Sequence[EvidenceRef]]]:
        """Open the new outages, each with its incident and evidence: those a restoration
        left out nest in it, one by one; the others open at once."""
        opened: list[tuple[Prediction, int, Sequence[EvidenceRef]]] = []
        alone = []
        for prediction in predictions:
            refs = self._refs(prediction, evidence)
            opening = self._opening(prediction, evidence, refs, now)
            parent = self._restored_parent(prediction, restored)
            if parent is None:
                alone.append((prediction, opening))
                continue
            nested = open_nested(
                session,
                parent,
                device_asset_ref=opening.device_asset_ref,
                account=opening.account,
                confidence=opening.confidence,
                customers_affected=opening.customers_affected,
                started_at=opening.started_at,
                evidence=refs,
                reason=f"left out when incident {parent} was restored; {opening.reason}",
            )
            opened.append((prediction, nested, refs))
        ids = open_incidents(session, [opening for _, opening in alone])
        for (prediction, opening), incident_id in zip(alone, ids, strict=True):
            opened.append((prediction, incident_id, opening.evidence))
        return opened

    def _opening(
        self,
        prediction: Prediction,
        evidence: EvidenceSet,
        refs: list[EvidenceRef],
        now: datetime,
    ) -> Opening:
        earliest = [evidence.first_seen[a] for a in prediction.evidence]
        if prediction.device in evidence.opened_at:
            earliest.append(evidence.opened_at[prediction.device])
        device, account = self._place(prediction)
        return Opening(
            device_asset_ref=device,
            account=account,
            confidence=prediction.confidence,
            customers_affected=len(prediction.accounts),
            started_at=min(earliest, default=now),
            evidence=refs,
            reason=f"evidence from {len(prediction.evidence)} customers points here",
        )

    def _recently_restored(self, session: Session, now: datetime) -> list[tuple[int, str]]:
        """(incident, device) of the outages restored within the window, latest first: read
        once for a cycle's openings."""
        rows = session.execute(  # an ORM query: it flushes this cycle's restorations first
            select(Incident.id, Device.asset_ref)
            .join(Device, Device.id == Incident.device_id)
            .where(
                Incident.status.in_([IncidentStatus.RESTORED, IncidentStatus.CLOSED]),
                Incident.restored_at >= now - self.window,
            )
            .order_by(Incident.restored_at.desc())
        )
        return [(incident_id, asset_ref) for incident_id, asset_ref in rows]

    def _restored_parent(
        self, prediction: Prediction, restored: list[tuple[int, str]]
    ) -> int | None:
        """A recently restored incident upstream of this one: what it left out is nested."""
        if prediction.kind == SERVICE or not restored:
            return None
        upstream = set(self.topology.upstream(prediction.device).devices)
        return next((incident for incident, device in restored if device in upstream), None)

    def _update(
        self,
        incident: OpenIncident,
        written: tuple[float, int],
        prediction: Prediction,
        unattached: list[EvidenceRef],
        move: bool,
    ) -> PredictionUpdate | None:
        """What brings the incident in line with its prediction: None unless it moves, gets
        evidence not attached yet, or its confidence or customers affected differ from what
        it holds (`written`). An incident that stays where it is counts its own customers,
        on the network as operated now (a prediction elsewhere may have claimed it with its
        evidence)."""
        customers = prediction.accounts if move else incident.accounts
        if not move and not unattached and written == (prediction.confidence, len(customers)):
            return None
        device, account = self._place(prediction) if move else (None, None)
        return PredictionUpdate(
            incident.id,
            "moved to where the evidence points" if move else "more evidence",
            device_asset_ref=device,
            account=account,
            confidence=prediction.confidence,
            customers_affected=len(customers),
            add_evidence=unattached,
        )

    def _apply_switching(
        self, session: Session, evidence: EvidenceSet, active: list[ActiveIncident]
    ) -> set[int]:
        """Every interval SCADA says a device was open, by event time, becomes an incident
        restored at the close's time: the one already open, or one recorded now. Returns the
        incidents restored or recorded."""
        ended = [i for intervals in evidence.switching.values() for i in intervals if i.closed_at]
        if not ended:
            return set()
        evidenced = _evidenced(
            session, IncidentEvidence.scada_event_id, (i.opened.id for i in ended if i.opened)
        )
        known = self._known_on(session, evidence.switching, evidenced, active)
        done: set[int] = set()
        for device, intervals in evidence.switching.items():
            for step in closed_outages(intervals, known.get(device, ()), evidenced):
                match step:
                    case RestoreAt(incident_id, at):
                        self._restore(session, incident_id, at, "SCADA: closed")
                        done.add(incident_id)
                    case RecordPast(opened, closed_at):
                        done.add(self._record_past(session, device, opened, closed_at))
        return done

    def _known_on(
        self,
        session: Session,
        switching: dict[str, list[Interval]],
        evidenced: frozenset[int],
        active: list[ActiveIncident],
    ) -> dict[str, list[Known]]:
        """The incidents on these devices that could tell of their intervals: the active
        ones, and those restored over an interval whose open is evidence of none."""
        known: dict[str, list[Known]] = {}
        for incident in active:
            if incident.device in switching:
                known.setdefault(incident.device, []).append(
                    Known(incident.id, incident.started_at, None)
                )
        unheld = [
            (device, i.opened.at, i.closed_at)
            for device, intervals in switching.items()
            for i in intervals
            if i.opened and i.closed_at and i.opened.id not in evidenced
        ]
        if not unheld:
            return known
        rows = session.execute(
            select(Device.asset_ref, Incident.id, Incident.started_at, Incident.restored_at)
            .join(Device, Device.id == Incident.device_id)
            .where(
                Device.asset_ref.in_({device for device, _, _ in unheld}),
                Incident.kind == IncidentKind.OUTAGE,
                Incident.restored_at >= min(start for _, start, _ in unheld),
                Incident.started_at <= max(end for _, _, end in unheld),
            )
        )
        for asset_ref, incident_id, started_at, restored_at in rows:
            known.setdefault(asset_ref, []).append(Known(incident_id, started_at, restored_at))
        return known

    def _record_past(
        self, session: Session, device: str, opened: SwitchEvent, closed_at: datetime
    ) -> int:
        """An outage that ended before the engine heard of it: recorded with its true times,
        telling customers nothing (they never heard of it)."""
        incident_id = open_incident(
            session,
            device_asset_ref=device,
            confidence=1.0,
            customers_affected=len(self.index.accounts(device)),
            started_at=opened.at,
            evidence=[EvidenceRef.scada_event(opened.id)],
            reason="SCADA: opened",
        )
        self._restore(session, incident_id, closed_at, "SCADA: closed", notify=False)
        return incident_id

    def _apply_meters(
        self, session: Session, evidence: EvidenceSet, active: list[ActiveIncident]
    ) -> set[int]:
        """Meter events, by event time: an active incident whose meters all came back is
        restored at the last one's time; outages no incident tells of are recorded, but
        not momentary interruptions (`Off.momentary`). Returns the incidents restored or
        recorded."""
        offs = ended(evidence.meters)
        if not offs:
            return set()
        done: set[int] = set()
        for incident in active:
            if incident.device in evidence.known_out:
                continue
            accounts = (
                self.index.accounts(incident.device) if incident.device else incident.accounts
            )
            histories = [evidence.meters[a] for a in accounts if a in evidence.meters]
            at = back_at(incident.started_at, histories)
            if at is not None:
                self._restore(session, incident.id, at, "meters: power restored")
                done.add(incident.id)
        evidenced = _evidenced(session, IncidentEvidence.meter_event_id, (o.gasp.id for o in offs))
        unheld = [  # else an incident has it, or it was no outage
            off for off in offs if off.gasp.id not in evidenced and not off.momentary
        ]
        known = self._known_over(session, unheld, [i for i in active if i.id not in done])
        for group in concurrent(unrecorded(unheld, known)):
            for prediction in self._explain(group):
                done.add(self._record_off(session, prediction, group))
        return done

    def _known_over(
        self, session: Session, offs: list[Off], active: list[ActiveIncident]
    ) -> dict[str, list[Known]]:
        """Account -> the incidents over it that could tell of these intervals: the active
        ones, and those restored since the first of them, on a device above one of their
        customers or on one's service."""
        if not offs:
            return {}
        wanted = {off.account for off in offs}
        below: dict[str, set[str]] = {}
        for account in wanted:
            node = self.index.node_of.get(account)
            for device in self.topology.upstream_of_node(node).devices if node else ():
                below.setdefault(device, set()).add(account)
        known: dict[str, list[Known]] = {}
        for incident in active:
            over = below.get(incident.device, set()) if incident.device else incident.accounts
            for covered in wanted.intersection(over):
                known.setdefault(covered, []).append(Known(incident.id, incident.started_at, None))
        rows = session.execute(
            select(
                Incident.id,
                Incident.started_at,
                Incident.restored_at,
                Device.asset_ref,
                Customer.account,
            )
            .outerjoin(Device, Device.id == Incident.device_id)
            .outerjoin(Customer, Customer.premise_id == Incident.premise_id)
            .where(
                Incident.kind == IncidentKind.OUTAGE,
                Incident.restored_at >= min(off.gasp.at for off in offs),
                Incident.started_at <= max(off.restored_at for off in offs),
                or_(Device.asset_ref.in_(below), Customer.account.in_(wanted)),
            )
        )
        for incident_id, started_at, restored_at, asset_ref, account in rows:
            over = below.get(asset_ref, set()) if asset_ref else {account}
            for covered in wanted.intersection(over):
                known.setdefault(covered, []).append(Known(incident_id, started_at, restored_at))
        return known

    def _explain(self, group: list[Off]) -> list[Prediction]:
        """The devices customers off together share, as the inference names them from their
        last gasps; one customer alone is a single-service outage."""
        accounts = {off.account for off in group}
        if len(accounts) == 1:
            return [
                Prediction(group[0].account, SERVICE, frozenset(accounts), frozenset(accounts), 1.0)
            ]
        gasps = [Evidence(account, EvidenceKind.LAST_GASP) for account in sorted(accounts)]
        return predict(self.topology, gasps, self.params)

    def _record_off(self, session: Session, prediction: Prediction, group: list[Off]) -> int:
        """An outage meters told of only once it had ended: recorded with their times, from
        the first last gasp to the last power restored, telling customers nothing."""
        members = [off for off in group if off.account in prediction.evidence]
        device, account = self._place(prediction)
        gasps = dict.fromkeys(EvidenceRef.meter_event(off.gasp.id) for off in members)
        incident_id = open_incident(
            session,
            device_asset_ref=device,
            account=account,
            confidence=prediction.confidence,
            customers_affected=len(prediction.accounts),
            started_at=min(off.gasp.at for off in members),
            evidence=list(gasps),
            reason=f"meters: {len(prediction.evidence)} customers off together",
        )
        at = max(off.restored_at for off in members)
        self._restore(session, incident_id, at, "meters: power restored", notify=False)
        return incident_id

    def _restore(
        self, session: Session, incident_id: int, at: datetime, reason: str, notify: bool = True
    ) -> None:
        """Restored, its meters asked on the engine's own network: a region's engine holds
        no copy of the rest."""
        restore(session, incident_id, at=at, reason=reason, notify=notify, topology=self.topology)

    def _open_hazards(self, session: Session, evidence: EvidenceSet) -> None:
        """Every hazard report not yet on an incident becomes a hazard incident."""
        for hazard in evidence.hazards:
            open_hazard(session, hazard)


def _cancelled(session: Session, incident_id: int, reason: str) -> bool:
    """Cancel an incident in a savepoint: one changed since the cycle read it (a crew
    dispatched while a long cycle ran) is left for the next cycle, and the rest of the
    cycle stands. Whether it was cancelled."""
    try:
        with session.begin_nested():
            cancel(session, incident_id, reason=reason)
    except IncidentConflict as conflict:
        _left_as_it_is(incident_id, conflict)
        return False
    return True


def _left_as_it_is(incident_id: int, conflict: IncidentConflict) -> None:
    log.warning("engine left incident %s as it is: %s", incident_id, conflict)


def _evidenced(session: Session, column: Any, ids: Iterable[int]) -> frozenset[int]:
    """Which of these events are evidence of an incident, whatever its status: merging
    moves evidence to the incident kept, and a cancelled incident keeps its own."""
    wanted = sorted(set(ids))
    if not wanted:
        return frozenset()
    return frozenset(session.scalars(select(column).where(column.in_(wanted)).distinct()))


def run_forever(
    database_url: str,
    *,
    window: timedelta,
    region: int | None = None,
    stop: threading.Event,
    poll_s: float = 5.0,
    debounce_s: float = 0.02,
    reconnect_s: float = 1.0,
) -> None:
    """LISTEN for new evidence and run a cycle for each burst; blocks until `stop` is set.

    It works `region` (waiting while another engine does), or without one the first free
    region (`outage.prediction.claims`), with the regions a closed tie joins to it. When
    the connection is lost (the database restarted), it is made again, the region claimed
    again, and the first cycle catches up with what arrived meanwhile.
    """
    runner = _Runner(database_url, window=window, stop=stop, poll_s=poll_s)
    try:
        while not stop.is_set():
            connection: Any = None
            try:
                connection = listening_connection(database_url)
                listener: Any = connection.driver_connection  # psycopg2's, for LISTEN
                claims = Claims(listener.cursor())
                while (home := runner.await_region(claims, region, listener)) is not None:
                    runner.work(claims, home, listener, debounce_s)
            except (psycopg2.Error, DBAPIError):
                log.warning("engine lost the database; reconnecting in %s s", reconnect_s)
                stop.wait(reconnect_s)
            finally:
                if connection is not None:
                    connection.invalidate()  # a listening session does not go back to the pool
    finally:
        runner.drop()


KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
"""TCP keepalives of the listening connection, in seconds: a connection gone half-open (a
network cut, the database host gone) is noticed within some 11 s, not the system's hours,
and the engine claims its region again instead of waiting on a dead socket."""
UNWORKED_EVERY_S = 60.0
"""How often an engine looks for configured regions no engine works."""


def listening_connection(database_url: str) -> Any:
    """The engine's own connection, outside the pool, in autocommit: it LISTENs and holds
    the region locks, so it lives as long as the engine works them."""
    connection = create_engine(
        database_url, connect_args=KEEPALIVES, poolclass=NullPool
    ).raw_connection()
    listener: Any = connection.driver_connection
    listener.autocommit = True
    return connection


class _Runner:
    """An engine's state across the regions it works in turn: the engine of the regions
    it holds now, kept while it holds the same ones."""

    def __init__(
        self, database_url: str, *, window: timedelta, stop: threading.Event, poll_s: float
    ) -> None:
        self.sessions = session_factory(database_url)
        self.layouts = Layouts(get_settings().engine_regions)
        self.window = window
        self.stop = stop
        self.poll_s = poll_s
        self.engine: Engine | None = None
        self._looked_for_unworked = -UNWORKED_EVERY_S

    def await_region(self, claims: Claims, wanted: int | None, listener: Any) -> int | None:
        """Wait for a region to work; None when stopped."""
        while not self.stop.is_set():
            with self.sessions() as session:
                regions = self.layouts.get(session)
                home = claim(claims, regions, wanted, closed_ties(session, regions.ties))
                self._look_for_unworked(session)
            if home is not None:
                listener.cursor().execute(f"LISTEN {CHANNEL}")
                return home
            listener.notifies.clear()  # what arrived meanwhile is read by the first cycle
            log.info("no free region%s; waiting", "" if wanted is None else f" {wanted}")
            self.stop.wait(self.poll_s)
        return None

    def work(self, claims: Claims, home: int, listener: Any, debounce_s: float) -> None:
        """Cycle on the regions held until stopped, or until a lower region's engine
        takes them over (a tie joined them)."""
        while not self.stop.is_set():
            with self.sessions() as session:
                regions = settle_now(claims, self.layouts, session, home)
                if regions is None:
                    log.info("region %s is worked with a lower one; letting it go", home)
                    listener.cursor().execute(f"UNLISTEN {CHANNEL}")
                    return
                engine = self._engine_for(session, regions.scope(claims.held), claims.held)
                self._look_for_unworked(session)
            if not cycle_if_held(self.sessions, engine, claims):
                log.warning(
                    "engine lost its lock on regions %s; claiming again", sorted(claims.held)
                )
                claims.lost()
                return
            ready, _, _ = io_select.select([listener], [], [], self.poll_s)
            if ready:
                time.sleep(debounce_s)  # let a burst of reports land in one cycle
                listener.poll()
                listener.notifies.clear()

    def _look_for_unworked(self, session: Session) -> None:
        """At most every minute, an error naming the configured regions no engine works:
        their evidence waits, unread, until an engine takes them."""
        configured = get_settings().engine_regions
        if not configured or time.monotonic() - self._looked_for_unworked < UNWORKED_EVERY_S:
            return
        self._looked_for_unworked = time.monotonic()
        missing = unworked(session, configured)
        if missing:
            log.error("no engine works regions %s: their evidence is not read", missing)

    def _engine_for(self, session: Session, scope: Scope | None, held: Collection[int]) -> Engine:
        if self.engine is None or self.engine.scope != scope:
            self.drop()
            self.engine = Engine.load(session, window=self.window, scope=scope)
            gc.collect()
            gc.freeze()  # the network lives as long as the engine: no collector walks it
            log.info("engine ready for regions %s", sorted(held))
        return self.engine

    def drop(self) -> None:
        if self.engine is not None:
            self.engine = None
            gc.unfreeze()  # what the engine froze may be collected again once it is gone


def cycle_if_held(sessions: sessionmaker[Session], engine: Engine, claims: Claims) -> bool:
    """One cycle, committed, if the engine still holds its regions when it begins; False,
    writing nothing, when it does not: another engine may be working them already."""
    started = time.perf_counter()
    try:
        with sessions() as session, session.begin():
            if not claims.still_held(session):
                return False
            result = engine.run_cycle(session)
        engine.committed()
        if result.opened or result.merged or result.cancelled or result.restored:
            log.info("engine cycle: %s in %.2f s", result, time.perf_counter() - started)
    except Exception:
        log.exception("engine cycle failed; retrying on the next evidence")
    return True
