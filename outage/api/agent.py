"""HTTP routes for call-centre agents (staff who may look customers up).

An agent files the caller's report with `POST /api/v1/reports` and `channel: "agent"`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from outage.agent import service
from outage.agent.schemas import CustomerOut, LookupKind
from outage.web.deps import SessionDep
from outage.web.principal import require

router = APIRouter(
    prefix="/api/v1/agent",
    tags=["agent"],
    dependencies=[Depends(require("customers.lookup"))],
)


@router.get("/customers", response_model=list[CustomerOut])
def find_customers(
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=300,
            description="Account number, phone number (any format) or address",
        ),
    ],
    by: Annotated[
        LookupKind | None, Query(description="Look only this way; else account, phone, address")
    ] = None,
) -> list[CustomerOut]:
    """Customers matching what the caller told the agent, up to 20, best first."""
    return service.find_customers(session, query=q, kind=by)
