"""HTTP routes for call-centre agents (staff who may look customers up), and the contacts
that follow a caller's account (`contacts`: staff who manage alert subscriptions).

An agent files the caller's report with `POST /api/v1/reports` and `channel: "agent"`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from outage.agent import contacts as alert_contacts
from outage.agent import service
from outage.agent.schemas import ContactIn, ContactOut, CustomerOut, LookupKind
from outage.web.deps import SessionDep
from outage.web.principal import PrincipalDep, require

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


contacts = APIRouter(
    prefix="/api/v1/agent",
    tags=["agent"],
    dependencies=[Depends(require("subscriptions.manage"))],
)

Account = Annotated[str, Path(min_length=1, max_length=64, description="The caller's account")]


@contacts.get("/customers/{account}/contacts", response_model=list[ContactOut])
def list_contacts(account: Account, session: SessionDep) -> list[ContactOut]:
    """The contacts following the customer's account, stopped ones too."""
    return alert_contacts.contacts_of(session, account)


@contacts.post(
    "/customers/{account}/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
)
def add_contact(
    account: Account, given: ContactIn, session: SessionDep, principal: PrincipalDep
) -> ContactOut:
    """A contact the caller gives on the line follows their account at once (verified by
    the agent, audited with the agent's name); the same contact again changes nothing."""
    return alert_contacts.add_contact(session, account, given, agent=principal.name)


@contacts.delete("/contacts/{subscription_id}", response_model=ContactOut)
def stop_contact(
    subscription_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    principal: PrincipalDep,
) -> ContactOut:
    """The contact hears no more of that account or address (audited)."""
    return alert_contacts.stop_contact(session, subscription_id, agent=principal.name)
