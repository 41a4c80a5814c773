"""The repost journal's rows, shared by the SQLite and PostgreSQL ledger stores.

Both stores keep :class:`~syncstate.domain.repost.journal.RepostJournalEntry` rows
in a ``repost_journal`` table with the columns :data:`JOURNAL_COLUMNS` after the
company; they differ only in the placeholder and in how ``at`` is stored (ISO
text in SQLite, a ``timestamptz`` in PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from syncstate.domain.repost.journal import RepostJournalEntry

__all__ = ["JOURNAL_COLUMNS", "journal_entries", "journal_insert", "journal_rows"]

#: the journal's columns after ``company``, in the order of :func:`journal_rows`
JOURNAL_COLUMNS = "calculator, scope, target, field, before, after, actor, at"


def journal_insert(table: str, placeholder: str) -> str:
    """The ``INSERT`` of one journal row into ``table`` (``?`` or ``%s`` placeholders)."""
    marks = ", ".join([placeholder] * (JOURNAL_COLUMNS.count(",") + 2))
    return f"INSERT INTO {table} (company, {JOURNAL_COLUMNS}) VALUES ({marks})"


def journal_rows(
    company: str, entries: Iterable[RepostJournalEntry], *, iso_at: bool = False
) -> list[tuple[object, ...]]:
    """The parameters of :func:`journal_insert`, one tuple an entry (``at`` as ISO text
    when ``iso_at``)."""
    return [
        (company, e.calculator, e.scope, e.target, e.field, e.before, e.after, e.actor,
         e.at.isoformat() if iso_at else e.at)
        for e in entries
    ]  # fmt: skip


def journal_entries(company: str, rows: Iterable[Sequence[Any]]) -> list[RepostJournalEntry]:
    """The entries of rows read as ``SELECT JOURNAL_COLUMNS`` (``at`` stored or ISO text)."""
    return [
        RepostJournalEntry(
            company=company,
            calculator=r[0],
            scope=r[1],
            target=r[2],
            field=r[3],
            before=r[4],
            after=r[5],
            actor=r[6],
            at=r[7] if isinstance(r[7], dt.datetime) else dt.datetime.fromisoformat(r[7]),
        )
        for r in rows
    ]
