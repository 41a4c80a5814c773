"""A :class:`~syncstate.ports.ledger.WorkLedger` that journals staff and project reposts.

:class:`JournaledWorkLedger` adds to the staff and budget writes of a
:class:`~syncstate.ports.ledger.WorkLedger` a ``journal`` argument: the
:class:`~syncstate.domain.repost.journal.RepostJournalEntry` values of the
write, stored **in the same transaction** as the rows (both or neither), and
:meth:`~JournaledWorkLedger.repost_journal` to read them back. The memory,
SQLite and PostgreSQL ledgers implement it; a host's WorkLedger without it
still gets staff and project reposts, unjournaled.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, runtime_checkable

from syncstate.domain.repost.journal import RepostJournalEntry
from syncstate.domain.repost.projects import ProjectBudget
from syncstate.domain.repost.staff import ProjectWork, StaffPeriod
from syncstate.ports.ledger import WorkLedger

__all__ = ["JournaledWorkLedger"]


@runtime_checkable
class JournaledWorkLedger(WorkLedger, Protocol):
    """A WorkLedger whose staff and budget writes store their journal entries atomically."""

    def write_staff(
        self,
        company: str,
        *,
        staff: Collection[str],
        periods: Iterable[StaffPeriod],
        projects: Collection[str],
        work: Iterable[ProjectWork],
        journal: Sequence[RepostJournalEntry] = (),
    ) -> int:
        """:meth:`WorkLedger.write_staff`, storing ``journal`` in the same transaction."""
        ...

    def write_budgets(
        self,
        company: str,
        budgets: Iterable[ProjectBudget],
        *,
        journal: Sequence[RepostJournalEntry] = (),
    ) -> int:
        """:meth:`WorkLedger.write_budgets`, storing ``journal`` in the same transaction."""
        ...

    def repost_journal(self, company: str) -> list[RepostJournalEntry]:
        """The company's journal entries, oldest first (in the order written)."""
        ...
