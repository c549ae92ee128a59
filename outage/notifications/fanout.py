"""Fanning an outbox event out to one message per customer, and per contact following one.

A worker takes the oldest event not yet fanned out (`FOR UPDATE SKIP LOCKED`, and never
one whose subject has an older event still waiting, so one incident's events are taken
in order), finds the customers it concerns on the live network, renders their messages
and inserts them in the same transaction that marks the event done. The unique delivery
key makes a second fan-out of the same event (or an overlapping one: an incident moving
to a bigger device) write only what is missing.

Fewer, better messages: an "outage detected" waits `notify_first_etr_wait_minutes` so the
first ETR rides in it; an ETR folds into any ETR-bearing message still waiting for the
customer; a change is told when it moves their ETR by more than
`notify_etr_change_minutes` (at most once per `notify_etr_interval_minutes`), and a
smaller one that puts their deadline later just before that deadline would pass
(`outage.notifications.etr_policy`).

A time taken back while a storm's damage is assessed (`_withdrawn`) is told at once,
outside quiet hours, to each recipient who was sent a time of the incident, naming the
one they were sent; a time still waiting to go out to them is not sent, and a first
notice still waiting says the damage is being assessed instead.
"""

import logging
import secrets
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from grid_topology.topology import Topology
from outage.grid.live import LiveTopology
from outage.grid.models import Customer, Device
from outage.grid.regions import UNPLACED, substations_of_customers
from outage.incidents.lifecycle import ACTIVE
from outage.incidents.models import Incident
from outage.intake.models import Report
from outage.notifications.enums import DeliveryChannel, DeliveryStatus
from outage.notifications.etr_policy import ToldEtr, change_due, worth_telling
from outage.notifications.events import (
    QuietHours,
    backoff,
    delivery_key,
    is_stale,
    recipient_key,
)
from outage.notifications.models import Notification, PlannedOutage
from outage.notifications.preferences import (
    Recipient,
    followers,
    recipients,
    reporter,
    requester,
)
from outage.notifications.texts import Facts, Rendered, RequestFacts, Unrenderable, render
from outage.outbox.enums import EventKind
from outage.outbox.models import NotificationEvent
from outage.settings import Settings
from outage.storms import service as storms
from outage.storms.enums import EtrScope
from outage.storms.service import ToldTime

log = logging.getLogger(__name__)

BATCH = 2000
"""Messages per INSERT."""

ETR_KINDS = (EventKind.ETR_SET, EventKind.ETR_CHANGED)
TELLS_ETR = (EventKind.OUTAGE_DETECTED, *ETR_KINDS)
"""Messages that carry the ETR: a new one folds into one of these still waiting, and an
ETR change waits the interval after the last one."""

_NEXT_EVENT = text(
    """
    SELECT e.id FROM notification_events e
    WHERE e.expanded_at IS NULL AND e.dead_at IS NULL
      AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= :now)
      AND NOT EXISTS (
        SELECT 1 FROM notification_events o
        WHERE o.expanded_at IS NULL AND o.dead_at IS NULL AND o.id < e.id
          AND (o.incident_id = e.incident_id OR o.planned_outage_id = e.planned_outage_id
               OR o.service_request_id = e.service_request_id OR o.report_id = e.report_id))
    ORDER BY e.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
    """
)


def _time(details: dict[str, Any], name: str) -> datetime | None:
    value = details.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Unrenderable(f"{name} {value!r} is not a time") from exc


_SCOPES = frozenset(scope.value for scope in EtrScope)


def _own_time(details: dict[str, Any]) -> ToldTime:
    """The time an incident's event carries: its own estimate, or a storm's or an area's."""
    scope = details.get("etr_scope", EtrScope.OUTAGE.value)
    return ToldTime(
        _time(details, "etr"),
        _time(details, "etr_earliest"),
        _time(details, "etr_latest"),
        scope=EtrScope(scope) if scope in _SCOPES else EtrScope.OUTAGE,
    )


