"""Streaming rows into PostgreSQL with COPY: what both importers write the network with,
and what the network is read back with in bulk.

A multi-row INSERT of a network's hundred thousand rows costs more in building the
statement than in the database; COPY streams them as text, a chunk at a time. Reading
millions of rows as result rows likewise costs more than the query, and holds them all.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from grid_topology.model import Coordinate

CHUNK_ROWS = 50_000
"""Rows per piece of the COPY stream (memory, and how often progress is told)."""


def point(location: Coordinate) -> str:
    return f"SRID=4326;POINT({location[0]} {location[1]})"


def path(points: Sequence[Coordinate]) -> str:
    if len(points) == 1:
        return point(points[0])
    return "SRID=4326;LINESTRING(" + ", ".join(f"{x} {y}" for x, y in points) + ")"


def _field(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


class _Stream(io.TextIOBase):
    """A file-like view of rows for `copy_expert`, rendered a chunk at a time."""

    def __init__(self, rows: Iterable[Sequence[Any]], tick: Any) -> None:
        self._rows: Iterator[Sequence[Any]] = iter(rows)
        self._buffer = ""
        self._tick = tick

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        while size is None or size < 0 or len(self._buffer) < size:
            lines = []
            for row in self._rows:
                lines.append("\t".join(_field(v) for v in row))
                if len(lines) == CHUNK_ROWS:
                    break
            if not lines:
                break
            self._buffer += "\n".join(lines) + "\n"
            self._tick(len(lines))
        if size is None or size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


def copy(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    total: int,
    progress: Callable[[str, int, int], None] | None,
    *,
    stage: str | None = None,
) -> None:
    """Stream rows (generated lazily: millions of tuples need not sit in memory at once),
    telling progress under `stage` (the table's name unless given)."""
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(stage or table, done, total)

    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN", _Stream(rows, tick), size=1 << 20
        )
    finally:
        cursor.close()


def fetched_row(session: Session, query: Select[Any]) -> tuple[Any, ...]:
    """The one row of a query, as the driver gives it: whole columns aggregated into one
    value each need no conversion of millions of items by the ORM."""
    statement = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(str(statement))
        (row,) = cursor.fetchall()
    finally:
        cursor.close()
    return tuple(row)


def copied_out(session: Session, query: Select[Any]) -> Iterator[list[str]]:
    """The query's rows as text (booleans as `t`/`f`, NULL as the empty string), spooled
    through a temporary file by COPY and read back a line at a time."""
    statement = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    cursor = session.connection().connection.cursor()
    with tempfile.TemporaryFile("w+", newline="") as spool:
        try:
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", spool)
        finally:
            cursor.close()
        spool.seek(0)
        yield from csv.reader(spool)
