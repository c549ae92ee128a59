"""Dispatchers' and crews' actions on an incident: audited with the actor, refused when the
incident cannot take them."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from outage.incidents.changes import open_nested, restore
from outage.incidents.enums import Action
from outage.incidents.errors import IncidentConflict
from outage.incidents.lifecycle import IncidentStatus
from tests.conftest import make_crew

from .conftest import Places, act, events_of

OpenOn = Callable[..., int]

S = IncidentStatus


def test_every_action_writes_an_audit_row_with_the_actor(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    incident_id = open_on(session, places.fuses[0])
    for action, fields in [
        (Action.CONFIRM, {}),
        (Action.ASSIGN, {"crew_id": make_crew(session)}),
        (Action.EN_ROUTE, {}),
        (Action.ON_SITE, {}),
        (Action.SET_CAUSE, {"cause": "fuse blown by a squirrel"}),
        (Action.RESTORED, {}),
        (Action.CLOSE, {}),
    ]:
        act(session, incident_id, action.value, **fields)
    events = events_of(session, incident_id)[1:]
    assert [e.actor for e in events] == ["dispatcher-1"] * 7
    assert events[-1].to_status is S.CLOSED


def test_parent_with_an_active_nested_incident_cannot_close(
    session: Session, places: Places, open_on: OpenOn
) -> None:
    parent = open_on(session, places.head, customers_affected=400)
    open_nested(
        session,
        parent,
        device_asset_ref=places.fuse_below_head,
        confidence=0.8,
        customers_affected=10,
        reason="still out",
    )
    restore(session, parent, at=datetime.now(UTC), reason="breaker closed")
    act(session, parent, "set_cause", cause="tree contact")
    with pytest.raises(IncidentConflict, match="nested"):
        act(session, parent, "close")
