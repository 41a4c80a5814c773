"""The inbound mirror ports: a source of bookkeeping and the store that mirrors it.

The kit that proves a :class:`MirrorStore` is
:class:`syncstate.testing.mirror_contract.MirrorStoreContract`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from syncstate.domain.mirror import (
    LoadedYear,
    MirrorAccount,
    MirrorSnapshot,
    MirrorYear,
    YearDrift,
)
from syncstate.domain.mirror_attempts import MirrorAttempt
from syncstate.periods import FiscalYear
from syncstate.ports.runtime import Progress

__all__ = ["MirrorStore", "Source"]


# ------------------------------------------------------------------ inbound mirror


class Source(Protocol):
    """Where the inbound mirror reads a company's books from: SIE files, a back end.

    A source is only ever read: nothing in syncstate writes to it. ``snapshot``
    raises :class:`~syncstate.errors.InputError` (e.g. ``SieParseError``) for
    unreadable input before anything is changed, and ``BackendError`` when a
    back end fails.
    """

    name: str

    def snapshot(self, company: str, years: Iterable[FiscalYear] | None = None) -> MirrorSnapshot:
        """The chart of accounts and the given fiscal years (all when None)."""
        ...


class MirrorStore(Protocol):
    """Keeps the mirrored books of every company, one fiscal year at a time.

    What an implementation must guarantee (the kit,
    :class:`~syncstate.testing.mirror_contract.MirrorStoreContract`, checks each):

    * **Staged, then swapped.** :meth:`stage_year` writes a year as a new
      *generation* beside the live one; nothing of it is visible until
      :meth:`swap_in` makes every staged year of the call live **in one
      transaction** (with the chart of accounts). A reader
      (:meth:`read_year`, :meth:`loaded_years`) sees the old years or the new
      ones, never half of a year or half of a swap. A staged generation that is
      not swapped in is dropped by :meth:`discard`; the live year is untouched.
    * **Readers are never blocked** by a load, a swap or a clear of the same
      company, and **other companies stay readable and writable** throughout:
      a load may take minutes, so it must not hold a lock other companies need.
    * **One company per call.** Every method touches one company only; a
      generation of another company is refused
      (:class:`~syncstate.errors.StorageError`), an empty company id is an
      :class:`~syncstate.errors.InputError`.
    * **Atomic changes**: :meth:`clear_years` and :meth:`apply_drift` change
      everything they were asked to, or nothing. Host-owned data beside the
      mirror (documents, budget versions, report templates) and the chart of
      accounts are never deleted by a clear.
    * **Values round-trip exactly**: amounts as :class:`~decimal.Decimal`,
      dates, dimension objects, and the order of vouchers, lines and balances.
    * **The company lock** (:meth:`try_lock`, :meth:`unlock`) admits one holder
      per company; the same holder may take it again. A lock must not outlive
      a crashed holder forever: either it expires (older than ``stale_after``
      is taken over) or the store releases it when the holder's session dies
      (PostgreSQL advisory locks); which one, the store's docstring says.
    * **Attempts are recorded.** :meth:`record_attempt` writes one row per fiscal
      year of a run (``None``: every year of the source) and :meth:`end_attempt`
      its outcome; :meth:`attempts` lists them newest first. A ``running``
      attempt recorded while another is still ``running`` for the company marks
      the older one ``interrupted`` (the caller holds the company lock, so the
      older run is dead). The newest
      :data:`~syncstate.domain.mirror_attempts.ATTEMPTS_KEPT` per company and
      year are kept. Reading them never writes.
    * :meth:`close` releases what the store opened; locks held through a session
      (PostgreSQL) end with it, locks kept as rows expire by age.
    """

    def stage_year(
        self,
        company: str,
        year: MirrorYear,
        *,
        source: str,
        at: dt.datetime,
        progress: Progress | None = None,
    ) -> int:
        """Write ``year`` beside the live data; return its generation (not yet visible)."""
        ...

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Make the staged generations live in one transaction; drop the old ones."""
        ...

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation that will not be swapped in."""
        ...

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year (a consistent snapshot), or None."""
        ...

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The fiscal years of ``company`` that are live, oldest first."""
        ...

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts of ``company``, by number."""
        ...

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove balances, vouchers and transactions of those years (atomically)."""
        ...

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply only the changes ``drift`` describes to the live year, atomically."""
        ...

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's lock (or a lock older than ``stale_after``); False if held."""
        ...

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it."""
        ...

    def lock_holder(self, company: str) -> str | None:
        """Who holds the company's lock (None when nobody, or a dead holder, does)."""
        ...

    def record_attempt(
        self,
        company: str,
        years: Sequence[FiscalYear] | None,
        *,
        operation: str,
        holder: str,
        at: dt.datetime,
        outcome: str = "running",
        reason: str = "",
    ) -> int:
        """Record a run of ``operation`` on ``years`` (None: all); return its attempt id.

        An ``outcome`` other than ``running`` records a run that ended at once
        (``refused``). Recording a ``running`` attempt marks the company's older
        running attempts ``interrupted``; call it only while holding the lock.
        """
        ...

    def end_attempt(
        self, company: str, attempt: int, *, outcome: str, reason: str, at: dt.datetime
    ) -> None:
        """Record how the running attempt ``attempt`` of ``company`` ended."""
        ...

    def attempts(self, company: str, *, limit: int = 20) -> list[MirrorAttempt]:
        """The newest ``limit`` attempt rows of ``company`` (all years), newest first,
        as stored (a killed run still reads ``running``; see
        :func:`~syncstate.domain.mirror_attempts.settle`)."""
        ...

    def close(self) -> None:
        """Release connections and files (and the locks of the store's own sessions)."""
        ...
