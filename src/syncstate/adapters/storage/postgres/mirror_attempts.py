"""The record of mirror runs in PostgreSQL (table ``mirror_attempts``, mirror step 2).

Used by :class:`~syncstate.adapters.storage.postgres.mirror.PostgresMirrorStore` inside
its transactions; see :mod:`syncstate.domain.mirror_attempts` for what the rows mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from syncstate.adapters.storage.base import utc
from syncstate.adapters.storage.postgres.connections import Connection
from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT, INTERRUPTED_REASON, MirrorAttempt
from syncstate.periods import FiscalYear

__all__ = ["end_attempt", "insert_attempt", "select_attempts"]


def insert_attempt(
    conn: Connection,
    company: str,
    years: Sequence[FiscalYear] | None,
    *,
    operation: str,
    holder: str,
    at: dt.datetime,
    outcome: str,
    reason: str,
) -> int:
    """Insert one row per year (one with no year for None); return the attempt id."""
    moment = utc(at)
    if outcome == "running":
        conn.execute(
            "UPDATE mirror_attempts SET outcome = 'interrupted', reason = %s"
            " WHERE company = %s AND outcome = 'running'",
            (INTERRUPTED_REASON, company),
        )
    ended = None if outcome == "running" else moment
    attempt = 0
    for year in list(years) if years is not None else [None]:
        start = None if year is None else year.start
        row = conn.execute(
            "INSERT INTO mirror_attempts (attempt, company, year_start, year_end, operation,"
            " holder, started_at, ended_at, outcome, reason)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                attempt,
                company,
                start,
                None if year is None else year.end,
                operation,
                holder,
                moment,
                ended,
                outcome,
                reason,
            ),
        ).fetchone()
        if not attempt:
            attempt = int(row[0]) if row else 0
            conn.execute(
                "UPDATE mirror_attempts SET attempt = %s WHERE id = %s", (attempt, attempt)
            )
        conn.execute(
            "DELETE FROM mirror_attempts WHERE company = %s"
            " AND year_start IS NOT DISTINCT FROM %s::date AND id NOT IN"
            " (SELECT id FROM mirror_attempts WHERE company = %s"
            " AND year_start IS NOT DISTINCT FROM %s::date ORDER BY id DESC LIMIT %s)",
            (company, start, company, start, ATTEMPTS_KEPT),
        )
    return attempt


def end_attempt(
    conn: Connection, company: str, attempt: int, *, outcome: str, reason: str, at: dt.datetime
) -> None:
    """Record the end of a running attempt."""
    conn.execute(
        "UPDATE mirror_attempts SET outcome = %s, reason = %s, ended_at = %s"
        " WHERE company = %s AND attempt = %s AND outcome = 'running'",
        (outcome, reason, utc(at), company, attempt),
    )


def select_attempts(conn: Connection, company: str, limit: int) -> list[MirrorAttempt]:
    """The newest ``limit`` rows of ``company``, newest first."""
    rows = conn.execute(
        "SELECT attempt, year_start, year_end, operation, holder, started_at, ended_at,"
        " outcome, reason FROM mirror_attempts WHERE company = %s ORDER BY id DESC LIMIT %s",
        (company, max(0, int(limit))),
    ).fetchall()
    return [
        MirrorAttempt(
            attempt=int(attempt),
            company=company,
            year=None if start is None else FiscalYear(start, end),
            operation=str(operation),
            holder=str(holder),
            started_at=started,
            ended_at=ended,
            outcome=str(outcome),
            reason=str(reason),
        )
        for attempt, start, end, operation, holder, started, ended, outcome, reason in rows
    ]
