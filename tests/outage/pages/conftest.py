"""Staff pages' customers and helpers: the agent console and the review queue report for
customers of their own band, with descriptions no other test writes."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from grid_topology.model import GridModel, Premise
from outage.db import session_factory
from outage.intake.models import Report

AGENT_BAND = slice(1000, 1060)
"""The agent console and review queue tests report for these customers only. Other tests
walk the customer list from either end or take other bands; a report of ours would make
theirs a duplicate."""


@pytest.fixture(scope="package")
def agent_customers(sample_grid: GridModel) -> Iterator[Premise]:
    """Premises with a customer from the agent band, one per test that reports for one."""
    return iter([p for p in sample_grid.premises[AGENT_BAND] if p.customer is not None])


def unique_description(name: str) -> str:
    """A report description no other test writes, to find the report by."""
    return f"agent-console-test {name} {uuid.uuid4()}"


def stored_report(database_url: str, ticket: str) -> Report:
    with session_factory(database_url)() as session:
        found = session.scalar(select(Report).where(Report.ticket == ticket))
        assert found is not None
        return found
