"""Placing a report on the network: which premise, transformer and feeder it is about.

The strategy is a sequence, strongest evidence first: account number, phone number, GPS
fix, free-text address. The first that places the report wins; each records its method
and a confidence between 0 and 1. A report none of them can place is kept for an agent,
with the candidates they found; a GPS fix outside the service territory is an error.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from outage import locks
from outage.errors import Invalid
from outage.grid.models import Customer, Device, Feeder, Premise, ServiceArea
from outage.intake.enums import MatchMethod
from outage.settings import Settings

GPS_AMBIGUITY_M = 15.0
"""Premises within this distance of the nearest are as likely to be the reporter's."""

ADDRESS_MIN_SCORE = 0.6
"""pg_trgm word similarity below which an address is no match at all."""

ADDRESS_TIE_MARGIN = 0.02
"""Two premises scoring this close are a tie an agent must settle."""

# English words for street, ward... that Vietnamese addresses spell differently or omit.
_FILLER = re.compile(
    r"\b(street|st|road|rd|avenue|ave|district|dist|ward|city|no|number|vietnam)\b"
)
_ALLEY = re.compile(r"\b(alley|lane)\b")


class OutsideTerritory(Invalid, ValueError):
    """A location we do not serve: the reporter must call their own utility."""


@dataclass(frozen=True)
class Clues:
    """What a reporter told us about where they are; any of it may be missing."""

    account: str | None = None
    phone: str | None = None
    """E.164."""
    email: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None


@dataclass(frozen=True)
class Place:
    """Where on the network a report belongs, with the names people see."""

    premise_id: int | None
    premise_ref: str | None
    transformer_id: int | None
    transformer_ref: str | None
    feeder_id: int | None
    feeder_name: str | None
    customer_id: int | None = None
    substation_id: int | None = None
    """The feeder's substation: the key of the report filed here."""


@dataclass(frozen=True)
class Match:
    method: MatchMethod
    confidence: float
    place: Place | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)
    """Premise refs an agent should choose between, when the clues were ambiguous."""
    claimed: bool = False
    """The caller's transaction holds its customer's report lock
    (`LockSpace.CUSTOMER_REPORTS`), taken by the query that found the customer."""

    @property
    def placed(self) -> bool:
        return self.place is not None


NO_MATCH = Match(method=MatchMethod.NONE, confidence=0.0)


def locate(session: Session, clues: Clues, settings: Settings, *, claim: bool = False) -> Match:
    """Try each way of placing the report, strongest first; raise OutsideTerritory.

    With `claim`, a customer found by account, phone or e-mail is also locked for the
    caller's transaction (`Match.claimed`) in the same statement: intake's hot path saves
    a round trip.
    """
    if clues.lon is not None and clues.lat is not None:
        _check_territory(session, clues.lon, clues.lat)
    candidates: list[str] = []
    for attempt in (_by_account, _by_phone, _by_email, _by_gps, _by_address):
        match = attempt(session, clues, settings, claim)
        if match.placed:
            return match
        candidates.extend(c for c in match.candidates if c not in candidates)
    return Match(method=MatchMethod.NONE, confidence=0.0, candidates=tuple(candidates[:CANDIDATES]))


def _check_territory(session: Session, lon: float, lat: float) -> None:
    point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    areas, inside = session.execute(
        select(
            func.count(), func.count().filter(func.ST_Intersects(ServiceArea.geom, point))
        ).select_from(ServiceArea)
    ).one()
    if areas and not inside:
        raise OutsideTerritory(
            f"the location {lat:.5f}, {lon:.5f} is outside our service territory"
        )


_PLACE_COLUMNS = len(Place.__dataclass_fields__)


CANDIDATES = 10
"""Premises an agent is offered at most for one clue."""


def _place_columns(
    customer_id: ColumnElement[Any] | InstrumentedAttribute[int], *extra: ColumnElement[Any]
) -> Select[Any]:
    """A premise, its transformer and feeder, and `customer_id`, as `Place` takes them."""
    return select(
        Premise.id,
        Premise.ref,
        Device.id,
        Device.asset_ref,
        Feeder.id,
        Feeder.name,
        customer_id,
        Feeder.substation_id,
        *extra,
    )


