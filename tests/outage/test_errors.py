"""One error model: every domain error knows its status, and one handler answers it."""

import importlib
import pkgutil

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import outage
from outage.errors import DomainError, RateLimited
from outage.incidents.lifecycle import IncidentStatus, InvalidTransition
from outage.open311.formats import Open311Error
from outage.web.errors import install_error_handlers

for _module in pkgutil.walk_packages(outage.__path__, "outage."):
    if ".migrations" not in _module.name and not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)


def _every(cls: type[DomainError]) -> list[type[DomainError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _every(child))]


DOMAIN_ERRORS = sorted(set(_every(DomainError)) - {DomainError}, key=lambda c: c.__qualname__)

_SAMPLES: dict[type[DomainError], DomainError] = {
    RateLimited: RateLimited("address", 7),
    InvalidTransition: InvalidTransition(1, IncidentStatus.RESTORED, IncidentStatus.CANCELLED),
    Open311Error: Open311Error(400, "the reason"),
}


def _sample(cls: type[DomainError]) -> DomainError:
    return _SAMPLES.get(cls) or cls("the reason")


def test_the_domain_errors_are_found() -> None:
    names = {cls.__name__ for cls in DOMAIN_ERRORS}
    assert {"IncidentNotFound", "InvalidCrewValue", "InvalidRequestTransition"} <= names


def test_domain_error_names_are_unique_across_domains() -> None:
    names = [cls.__name__ for cls in DOMAIN_ERRORS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__qualname__)
def test_the_handler_answers_each_domain_error_with_its_status(cls: type[DomainError]) -> None:
    error = _sample(cls)
    assert error.status in range(400, 500)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refuse")
    def refuse() -> None:
        raise error

    answer = TestClient(app).get("/refuse")
    assert answer.status_code == error.status
    coded = {"code": error.code} if error.code is not None else {}
    assert answer.json() == {"detail": str(error), **coded}
    if isinstance(error, RateLimited):
        assert answer.headers["Retry-After"] == "7"
    else:
        assert "Retry-After" not in answer.headers
