"""The actions an incident offers follow its status and what it holds."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_topology.model import GridModel
from outage.grid.history import NetworkHistory
from outage.grid.live import LiveTopology
from outage.incidents import queries
from outage.incidents.actions import apply_action
from outage.incidents.available import ActionFacts, available_actions, mergeable
from outage.incidents.changes import open_incident
from outage.incidents.enums import Action, IncidentKind
from outage.incidents.evidence import EvidenceRef
from outage.incidents.lifecycle import IncidentStatus as S
from outage.incidents.schemas import IncidentFeature, IncidentPatch
from outage.intake.enums import Hazard
from outage.intake.models import Report
from tests.conftest import make_crew, own_database, rolled_back

from .conftest import Places, Transfer, act, trip_and_transfer

PREDICTED = ActionFacts(
    status=S.PREDICTED,
    kind=IncidentKind.OUTAGE,
    has_crew=False,
    has_device=True,
    has_cause=False,
    reports=3,
    customers_out=40,
    resupplied=False,
    nested_active=False,
)


def test_a_predicted_outage_is_confirmed_but_has_no_crew_to_move() -> None:
    offered = available_actions(PREDICTED)
    assert Action.CONFIRM in offered
    assert not {Action.UNASSIGN, Action.EN_ROUTE, Action.ON_SITE} & set(offered)


def test_a_crew_on_site_is_not_sent_again_and_the_outage_is_no_longer_confirmed() -> None:
    offered = available_actions(replace(PREDICTED, status=S.ON_SITE, has_crew=True))
    assert Action.ASSIGN not in offered
    assert Action.ON_SITE not in offered
    assert Action.CONFIRM not in offered
    assert {Action.RESTORED, Action.PARTIAL_RESTORE, Action.CANCEL} <= set(offered)


def test_a_partly_restored_outage_cannot_be_cancelled() -> None:
    offered = available_actions(replace(PREDICTED, status=S.PARTIALLY_RESTORED, has_crew=True))
    assert Action.CANCEL not in offered


def test_a_single_customer_out_has_no_partial_restoration() -> None:
    assert Action.PARTIAL_RESTORE not in available_actions(replace(PREDICTED, customers_out=1))


def test_a_hazard_is_not_split() -> None:
    assert Action.SPLIT not in available_actions(replace(PREDICTED, kind=IncidentKind.HAZARD))


def test_restoring_by_switching_is_offered_only_when_someone_has_supply_again() -> None:
    assert Action.RESTORED_BY_SWITCHING not in available_actions(PREDICTED)
    assert Action.RESTORED_BY_SWITCHING in available_actions(replace(PREDICTED, resupplied=True))


def test_a_restored_outage_closes_only_with_its_cause_and_no_nested_outage_active() -> None:
    restored = replace(PREDICTED, status=S.RESTORED)
    assert available_actions(restored) == (Action.SET_CAUSE,)
    assert Action.CLOSE in available_actions(replace(restored, has_cause=True))
    assert Action.CLOSE not in available_actions(
        replace(restored, has_cause=True, nested_active=True)
    )


def test_a_final_incident_takes_nothing() -> None:
    assert available_actions(replace(PREDICTED, status=S.CLOSED)) == ()
    assert available_actions(replace(PREDICTED, status=S.CANCELLED)) == ()


def test_an_incident_with_a_crew_is_not_merged_away() -> None:
    assert mergeable(PREDICTED)
    assert not mergeable(replace(PREDICTED, status=S.DISPATCHED, has_crew=True))
    assert not mergeable(replace(PREDICTED, status=S.PARTIALLY_RESTORED))


# Every action the dispatcher's layer offers is one the server accepts: incidents in every
# active state, each offered action applied in a savepoint and rolled back.


@pytest.fixture(scope="module")
def offers_database(database_url: str, sample_grid: GridModel) -> Iterator[str]:
    with own_database(database_url, "offers", sample_grid) as url:
        yield url


@pytest.fixture
def session(offers_database: str) -> Iterator[Session]:
    with rolled_back(offers_database) as db:
        yield db


def _with_reports(session: Session, add_report: Callable[[Session], int], n: int) -> list[int]:
    return [add_report(session) for _ in range(n)]


def _storm(
    session: Session,
    places: Places,
    transfer: Transfer,
    add_report: Callable[[Session], int],
    open_on: Callable[..., int],
) -> list[str]:
    """Incidents in every active state, a hazard, a single-service outage and one that
    switching resupplied; returns devices none of them is on (for move and split)."""
    trip_and_transfer(session, transfer)
    used = {transfer.head, transfer.section, transfer.tie}
    fuses = [f for f in places.fuses if f not in used and places.customers[f] >= 3]
    crew = make_crew(session)
    steps: list[list[tuple[str, dict[str, object]]]] = [
        [],
        [("confirm", {})],
        [("assign", {"crew_id": crew})],
        [("assign", {"crew_id": crew}), ("en_route", {})],
        [("assign", {"crew_id": crew}), ("on_site", {})],
        [("assign", {"crew_id": crew}), ("partial_restore", {"restored_customers": 1})],
    ]
    for fuse, path in zip(fuses, steps, strict=False):
        evidence = [EvidenceRef.report(i) for i in _with_reports(session, add_report, 2)]
        incident_id = open_on(
            session, fuse, customers_affected=places.customers[fuse], evidence=evidence
        )
        for action, fields in path:
            act(session, incident_id, action, **fields)
    open_incident(
        session,
        kind=IncidentKind.HAZARD,
        hazard=Hazard.WIRES_DOWN,
        confidence=0.9,
        customers_affected=0,
        started_at=datetime.now(UTC) - timedelta(minutes=5),
        reason="wires down",
    )
    open_on(session, None, account=places.accounts[-1], customers_affected=1)
    return fuses[len(steps) :]


def _fields(
    action: Action, feature: IncidentFeature, spare: list[str], **known: object
) -> dict[str, object]:
    """What a dispatcher gives with the action, as the console's forms would."""
    p = feature.properties
    etr = datetime.now(UTC) + timedelta(hours=3, minutes=p.id)
    given: dict[Action, dict[str, object]] = {
        Action.ASSIGN: {"crew_id": known["crew"]},
        Action.PARTIAL_RESTORE: {"restored_customers": 1},
        Action.CANCEL: {"reason": "nothing found"},
        Action.SET_CAUSE: {"cause": "a tree on the line"},
        Action.SET_ETR: {"etr": etr.isoformat()},
        Action.MOVE: {"device": spare[0]},
        Action.SPLIT: {"device": spare[1], "reports": known["report"]},
        Action.MERGE: {"merged_id": known["merged"]},
    }
    return given.get(action, {})