def _on_the_network(query: Select[Any]) -> Select[Any]:
    """The premises' transformer and feeder joined, the first `CANDIDATES` by reference."""
    return (
        query.outerjoin(Device, Device.id == Premise.transformer_id)
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .order_by(Premise.ref)
        .limit(CANDIDATES)
    )


def _places(condition: ColumnElement[bool]) -> Select[Any]:
    return _on_the_network(
        _place_columns(Customer.id)
        .outerjoin(Customer, Customer.premise_id == Premise.id)
        .where(condition)
    )


def places_where(session: Session, condition: ColumnElement[bool]) -> list[Place]:
    """Premises (with their customer, transformer and feeder) meeting a condition, in one query."""
    return [Place(*row) for row in session.execute(_places(condition))]


def _customer_places(condition: ColumnElement[bool], claim: bool) -> Select[Any]:
    """The premises of the customers a clue names, the one customer locked until the
    transaction ends when only one is found (`claim`).

    The customers are found first, in a query of their own with its own limit and no
    order (any eleven tell that there are more than ten): a clue many customers share (a
    landlord's phone, an office's e-mail) otherwise leads the planner to walk a whole
    index in order until ten match, seconds a report on a million customers."""
    found = (
        select(Customer.id, Customer.premise_id)
        .where(condition)
        .limit(CANDIDATES + 1)
        .cte("found")
        .prefix_with("MATERIALIZED")
    )
    claimed = case(
        (
            func.count().over() == 1,
            func.pg_advisory_xact_lock(int(locks.LockSpace.CUSTOMER_REPORTS), found.c.id),
        )
    )
    return _on_the_network(
        _place_columns(found.c.id, *((claimed,) if claim else ()))
        .select_from(found)
        .join(Premise, Premise.id == found.c.premise_id)
    )


# Every report asks one of these: built once, so a report pays neither for building the
# query nor for working out its cache key.
_CUSTOMER_CLUES = {
    MatchMethod.ACCOUNT: Customer.account == bindparam("clue"),
    MatchMethod.PHONE: Customer.phone == bindparam("clue"),
    MatchMethod.EMAIL: func.lower(Customer.email) == bindparam("clue"),
}
_CUSTOMER_QUERIES = {
    (method, claim): _customer_places(condition, claim)
    for method, condition in _CUSTOMER_CLUES.items()
    for claim in (False, True)
}
_BY_PREMISE_ID = _places(Premise.id == bindparam("clue"))


def _place_of_premise(session: Session, premise_id: int) -> Place:
    return Place(*session.execute(_BY_PREMISE_ID, {"clue": premise_id}).one())


def _customer_match(
    session: Session, method: MatchMethod, clue: str, confidence: float, claim: bool
) -> Match:
    """One customer found: placed. Several: their premises become candidates for an agent."""
    rows = session.execute(_CUSTOMER_QUERIES[method, claim], {"clue": clue}).all()
    places = [Place(*row[:_PLACE_COLUMNS]) for row in rows]
    if len(places) == 1:
        return Match(method=method, confidence=confidence, place=places[0], claimed=claim)
    return Match(
        method=method, confidence=0.0, candidates=tuple(p.premise_ref or "" for p in places)
    )


def _by_account(session: Session, clues: Clues, settings: Settings, claim: bool) -> Match:
    if not clues.account:
        return NO_MATCH
    return _customer_match(session, MatchMethod.ACCOUNT, clues.account, 1.0, claim)


def _by_phone(session: Session, clues: Clues, settings: Settings, claim: bool) -> Match:
    if not clues.phone:
        return NO_MATCH
    return _customer_match(session, MatchMethod.PHONE, clues.phone, 0.9, claim)


def _by_email(session: Session, clues: Clues, settings: Settings, claim: bool) -> Match:
    if not clues.email:
        return NO_MATCH
    return _customer_match(session, MatchMethod.EMAIL, clues.email.lower(), 0.85, claim)


