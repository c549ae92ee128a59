"""Reliability at a large utility's size: a five-year IEEE 1366 report with Major Event Days.

A fresh database with a million customers (on the sample grid's premises, spread over
its regions) and ten years of their interruptions as the spells job stores them: each
customer's spells, keyed by the customer's id, packed into one row each too, and the
system's totals by the instant they began (`outage.incidents.recorded`), written straight
in with `generate_series`. About one sustained interruption per customer a year, in
outages of 1 to 400 customers, a tenth of them momentary and a twentieth planned, with
storm days that become Major Event Days.
The first five years are the history the Major Event Day threshold stands on; the report
is of the last five (`reliability_report`, as `GET /api/v1/reliability` makes it).

Figures: `customers`; `records`, the spells of the five years reported; `report_s`, the
report made (goal: under 2 s, `goal_s`, `met`); `major_event_days`; and the baseline
`read_s`, the same spells only read into the service (what a report deriving its
figures in Python would start from, before any computing).
"""

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from benchmarks.harness import bench_database
from outage.db import session_factory, session_scope
from outage.grid.models import Customer
from outage.incidents.models import InterruptionSpell
from outage.incidents.recorded import pack, stored_spells
from outage.reliability.service import reliability_report

Progress = Callable[[str, int, int], None]

CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 10_000
GOAL_S = 2.0
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_YEAR = 2016
"""Ten years: five of history, then the five reported."""
REPORTED = (date(2021, 1, 1), date(2025, 12, 31))
AS_OF = datetime(2026, 1, 15, tzinfo=ZONE)
MEAN_SIZE = 200
"""Customers of an average outage: outages are drawn from 1 to twice this."""
STORMS_PER_YEAR = 4
STORM_SHARE = 10
"""One outage in this many falls on a storm day."""

_CUSTOMERS_SQL = """
CREATE TABLE bench_customers AS
SELECT n, 'BENCH-' || lpad(n::text, 7, '0') AS account, p.id AS premise_id, f.substation_id
FROM generate_series(0, :customers - 1) AS n
JOIN (SELECT id, feeder_id, row_number() OVER (ORDER BY id) - 1 AS i FROM premises
      WHERE feeder_id IS NOT NULL) AS p ON p.i = n % :premises
JOIN feeders f ON f.id = p.feeder_id
"""

_OUTAGES_SQL = """
CREATE TABLE bench_outages AS
SELECT e AS id,
  CASE WHEN e % :storm_share = 0
    THEN make_timestamptz(:first_year + (e / :storm_share) % 10,
                          1 + ((e / :storm_share / 10) % :storms) * (12 / :storms), 15,
                          0, 0, 0, 'UTC')
         + random() * interval '20 hours'
    ELSE make_timestamptz(:first_year, 1, 1, 0, 0, 0, 'UTC') + random() * interval '3652 days'
  END AS start,
  floor(random() * :customers)::int AS first,
  (1 + floor(random() * 2 * :mean_size))::int AS size,
  CASE WHEN e % 10 = 3 THEN random() * interval '4 minutes'
    ELSE interval '6 minutes' + random() * interval '5 hours' END AS length,
  e % 20 = 7 AS planned
FROM generate_series(1, :outages) AS e
"""

_IDS_SQL = """
CREATE TABLE bench_ids AS
SELECT b.n, c.id FROM bench_customers b JOIN customers c ON c.account = b.account
"""

_SPELLS_SQL = """
INSERT INTO interruption_spells (customer_id, start, "end", incident_id, planned)
SELECT c.id, o.start, o.start + o.length, o.id, o.planned
FROM bench_outages o
CROSS JOIN LATERAL generate_series(0, o.size - 1) AS k
JOIN bench_ids c ON c.n = (o.first + k) % :customers
WHERE o.id % :parts = :part
ON CONFLICT DO NOTHING
"""

_TOTALS_SQL = """
INSERT INTO interruption_totals (began_at, customer_us, interruptions)
SELECT start, sum((extract(epoch FROM "end" - start) * 1000000)::bigint), count(*)
FROM interruption_spells
WHERE NOT planned AND "end" - start > interval '5 minutes'
GROUP BY start
"""

PARTS = 20
"""Statements the spells are written in, for progress."""


def _fill(session: Session, customers: int, progress: Progress) -> None:
    """`customers` in all (the sample grid's and new ones), and their interruptions."""
    customers -= session.scalar(select(func.count(Customer.id))) or 0
    premises = session.scalar(text("SELECT count(*) FROM premises WHERE feeder_id IS NOT NULL"))
    session.execute(text(_CUSTOMERS_SQL), {"customers": customers, "premises": premises})
    session.execute(
        text(
            "INSERT INTO customers (account, premise_id, name, language)"
            " SELECT account, premise_id, 'Bench ' || n, 'vi' FROM bench_customers"
        )
    )
    session.execute(text(_IDS_SQL))
    progress("reliability: customers", customers, customers)
    outages = customers * 10 // MEAN_SIZE
    session.execute(
        text(_OUTAGES_SQL),
        {
            "outages": outages,
            "customers": customers,
            "mean_size": MEAN_SIZE,
            "first_year": FIRST_YEAR,
            "storms": STORMS_PER_YEAR,
            "storm_share": STORM_SHARE,
        },
    )
    for part in range(PARTS):
        session.execute(text(_SPELLS_SQL), {"customers": customers, "parts": PARTS, "part": part})
        progress("reliability: spells", part + 1, PARTS)
    session.execute(text(_TOTALS_SQL))
    pack(session)
    session.execute(text("DROP TABLE bench_outages, bench_customers, bench_ids"))


def _read(session: Session, start: datetime, end: datetime) -> int:
    """The baseline: the period's spells read, nothing computed."""
    spells = stored_spells(session, InterruptionSpell.start >= start, InterruptionSpell.start < end)
    return len(spells)


def run(admin_url: str, *, quick: bool, progress: Progress) -> dict[str, Any]:
    customers = QUICK_CUSTOMERS if quick else CUSTOMERS
    with bench_database(admin_url) as url:
        sessions = session_factory(url)
        with session_scope(sessions) as session:
            _fill(session, customers, progress)
        with session_scope(sessions) as session:
            session.execute(text("ANALYZE"))
        with session_scope(sessions) as session:
            started = time.perf_counter()
            report = reliability_report(
                session, start=REPORTED[0], end=REPORTED[1], zone=ZONE, as_of=AS_OF
            )
            report_s = time.perf_counter() - started
            served = session.scalar(select(func.count(Customer.id)))
        progress("reliability: report", 1, 1)
        with session_scope(sessions) as session:
            started = time.perf_counter()
            records = _read(session, report.start, report.end)
            read_s = time.perf_counter() - started
    return {
        "customers": served,
        "records": records,
        "report_s": round(report_s, 2),
        "goal_s": GOAL_S,
        "met": report_s < GOAL_S,
        "major_event_days": len(report.major_event_days),
        "saidi": round(report.with_major_events.saidi, 1),
        "saifi": round(report.with_major_events.saifi, 2),
        "read_s": round(read_s, 2),
    }