def _withdrawn(event: NotificationEvent) -> bool:
    """An ETR change that takes the time back (the region's damage now being assessed):
    told at once, outside quiet hours, to those who were sent a time (`_sent_a_time`)."""
    return event.kind is EventKind.ETR_CHANGED and "withdrawn" in event.details


def _written_to(key: str) -> str:
    """The recipient of a message already written, read back from its delivery key."""
    return key.split(":")[1]


def stop_link(settings: Settings, token: str) -> str:
    """The unsubscribe link of a message (`outage/pages/alerts.py` serves it)."""
    return f"{settings.public_base_url.rstrip('/')}/u/{token}"


def _request(details: dict[str, Any]) -> RequestFacts:
    """A service request's ticket, type, new state and rejection reason, as care wrote them."""
    try:
        return RequestFacts(
            ticket=str(details["ticket"]),
            type=str(details["type"]),
            state=str(details["state"]),
            reason=details.get("reason") or None,
            team=details.get("team") or None,
            escalated=bool(details.get("escalated")),
        )
    except KeyError as exc:
        raise Unrenderable(f"a service request's event lacks its {exc}") from exc


@dataclass(frozen=True)
class _Plan:
    """One message to write: who, when, what."""

    recipient: Recipient
    due: datetime
    rendered: Rendered
    token: str | None
    stop_token: str | None


@dataclass(frozen=True)
class _Told:
    """What a customer of the event already knows: the ETR last told, their report."""

    etr: ToldEtr | None
    tickets: dict[int, str]
    report_ticket: str | None = None
    """The event is about this report: its ticket, to whoever filed it."""
    phase: ToldTime | None = None
    """In a declared storm, the time its phase allows for a new outage (`_phase`)."""

    def ticket(self, recipient: Recipient) -> str | None:
        """The customer's ticket, on their own contacts only (not a follower's)."""
        if self.report_ticket is not None:
            return self.report_ticket
        if recipient.customer_id is None or recipient.subscription_id is not None:
            return None
        return self.tickets.get(recipient.customer_id)