def _by_gps(session: Session, clues: Clues, settings: Settings, claim: bool) -> Match:
    """Nearest premise, if close; else nearest transformer, if close enough (KNN on GiST)."""
    if clues.lon is None or clues.lat is None:
        return NO_MATCH
    point = func.ST_SetSRID(func.ST_MakePoint(clues.lon, clues.lat), 4326)
    distance = func.ST_DistanceSphere(Premise.geom, point)
    nearest = session.execute(
        select(Premise.id, Premise.ref, Premise.transformer_id, distance.label("metres"))
        .order_by(Premise.geom.op("<->")(point))
        .limit(8)
    ).all()
    if nearest and nearest[0].metres <= settings.gps_premise_radius_m:
        best = nearest[0]
        close = [p for p in nearest if p.metres <= best.metres + GPS_AMBIGUITY_M]
        same_transformer = len({p.transformer_id for p in close}) == 1
        # One premise among several at the same spot is a guess; their transformer is not.
        confidence = (0.9 if len(close) == 1 else 0.7) if same_transformer else 0.5
        confidence *= 1 - best.metres / (2 * settings.gps_premise_radius_m)
        place = _place_of_premise(session, best.id)
        return Match(MatchMethod.GPS_PREMISE, round(confidence, 3), place=place)
    transformer = session.execute(
        select(
            Device.id,
            Device.asset_ref,
            Feeder.id.label("feeder_id"),
            Feeder.name,
            func.coalesce(Feeder.substation_id, Device.substation_id).label("substation_id"),
            func.ST_DistanceSphere(Device.geom, point).label("metres"),
        )
        .outerjoin(Feeder, Feeder.id == Device.feeder_id)
        .where(Device.kind == "transformer")
        .order_by(Device.geom.op("<->")(point))
        .limit(1)
    ).first()
    if transformer and transformer.metres <= settings.gps_transformer_radius_m:
        place = Place(
            None,
            None,
            transformer.id,
            transformer.asset_ref,
            transformer.feeder_id,
            transformer.name,
            substation_id=transformer.substation_id,
        )
        closeness = 1 - transformer.metres / settings.gps_transformer_radius_m
        return Match(MatchMethod.GPS_TRANSFORMER, round(0.5 * closeness, 3), place=place)
    return Match(
        method=MatchMethod.GPS_PREMISE,
        confidence=0.0,
        candidates=tuple(p.ref for p in nearest[:3]),
    )


def search_query(address: str, session: Session) -> str:
    folded: str = session.scalar(select(func.search_text(literal(address)))) or ""
    folded = _ALLEY.sub("ngo", _FILLER.sub(" ", folded))
    return " ".join(folded.split())


def _by_address(session: Session, clues: Clues, settings: Settings, claim: bool) -> Match:
    """Fuzzy, accent-blind search; the house number, when given, must agree exactly."""
    if not clues.address or not clues.address.strip():
        return NO_MATCH
    query = search_query(clues.address, session)
    if not query:
        return NO_MATCH
    score = func.word_similarity(query, Premise.address_search).label("score")
    session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(ADDRESS_MIN_SCORE), True))
    )
    rows = session.execute(
        select(Premise.id, Premise.ref, Premise.address_search, score)
        .where(literal(query).op("<%")(Premise.address_search))
        .order_by(score.desc(), Premise.id)
        .limit(20)
    ).all()
    number = query.split()[0] if query.split()[0].isdigit() else None
    if number is not None:
        rows = [r for r in rows if r.address_search.split()[0] == number]
    if not rows:
        return NO_MATCH
    best = rows[0]
    tied = [r for r in rows if best.score - r.score <= ADDRESS_TIE_MARGIN]
    if len(tied) > 1:
        return Match(
            method=MatchMethod.ADDRESS, confidence=0.0, candidates=tuple(r.ref for r in tied[:5])
        )
    place = _place_of_premise(session, best.id)
    return Match(MatchMethod.ADDRESS, round(float(best.score), 3), place=place)
