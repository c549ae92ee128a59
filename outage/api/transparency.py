"""Public routes of transparency: `GET /transparency/roots`, the daily roots of the
tamper-evident records (`docs/tamper-evidence.md`), for anyone to keep a copy of."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from outage.ledger import roots
from outage.ledger.schemas import RootOut
from outage.web.deps import SessionDep
from outage.web.principal import require

router = APIRouter(prefix="/api/v1", tags=["transparency"])


@router.get(
    "/transparency/roots",
    response_model=list[RootOut],
    dependencies=[Depends(require("transparency.public"))],
)
def daily_roots(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=366)] = 31,
    before: Annotated[date | None, Query(description="Only roots of days before this")] = None,
) -> list[RootOut]:
    """The daily roots, latest first: a copy kept outside the utility shows any later
    rewrite of the records."""
    return [
        RootOut.model_validate(root, from_attributes=True)
        for root in roots.published(session, limit=limit, before=before)
    ]
