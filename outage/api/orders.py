"""HTTP routes of switching orders: draft, check, approve, start, carry out step by step,
complete or abort."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from outage import clock
from outage.orders import execution, normal, service
from outage.orders.enums import OrderState
from outage.orders.execution import Executor, Networks
from outage.orders.scada import adapter_for
from outage.orders.schemas import (
    ExecuteIn,
    Expected,
    OrderIn,
    OrderOut,
    OrderPatch,
    ReturnToNormalIn,
)
from outage.web.deps import MAX_OFFSET, SessionDep, SettingsDep, TopologyDep
from outage.web.principal import AccessDenied, Principal, PrincipalDep, require

router = APIRouter(prefix="/api/v1/switching/orders", tags=["switching"])

READ = [Depends(require("orders.read"))]
DRAFT = [Depends(require("orders.draft"))]
EXECUTE = [Depends(require("orders.execute"))]


def _version(body: Expected | None) -> int | None:
    return body.expected_version if body is not None else None


def _executor(principal: Principal) -> Executor:
    grant = principal.grant("orders.execute")
    restricted = grant is not None and grant.restriction is not None
    return Executor(principal.name, crew_id=principal.crew_id, restricted=restricted)


def _not_a_crew(principal: Principal, session: SessionDep, order_id: int) -> None:
    """A crew member confirms steps; starting, completing and aborting are the control
    room's (404 first for an order that does not exist)."""
    if _executor(principal).restricted:
        service.get_order(session, order_id)
        raise AccessDenied("a crew member confirms steps; the control room runs the order")


@router.get("", response_model=list[OrderOut], dependencies=READ)
def list_orders(
    session: SessionDep,
    state: Annotated[list[OrderState] | None, Query()] = None,
    crew: int | None = None,
    incident: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[OrderOut]:
    """Newest first, with each order's steps and last check; `incident`: the orders linked
    to it (its restoration orders, the return to normal after its repair)."""
    return service.list_orders(
        session, states=state, crew_id=crew, incident_id=incident, limit=limit, offset=offset
    )


@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED, dependencies=DRAFT)
def draft_order(
    order: OrderIn, session: SessionDep, live: TopologyDep, principal: PrincipalDep
) -> OrderOut:
    """Draft an order; it is checked at once on the live network (422: an unknown or
    unswitchable device, or a loop the order does not allow)."""
    return service.draft(
        session,
        order,
        actor=principal.name,
        topology=live.energized(session),
        now=clock.now(),
    )


@router.post(
    "/return-to-normal",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=DRAFT,
)
def draft_return_to_normal(
    request: ReturnToNormalIn, session: SessionDep, live: TopologyDep, principal: PrincipalDep
) -> OrderOut:
    """Draft the order that returns these devices (or every device an operator left out
    of its normal state) to normal: openings before closings, unless loops are allowed."""
    return normal.return_to_normal(
        session,
        request.asset_refs,
        allow_loops=request.allow_loops,
        title=request.title,
        actor=principal.name,
        topology=live.energized(session),
        now=clock.now(),
    )


@router.get("/{order_id}", response_model=OrderOut, dependencies=READ)
def get_order(order_id: int, session: SessionDep) -> OrderOut:
    return service.get_order(session, order_id)


@router.patch("/{order_id}", response_model=OrderOut, dependencies=DRAFT)
def edit_order(
    order_id: int, patch: OrderPatch, session: SessionDep, live: TopologyDep
) -> OrderOut:
    """Change a draft (`steps` replaces them all); it is checked again."""
    return service.edit(session, order_id, patch, topology=live.energized(session), now=clock.now())


@router.post("/{order_id}/check", response_model=OrderOut, dependencies=DRAFT)
def check_order(order_id: int, session: SessionDep, live: TopologyDep) -> OrderOut:
    """Simulate the steps not done yet on the network as it is now."""
    return service.check(session, order_id, topology=live.energized(session), now=clock.now())


@router.post(
    "/{order_id}/approve",
    response_model=OrderOut,
    dependencies=[Depends(require("orders.approve"))],
)
def approve_order(
    order_id: int,
    session: SessionDep,
    live: TopologyDep,
    principal: PrincipalDep,
    config: SettingsDep,
    body: Expected | None = None,
) -> OrderOut:
    """Approve a draft: someone other than its drafter, in a role the settings name."""
    return service.approve(
        session,
        order_id,
        actor=principal.name,
        may_approve=any(role.value in config.order_approver_roles for role in principal.roles),
        expected_version=_version(body),
        topology=live.energized(session),
        operated=live.get(session),
        now=clock.now(),
        settings=config,
    )


@router.post("/{order_id}/start", response_model=OrderOut, dependencies=EXECUTE)
def start_order(
    order_id: int,
    session: SessionDep,
    live: TopologyDep,
    principal: PrincipalDep,
    body: Expected | None = None,
) -> OrderOut:
    _not_a_crew(principal, session, order_id)
    return service.start(
        session,
        order_id,
        expected_version=_version(body),
        topology=live.energized(session),
        now=clock.now(),
    )


@router.post("/{order_id}/steps/{position}/execute", response_model=OrderOut, dependencies=EXECUTE)
def execute_step(
    order_id: int,
    position: int,
    session: SessionDep,
    live: TopologyDep,
    principal: PrincipalDep,
    config: SettingsDep,
    body: ExecuteIn | None = None,
) -> OrderOut:
    """Carry out step `position` (only the next one): sent to SCADA when a SCADA command
    URL is set, unless `by_hand`; a crew's confirmation is always by hand."""
    return execution.execute_step(
        session,
        order_id,
        position,
        executor=_executor(principal),
        expected_version=_version(body),
        networks=Networks(live.get(session), live.energized(session)),
        now=clock.now(),
        late_within=config.scada_late_confirmation_minutes,
        scada=adapter_for(config.scada_command_url),
        by_hand=body is not None and body.by_hand,
    )


def _close(
    close: Callable[..., OrderOut],
    order_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    body: Expected | None,
) -> OrderOut:
    """Complete or abort (`close`, the service's): the control room's, not a crew's."""
    _not_a_crew(principal, session, order_id)
    return close(
        session,
        order_id,
        actor=principal.name,
        expected_version=_version(body),
        now=clock.now(),
    )


@router.post("/{order_id}/complete", response_model=OrderOut, dependencies=EXECUTE)
def complete_order(
    order_id: int, session: SessionDep, principal: PrincipalDep, body: Expected | None = None
) -> OrderOut:
    return _close(service.complete, order_id, session, principal, body)


@router.post("/{order_id}/abort", response_model=OrderOut, dependencies=EXECUTE)
def abort_order(
    order_id: int, session: SessionDep, principal: PrincipalDep, body: Expected | None = None
) -> OrderOut:
    return _close(service.abort, order_id, session, principal, body)
