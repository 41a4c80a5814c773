"""The inbound mirror ports: a source of bookkeeping and the store that mirrors it."""

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

    A year is loaded beside the live one (``stage_year``) and swapped in
    atomically (``swap_in``): readers see the old year or the new one, never
    half of one. Every method touches one company only; host-owned data
    (documents, budget versions, report templates) is never touched.
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
