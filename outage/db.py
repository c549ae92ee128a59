"""Database engine, sessions and migrations: the one place that knows how to reach PostgreSQL."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Dialect,
    Engine,
    Enum,
    String,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from outage.i18n import Language

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


def checked_enum(kind: type, name: str, length: int = 20) -> Enum:
    """An enum stored as text with a CHECK named `name`, so a new value is a small migration."""
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class LanguageCode(TypeDecorator[Language]):
    """A `Language` stored as its code, `VARCHAR(2)` (each table checks the codes it takes)."""

    impl = String(2)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else Language(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Language | None:
        return None if value is None else Language(value)


POOL_SIZE = 20
"""Connections a process keeps open: as many as requests it serves at once, so a burst
reuses them instead of opening (and forking a server backend for) one per request."""

POOL_OVERFLOW = 20
"""Further connections a process may open for a moment, closed again when returned."""


@lru_cache
def get_engine(url: str) -> Engine:
    return _without_jit(
        create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, future=True
        )
    )


def _without_jit(engine: Engine) -> Engine:
    """Every connection with PostgreSQL's JIT off. It compiles a statement's expressions
    to machine code: for the public map's premises in a storm, a statement carrying lists
    of 660,000 values, that left 700 MB in the server process that ran it, which each of
    the storm benchmark's pooled connections kept until the machine ran out of memory
    (with JIT off: 27 MB). The service's statements are short; none gains from it."""

    @event.listens_for(engine, "connect")
    def _jit_off(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("SET jit = off")
        cursor.close()
        connection.commit()

    return engine


def array_literal(values: Iterable[str]) -> str:
    """An array's text form, for a parameter the statement casts (`CAST(:p AS text[])`).
    A list is sent as an ARRAY[...] expression of as many parts, which the server parses
    and plans part by part: a quarter of a million references took it seconds and left
    hundreds of MB in its process; one string is parsed in milliseconds."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


REPLICA_CONNECT_TIMEOUT_S = 2
"""A standby that does not answer within this long is taken as down (public reads go to
the primary) rather than holding every public request while the network times out."""


@lru_cache
def get_replica_engine(url: str) -> Engine:
    return _without_jit(
        create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT_S},
        )
    )


def replica_session_factory(url: str) -> sessionmaker[Session]:
    """Sessions on a read replica: as `session_factory`'s, but quick to give up connecting."""
    return sessionmaker(bind=get_replica_engine(url), expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_migrations(url: str) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    command.upgrade(alembic_config(url), "head")


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction per unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def create_database(url: str, name: str) -> str:
    """A new, migrated database beside the one at `url` (dropped first if it exists)."""
    drop_database(url, name)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    new_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    run_migrations(new_url)
    return new_url


def drop_database(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
