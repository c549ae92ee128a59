"""The API client and credentials of a folder whose test modules each have a database of
their own (orders, restoration): its conftest names that database `module_database` and
takes these two fixtures in (`client = database_per_module.client`), which then stand in
for the shared database's."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from outage.app import create_app
from tests.conftest import Credentials, issue_credentials


@pytest.fixture(scope="module")
def credentials(module_database: str) -> Credentials:
    return issue_credentials(module_database)


@pytest.fixture(scope="module")
def client(module_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(module_database)) as client:
        yield client