def test_every_action_the_layer_offers_is_accepted(
    session: Session,
    places: Places,
    transfer: Transfer,
    add_report: Callable[[Session], int],
    open_on: Callable[..., int],
) -> None:
    spare = _storm(session, places, transfer, add_report, open_on)
    live = LiveTopology()
    layer = queries.incidents_geojson(
        session,
        history=NetworkHistory.load(session, live.get(session)),
        energized=live.energized(session),
    )
    features = layer.features
    other_crew = make_crew(session)
    offered = {action for f in features for action in f.properties.actions}
    assert offered >= set(Action) - {Action.CLOSE}, "the storm leaves some action untried"
    tried = 0
    for feature in features:
        merged = next(f.id for f in features if f.properties.mergeable and f.id != feature.id)
        reports = session.scalars(select(Report.id).where(Report.incident_id == feature.id))
        known = {"crew": other_crew, "merged": merged, "report": [next(iter(reports), 0)]}
        for action in feature.properties.actions:
            patch = IncidentPatch.model_validate(
                {
                    "action": action,
                    "expected_version": feature.properties.version,
                    **_fields(action, feature, spare, **known),
                }
            )
            with session.begin_nested() as attempt:
                apply_action(session, feature.id, patch, "dispatcher-1", live=live)
                attempt.rollback()
            tried += 1
    assert tried > len(features) * 4
