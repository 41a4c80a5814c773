"""The record of mirror runs in SQLite (table ``mirror_attempts``, mirror schema step 2).

Used by :class:`~syncstate.adapters.storage.sqlite.mirror.SQLiteMirrorStore` inside its
transactions; see :mod:`syncstate.domain.mirror_attempts` for what the rows mean.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence

from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT, INTERRUPTED_REASON, MirrorAttempt
from syncstate.errors import StorageError
from syncstate.periods import FiscalYear

__all__ = ["end_attempt", "insert_attempt", "select_attempts"]


def insert_attempt(
    conn: sqlite3.Connection,
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
    if outcome == "running":
        conn.execute(
            "UPDATE mirror_attempts SET outcome = 'interrupted', reason = ?"
            " WHERE company = ? AND outcome = 'running'",
            (INTERRUPTED_REASON, company),
        )
    ended = None if outcome == "running" else at.isoformat()
    attempt = 0
    for year in list(years) if years is not None else [None]:
        start = None if year is None else year.start.isoformat()
        cursor = conn.execute(
            "INSERT INTO mirror_attempts (attempt, company, year_start, year_end, operation,"
            " holder, started_at, ended_at, outcome, reason)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                attempt,
                company,
                start,
                None if year is None else year.end.isoformat(),
                operation,
                holder,
                at.isoformat(),
                ended,
                outcome,
                reason,
            ),
        )
        if not attempt:
            attempt = int(cursor.lastrowid or 0)
            conn.execute("UPDATE mirror_attempts SET attempt = ? WHERE id = ?", (attempt, attempt))
        conn.execute(
            "DELETE FROM mirror_attempts WHERE company = ? AND year_start IS ? AND id NOT IN"
            " (SELECT id FROM mirror_attempts WHERE company = ? AND year_start IS ?"
            " ORDER BY id DESC LIMIT ?)",
            (company, start, company, start, ATTEMPTS_KEPT),
        )
    return attempt


def end_attempt(
    conn: sqlite3.Connection,
    company: str,
    attempt: int,
    *,
    outcome: str,
    reason: str,
    at: dt.datetime,
) -> None:
    """Record the end of a running attempt."""
    conn.execute(
        "UPDATE mirror_attempts SET outcome = ?, reason = ?, ended_at = ?"
        " WHERE company = ? AND attempt = ? AND outcome = 'running'",
        (outcome, reason, at.isoformat(), company, attempt),
    )


def select_attempts(conn: sqlite3.Connection, company: str, limit: int) -> list[MirrorAttempt]:
    """The newest ``limit`` rows of ``company``, newest first."""
    rows = conn.execute(
        "SELECT id, attempt, year_start, year_end, operation, holder, started_at, ended_at,"
        " outcome, reason FROM mirror_attempts WHERE company = ? ORDER BY id DESC LIMIT ?",
        (company, max(0, int(limit))),
    ).fetchall()
    out = []
    for row_id, attempt, start, end, operation, holder, started, ended, outcome, reason in rows:
        try:
            out.append(
                MirrorAttempt(
                    attempt=int(attempt),
                    company=company,
                    year=None
                    if start is None
                    else FiscalYear(dt.date.fromisoformat(start), dt.date.fromisoformat(end)),
                    operation=str(operation),
                    holder=str(holder),
                    started_at=dt.datetime.fromisoformat(started),
                    ended_at=None if ended is None else dt.datetime.fromisoformat(ended),
                    outcome=str(outcome),
                    reason=str(reason),
                )
            )
        except (TypeError, ValueError) as exc:
            raise StorageError(f"mirror_attempts row {row_id} is damaged: {exc}") from exc
    return out