class Fanout:
    """Turns events into messages; holds the network (built once, shared by threads)."""

    def __init__(self, settings: Settings, topology: LiveTopology | None = None) -> None:
        self.settings = settings
        self.topology = topology or LiveTopology()
        self.zone = settings.local_timezone
        self.quiet = QuietHours.parse(settings.notify_quiet_hours)

    def expand_next(self, session: Session, now: datetime) -> bool:
        """Fan out one event, if any waits; the caller commits. False when none was free.

        An event that fails fails alone: it is put back with a back-off and its reason
        while the others go on, and dead-lettered after `notify_max_attempts` failures
        (at once when retrying cannot help), so it no longer holds back its subject's
        later events.
        """
        event_id = session.scalar(_NEXT_EVENT, {"now": now})
        if event_id is None:
            return False
        try:
            with session.begin_nested():
                event = session.get_one(NotificationEvent, event_id)
                event.recipients = self._expand(session, event, now)
                event.expanded_at = now
        except Exception as exc:
            self._failed(session, event_id, exc, now)
        return True

    def _failed(self, session: Session, event_id: int, exc: Exception, now: datetime) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        attempts = session.scalar(
            update(NotificationEvent)
            .where(NotificationEvent.id == event_id)
            .values(attempts=NotificationEvent.attempts + 1)
            .returning(NotificationEvent.attempts)
        )
        assert attempts is not None  # the row is ours: we hold its lock
        dead = isinstance(exc, Unrenderable) or attempts >= self.settings.notify_max_attempts
        wait = backoff(
            attempts,
            base=self.settings.notify_backoff_seconds,
            cap=self.settings.notify_backoff_max_seconds,
        )
        session.execute(
            update(NotificationEvent)
            .where(NotificationEvent.id == event_id)
            .values(last_error=reason, next_attempt_at=now + wait, dead_at=now if dead else None)
        )
        if dead:
            log.error("notification event %s dead-lettered: %s", event_id, reason)
        else:
            log.warning("notification event %s failed (attempt %s): %s", event_id, attempts, reason)

    def _expand(self, session: Session, event: NotificationEvent, now: datetime) -> int:
        if (request_id := event.service_request_id) is not None:
            return self._write(session, event, self._plan_request(session, event, request_id, now))
        if (report_id := event.report_id) is not None:
            return self._write(session, event, self._plan_report(session, event, report_id, now))
        if self._stale(session, event):
            return 0
        phase = self._phase(session, event)
        withdrawn = _withdrawn(event)
        assessing = phase is not None and phase.assessing_damage
        if event.kind in ETR_KINDS and assessing and not withdrawn:
            return 0  # the region's damage is being assessed: no time is told
        told_etr = self._told_etr(session, event) if event.kind is EventKind.ETR_CHANGED else None
        if withdrawn and (told_etr is None or not assessing):
            return 0  # nobody holds a time to take back, or a new time is told instead
        if told_etr is not None and self._too_small(event, told_etr):
            return 0
        customers = self._customers(session, event)
        if event.kind is EventKind.RESTORED:
            customers -= self._still_out(session, event)
        if event.kind is EventKind.OUTAGE_DETECTED:
            customers -= self._told_of_merged(session, event)
        found = [
            r for r in recipients(session, customers, self.quiet) if event.safety or not r.opt_out
        ]
        own = {r.contact for r in found}
        found += [r for r in followers(session, customers, self.quiet) if r.contact not in own]
        told = _Told(told_etr, self._tickets(session, event, customers), phase=phase)
        folded = 0
        if withdrawn:
            found, folded = self._fold_into_waiting(session, event, found, told, withdrawn=True)
            written = 0
            for sent, group in self._sent_a_time(session, event, found, now).items():
                plans = self._plan(session, event, group, now, replace(told, etr=sent))
                written += self._write(session, event, plans)
            return folded + written
        if event.kind in ETR_KINDS:
            found, folded = self._fold_into_waiting(session, event, found, told)
        plans = self._plan(session, event, found, now, told)
        return folded + self._write(session, event, plans)

    def _plan_request(
        self, session: Session, event: NotificationEvent, request_id: int, now: datetime
    ) -> list[_Plan]:
        """A service request's one message, to its requester (none with nowhere to send)."""
        found = requester(session, request_id, self.quiet)
        return self._plan(session, event, [found] if found else [], now, _Told(None, {}))

    def _plan_report(
        self, session: Session, event: NotificationEvent, report_id: int, now: datetime
    ) -> list[_Plan]:
        """A report's one message, to the one who filed it (none with nowhere to send)."""
        found = reporter(session, report_id, self.quiet)
        ticket = str(event.details.get("ticket", ""))
        if not ticket:
            raise Unrenderable("a report's event lacks its ticket")
        told = _Told(None, {}, report_ticket=ticket)
        return self._plan(session, event, [found] if found else [], now, told)

    def _stale(self, session: Session, event: NotificationEvent) -> bool:
        if event.incident_id is not None:
            incident_status = session.scalar(
                select(Incident.status).where(Incident.id == event.incident_id)
            )
            return is_stale(event.kind, incident_status=incident_status)
        planned_status = session.scalar(
            select(PlannedOutage.status).where(PlannedOutage.id == event.planned_outage_id)
        )
        return is_stale(event.kind, planned_status=planned_status)

    def _network(self, session: Session) -> Topology:
        return self.topology.get(session)

    def _below(self, session: Session, device_id: int | None, premise_id: int | None) -> set[int]:
        """Customers downstream of the device, or at the premise."""
        if device_id is not None:
            asset_ref = session.scalar(select(Device.asset_ref).where(Device.id == device_id))
            topology = self._network(session)
            if asset_ref is None or asset_ref not in topology.network.links:
                return set()
            accounts = sorted(topology.downstream(asset_ref).accounts)
            if not accounts:
                return set()
            found = session.scalars(
                select(Customer.id).where(Customer.account == func.any(accounts))
            )
            return set(found)
        if premise_id is not None:
            return set(
                session.scalars(select(Customer.id).where(Customer.premise_id == premise_id))
            )
        return set()

    def _customers(self, session: Session, event: NotificationEvent) -> set[int]:
        if event.accounts is not None:
            return set(
                session.scalars(
                    select(Customer.id).where(Customer.account == func.any(event.accounts))
                )
            )
        return self._below(session, event.device_id, event.premise_id)

    def _still_out(self, session: Session, event: NotificationEvent) -> set[int]:
        """Customers of the incident's active nested incidents: not restored for them."""
        nested = session.execute(
            select(Incident.device_id, Incident.premise_id).where(
                Incident.parent_id == event.incident_id, Incident.status.in_(sorted(ACTIVE))
            )
        )
        out: set[int] = set()
        for device_id, premise_id in nested:
            out |= self._below(session, device_id, premise_id)
        return out

    def _told_of_merged(self, session: Session, event: NotificationEvent) -> set[int]:
        """Customers already told of an outage that was merged into this one."""
        return set(
            session.scalars(
                select(Notification.customer_id)
                .join(Incident, Incident.id == Notification.incident_id)
                .where(
                    Incident.merged_into_id == event.incident_id,
                    Notification.kind == EventKind.OUTAGE_DETECTED,
                )
            )
        )

    def _told_etr(self, session: Session, event: NotificationEvent) -> ToldEtr | None:
        """The ETR customers were last told of the incident: that of its latest ETR event
        that reached anyone (a change too small to tell reached nobody)."""
        told = session.scalar(
            select(NotificationEvent.details)
            .where(
                NotificationEvent.incident_id == event.incident_id,
                NotificationEvent.kind.in_(ETR_KINDS),
                NotificationEvent.id < event.id,
                NotificationEvent.recipients > 0,
            )
            .order_by(NotificationEvent.id.desc())
            .limit(1)
        )
        return ToldEtr.of(told) if told else None

    def _too_small(self, event: NotificationEvent, told: ToldEtr) -> bool:
        new = ToldEtr.of(event.details)
        change = self.settings.notify_etr_change_minutes
        return new is not None and not worth_telling(told, new, change)

    def _tickets(
        self, session: Session, event: NotificationEvent, customers: set[int]
    ) -> dict[int, str]:
        """The tickets of the customers' own reports of the incident (the latest each)."""
        if event.incident_id is None or not customers:
            return {}
        rows = session.execute(
            select(Report.customer_id, Report.ticket)
            .where(
                Report.incident_id == event.incident_id,
                Report.customer_id == func.any(sorted(customers)),
            )
            .order_by(Report.received_at)
        )
        return {customer: ticket for customer, ticket in rows if customer is not None}

    def _phase(self, session: Session, event: NotificationEvent) -> ToldTime | None:
        """In a declared storm an outage's customers are told what the storm's phase in its
        region allows: that damage is being assessed, the storm's or the area's time, or
        its own. None outside a storm and for events of no incident."""
        if event.incident_id is None:
            return None
        storm = storms.current(session)
        if storm is None:
            return None
        feeder = session.scalar(select(Incident.feeder_id).where(Incident.id == event.incident_id))
        return storms.told_time(storm, storms.region_of(session, feeder), _own_time(event.details))

    def _facts(
        self,
        event: NotificationEvent,
        told: _Told,
        link: str | None = None,
        stop: str | None = None,
        ticket: str | None = None,
    ) -> Facts:
        details = event.details
        request = _request(details) if event.service_request_id is not None else None
        if request is not None:
            link = f"{self.settings.public_base_url.rstrip('/')}/request/{request.ticket}"
        if event.report_id is not None:
            link = f"{self.settings.public_base_url.rstrip('/')}/status/{ticket}"
        phase = told.phase or _own_time(details)
        if event.kind not in TELLS_ETR and phase.scope is not EtrScope.OUTAGE:
            phase = ToldTime()  # the storm's time is not this outage's: said only as such
        return Facts(
            safety=event.safety,
            switching=bool(details.get("switching")),
            etr=phase.etr,
            etr_earliest=phase.earliest,
            etr_latest=phase.latest,
            etr_scope=phase.scope,
            assessing_damage=phase.assessing_damage,
            previous_etr=told.etr.expected if told.etr else None,
            restored_at=_time(details, "restored_at"),
            cause=details.get("cause"),
            area=details.get("area"),
            ticket=ticket,
            starts_at=_time(details, "starts_at"),
            ends_at=_time(details, "ends_at"),
            link=link,
            stop_link=stop,
            request=request,
        )

    def _fold_into_waiting(
        self,
        session: Session,
        event: NotificationEvent,
        found: list[Recipient],
        told: _Told,
        *,
        withdrawn: bool = False,
    ) -> tuple[list[Recipient], int]:
        """Messages with an ETR not sent yet (a first notice held for its ETR too) take the
        new ETR; their recipients get no other message. A withdrawn time (`withdrawn`): a
        first notice says the damage is being assessed instead, and a time set or changed
        is not sent (skipped), its recipient hearing of the withdrawal only if an earlier
        time was sent to them. Answers the others, and how many waiting messages took it."""
        waiting = session.execute(
            select(
                Notification.id,
                Notification.delivery_key,
                Notification.kind,
                Notification.stop_token,
            )
            .where(
                Notification.incident_id == event.incident_id,
                Notification.kind.in_(TELLS_ETR),
                Notification.status == DeliveryStatus.PENDING,
                Notification.safety.is_(False),
            )
            .with_for_update()
        ).all()
        if not waiting:
            return found, 0
        by_who = {recipient_key(r.customer_id, r.contact_key): r for r in found}
        waiting_for: set[str] = set()
        refreshed = []
        skipped = []
        for row in waiting:
            if withdrawn and row.kind is not EventKind.OUTAGE_DETECTED:
                skipped.append(row.id)
                continue
            who = _written_to(row.delivery_key)
            waiting_for.add(who)
            recipient = by_who.get(who)
            if recipient is None:
                continue
            stop = stop_link(self.settings, row.stop_token) if row.stop_token else None
            facts = self._facts(event, told, stop=stop, ticket=told.ticket(recipient))
            rendered = render(row.kind, recipient.language, recipient.channel, facts, self.zone)
            refreshed.append({"nid": row.id, "subject": rendered.subject, "body": rendered.body})
        if skipped:
            session.execute(
                update(Notification)
                .where(
                    Notification.id.in_(skipped),
                    Notification.status == DeliveryStatus.PENDING,
                )
                .values(
                    status=DeliveryStatus.SKIPPED,
                    last_error="no longer holds: the time was withdrawn while damage is assessed",
                )
            )
        if refreshed:
            session.connection().execute(
                text(
                    "UPDATE notifications SET subject = :subject, body = :body,"
                    " updated_at = now() WHERE id = :nid AND status = :pending"
                ).bindparams(pending=DeliveryStatus.PENDING.value),
                refreshed,
            )
        others = [
            r for r in found if recipient_key(r.customer_id, r.contact_key) not in waiting_for
        ]
        return others, len(refreshed)

    def _sent_a_time(
        self, session: Session, event: NotificationEvent, found: list[Recipient], now: datetime
    ) -> dict[ToldEtr, list[Recipient]]:
        """The recipients whose latest message of the incident that went out (sent, or
        being sent) gave a time, by the time it gave. A time set or changed gave its
        event's (a withdrawal gave none); a first notice gave its own event's, or that of
        the latest ETR event that reached anyone before it went out (folded into it)."""
        who = func.split_part(Notification.delivery_key, ":", 2)  # as `_written_to` reads it
        latest = session.execute(
            select(
                who,
                Notification.kind,
                Notification.event_id,
                Notification.sent_at,
                NotificationEvent.details,
            )
            .join(NotificationEvent, NotificationEvent.id == Notification.event_id)
            .where(
                Notification.incident_id == event.incident_id,
                Notification.kind.in_(TELLS_ETR),
                Notification.status.in_((DeliveryStatus.SENT, DeliveryStatus.SENDING)),
                Notification.safety.is_(False),
                Notification.event_id < event.id,
            )
            .order_by(who, Notification.id.desc())
            .distinct(who)
        ).all()
        if not latest:
            return {}
        etr_events = session.execute(
            select(NotificationEvent.id, NotificationEvent.expanded_at, NotificationEvent.details)
            .where(
                NotificationEvent.incident_id == event.incident_id,
                NotificationEvent.kind.in_(ETR_KINDS),
                NotificationEvent.id < event.id,
                NotificationEvent.recipients > 0,
                NotificationEvent.expanded_at.is_not(None),
            )
            .order_by(NotificationEvent.id)
        ).all()
        sent: dict[str, ToldEtr] = {}
        for recipient, kind, event_id, sent_at, details in latest:
            if kind in ETR_KINDS:
                if "withdrawn" in details:
                    continue
                etr = ToldEtr.of(details)
            else:
                gone = sent_at or now
                folded = [
                    ToldEtr.of(e.details)
                    for e in etr_events
                    if e.id > event_id and e.expanded_at <= gone and "withdrawn" not in e.details
                ]
                etr = folded[-1] if folded else ToldEtr.of(details)
            if etr is not None:
                sent[recipient] = etr
        groups: dict[ToldEtr, list[Recipient]] = defaultdict(list)
        for r in found:
            etr = sent.get(recipient_key(r.customer_id, r.contact_key))
            if etr is not None:
                groups[etr].append(r)
        return groups

    def _last_change(self, session: Session, event: NotificationEvent) -> dict[str, datetime]:
        """When each recipient's last message with an ETR is (or was) due."""
        who = func.split_part(Notification.delivery_key, ":", 2)  # as `_written_to` reads it
        rows = session.execute(
            select(who, func.max(Notification.due_at))
            .where(
                Notification.incident_id == event.incident_id,
                Notification.kind.in_(TELLS_ETR),
                Notification.safety.is_(False),
            )
            .group_by(who)
        )
        return {recipient: due for recipient, due in rows}

    def _plan(
        self,
        session: Session,
        event: NotificationEvent,
        found: Collection[Recipient],
        now: datetime,
        told: _Told,
    ) -> list[_Plan]:
        start = now
        if event.kind is EventKind.OUTAGE_DETECTED and not event.safety:
            start = max(now, event.created_at + self.settings.notify_first_etr_wait_minutes)
        last_change: dict[str, datetime] = {}
        interval = self.settings.notify_etr_interval_minutes
        if event.kind is EventKind.ETR_CHANGED:
            last_change = self._last_change(session, event)
        shared: dict[tuple[str, str, str | None], Rendered] = {}
        plans = []
        for recipient in found:
            due = start
            who = recipient_key(recipient.customer_id, recipient.contact_key)
            if event.kind is EventKind.ETR_CHANGED and not _withdrawn(event):
                due = change_due(
                    due,
                    last_due=last_change.get(who),
                    interval=interval,
                    told=told.etr,
                    new=ToldEtr.of(event.details),
                    change=self.settings.notify_etr_change_minutes,
                )
            if recipient.quiet is not None and not event.safety:
                due = recipient.quiet.release(due, self.zone)
            token = None
            stop_token = None
            if recipient.customer_id is not None or recipient.subscription_id is not None:
                stop_token = secrets.token_urlsafe(16)  # a requester's has nothing to stop
            # "Power is back" asks a customer whether theirs is: a link of their own.
            asks = event.kind is EventKind.RESTORED and recipient.customer_id is not None
            if asks or recipient.channel is DeliveryChannel.EMAIL:
                # A link of its own (the answer's, the unsubscribe one) in the words.
                link = None
                if asks:
                    token = secrets.token_urlsafe(16)
                    link = f"{self.settings.public_base_url.rstrip('/')}/n/{token}"
                rendered = render(
                    event.kind,
                    recipient.language,
                    recipient.channel,
                    self._facts(
                        event,
                        told,
                        link,
                        stop_link(self.settings, stop_token) if stop_token else None,
                        told.ticket(recipient),
                    ),
                    self.zone,
                )
            else:
                ticket = told.ticket(recipient)
                group = (recipient.language, recipient.channel.value, ticket)
                if group not in shared:
                    shared[group] = render(
                        event.kind,
                        recipient.language,
                        recipient.channel,
                        self._facts(event, told, ticket=ticket),
                        self.zone,
                    )
                rendered = shared[group]
            plans.append(_Plan(recipient, due, rendered, token, stop_token))
        return plans

    def _write(self, session: Session, event: NotificationEvent, plans: list[_Plan]) -> int:
        version = event.id if event.kind is EventKind.ETR_CHANGED else event.details.get("revision")
        substations = substations_of_customers(
            session, {p.recipient.customer_id for p in plans if p.recipient.customer_id}
        )
        otherwise = UNPLACED  # the key of a message to someone who is no customer on record
        if event.report_id is not None and any(not p.recipient.customer_id for p in plans):
            otherwise = (
                session.scalar(select(Report.substation_id).where(Report.id == event.report_id))
                or UNPLACED
            )
        written = 0
        for start in range(0, len(plans), BATCH):
            rows = [
                {
                    "event_id": event.id,
                    "customer_id": p.recipient.customer_id,
                    "subscription_id": p.recipient.subscription_id,
                    "incident_id": event.incident_id,
                    "planned_outage_id": event.planned_outage_id,
                    "service_request_id": event.service_request_id,
                    "report_id": event.report_id,
                    "substation_id": substations.get(p.recipient.customer_id or 0, otherwise),
                    "kind": event.kind,
                    "channel": p.recipient.channel,
                    "address": p.recipient.address,
                    "language": p.recipient.language,
                    "subject": p.rendered.subject,
                    "body": p.rendered.body,
                    "safety": event.safety,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "due_at": p.due,
                    "next_attempt_at": p.due,
                    "delivery_key": delivery_key(
                        customer_id=p.recipient.customer_id,
                        kind=event.kind,
                        incident_id=event.incident_id,
                        planned_outage_id=event.planned_outage_id,
                        service_request_id=event.service_request_id,
                        report_id=event.report_id,
                        version=version,
                        contact=p.recipient.contact_key,
                    ),
                    "reply_token": p.token,
                    "stop_token": p.stop_token,
                }
                for p in plans[start : start + BATCH]
            ]
            inserted = session.scalars(
                insert(Notification)
                .values(rows)
                .on_conflict_do_nothing(constraint="uq_notifications_delivery_key")
                .returning(Notification.id)
            ).all()
            written += len(inserted)
        return written


def pending_events(session: Session) -> int:
    """Events not fanned out yet, nor given up on."""
    return (
        session.scalar(
            select(func.count())
            .select_from(NotificationEvent)
            .where(NotificationEvent.expanded_at.is_(None), NotificationEvent.dead_at.is_(None))
        )
        or 0
    )
