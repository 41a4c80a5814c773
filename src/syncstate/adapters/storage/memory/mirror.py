"""An in-memory :class:`~syncstate.ports.MirrorStore` for tests and notebooks.

Generations are kept as the immutable :class:`~syncstate.domain.mirror.MirrorYear`
they were staged from; a swap replaces pointers under one lock, so a reader
sees the old year or the new one. Locks expire after ``stale_after`` (there is
no session to die with). Nothing survives the process.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence

import attrs

from syncstate.domain.mirror import (
    LoadedYear,
    MirrorAccount,
    MirrorYear,
    YearDrift,
    keyed_vouchers,
)
from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT, INTERRUPTED_REASON, MirrorAttempt
from syncstate.errors import InputError, StorageError
from syncstate.periods import FiscalYear
from syncstate.ports import Progress

__all__ = ["MemoryMirrorStore"]


def _company(company: str) -> str:
    if not isinstance(company, str) or not company.strip():
        raise InputError(f"company must be a non-empty string, got {company!r}")
    return company


@attrs.frozen(kw_only=True)
class _Generation:
    company: str
    year: MirrorYear
    source: str
    live: bool = False


@attrs.frozen(kw_only=True)
class _Live:
    year: FiscalYear
    generation: int
    loaded_at: dt.datetime
    source: str


class MemoryMirrorStore:
    """The mirror in dictionaries; thread-safe (one lock), gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._generations: dict[int, _Generation] = {}
        self._live: dict[tuple[str, dt.date], _Live] = {}
        self._accounts: dict[str, dict[str, MirrorAccount]] = {}
        self._locks: dict[str, tuple[str, dt.datetime]] = {}
        self._attempts: list[MirrorAttempt] = []
        self._attempt_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"MemoryMirrorStore(years={len(self._live)})"

    # ------------------------------------------------------------------ loading

    def stage_year(
        self,
        company: str,
        year: MirrorYear,
        *,
        source: str,
        at: dt.datetime,
        progress: Progress | None = None,
    ) -> int:
        """Keep ``year`` as a new (not yet visible) generation; return its id."""
        _company(company)
        if progress is not None:
            progress.start(len(year.vouchers), f"loading {year.year}")
            progress.advance(len(year.vouchers), outcome="staged")
            progress.finish()
        with self._lock:
            generation = next(self._ids)
            self._generations[generation] = _Generation(company=company, year=year, source=source)
            return generation

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Point every staged year at its generation and store ``accounts``, at once."""
        _company(company)
        with self._lock:
            for generation in staged.values():
                found = self._generations.get(generation)
                if found is None or found.company != company or found.live:
                    raise StorageError(
                        f"generation {generation} is not a staged load of company {company}"
                    )
            for year, generation in staged.items():
                old = self._live.get((company, year.start))
                if old is not None:
                    self._generations.pop(old.generation, None)
                found = self._generations[generation]
                self._generations[generation] = attrs.evolve(found, live=True)
                self._live[(company, year.start)] = _Live(
                    year=year, generation=generation, loaded_at=at, source=found.source
                )
            chart = self._accounts.setdefault(company, {})
            for account in accounts:
                chart[account.number] = account

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation (a live one, or another company's, is left alone)."""
        with self._lock:
            found = self._generations.get(generation)
            if found is not None and found.company == company and not found.live:
                del self._generations[generation]

    # ------------------------------------------------------------------ reading

    def _live_year(self, company: str, year: FiscalYear) -> _Live | None:
        live = self._live.get((company, year.start))
        return live if live is not None and live.year.end == year.end else None

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year, or None."""
        _company(company)
        with self._lock:
            live = self._live_year(company, year)
            return None if live is None else self._generations[live.generation].year

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The live fiscal years of ``company``, oldest first."""
        _company(company)
        with self._lock:
            found = sorted(
                (live for (co, _), live in self._live.items() if co == company),
                key=lambda live: live.year.start,
            )
            return [
                LoadedYear(
                    year=live.year,
                    generation=live.generation,
                    loaded_at=live.loaded_at,
                    source=live.source,
                    vouchers=len(self._generations[live.generation].year.vouchers),
                    transactions=self._generations[live.generation].year.transaction_count,
                )
                for live in found
            ]

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts, by number."""
        _company(company)
        with self._lock:
            chart = self._accounts.get(company, {})
            return [chart[number] for number in sorted(chart)]

    def companies(self) -> list[str]:
        """Companies with at least one live fiscal year."""
        with self._lock:
            return sorted({company for company, _ in self._live})

    # ----------------------------------------------------------------- clearing

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove the live data of ``years``; return what went."""
        _company(company)
        counts = {"years": 0, "vouchers": 0, "transactions": 0, "balances": 0}
        with self._lock:
            for year in years:
                live = self._live.pop((company, year.start), None)
                if live is None:
                    continue
                gone = self._generations.pop(live.generation).year
                counts["years"] += 1
                counts["vouchers"] += len(gone.vouchers)
                counts["transactions"] += gone.transaction_count
                counts["balances"] += len(gone.balances) + len(gone.period_balances)
        return counts

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply the changes of ``drift`` to the live year, all at once."""
        _company(company)
        if drift.new_year:
            raise StorageError(f"{drift.year} is not in the mirror: load it, do not patch it")
        with self._lock:
            live = self._live.get((company, drift.year.start))
            if live is None:
                raise StorageError(f"{drift.year} of company {company} is not in the mirror")
            found = self._generations[live.generation]
            current = keyed_vouchers(found.year.vouchers)
            deleted = {key for key, _ in drift.deleted}
            changed = {key: new for key, _, new in drift.changed}
            missing = [k for k in (*deleted, *changed) if k not in current]
            if missing:
                raise StorageError(
                    f"{drift.year}: voucher {' '.join(missing[0][:2])} is not in the mirror"
                )
            vouchers = [changed.get(k, v) for k, v in current.items() if k not in deleted]
            vouchers += [v for _, v in drift.added]
            year = attrs.evolve(
                found.year,
                vouchers=tuple(vouchers),
                balances=found.year.balances if drift.balances is None else drift.balances,
                period_balances=(
                    found.year.period_balances
                    if drift.period_balances is None
                    else drift.period_balances
                ),
            )
            self._generations[live.generation] = attrs.evolve(found, year=year)
            self._live[(company, drift.year.start)] = attrs.evolve(live, loaded_at=at)

    # -------------------------------------------------------------------- locks

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's lock unless another holder took it less than ``stale_after`` ago."""
        _company(company)
        with self._lock:
            held = self._locks.get(company)
            if held is not None and held[0] != holder and held[1] + stale_after > at:
                return False
            self._locks[company] = (holder, at)
            return True

    def lock_holder(self, company: str) -> str | None:
        """Who holds the company's lock, if anyone."""
        with self._lock:
            held = self._locks.get(company)
            return None if held is None else held[0]

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it."""
        with self._lock:
            held = self._locks.get(company)
            if held is not None and held[0] == holder:
                del self._locks[company]

    # ----------------------------------------------------------------- attempts

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
        """Record a run on ``years`` (None: all); older running ones become interrupted."""
        _company(company)
        with self._lock:
            if outcome == "running":
                self._attempts = [
                    attrs.evolve(a, outcome="interrupted", reason=INTERRUPTED_REASON)
                    if a.company == company and a.outcome == "running"
                    else a
                    for a in self._attempts
                ]
            attempt = next(self._attempt_ids)
            ended = None if outcome == "running" else at
            for year in list(years) if years is not None else [None]:
                self._attempts.append(
                    MirrorAttempt(
                        attempt=attempt,
                        company=company,
                        year=year,
                        operation=operation,
                        holder=holder,
                        started_at=at,
                        ended_at=ended,
                        outcome=outcome,
                        reason=reason,
                    )
                )
                same = [a for a in self._attempts if a.company == company and a.year == year]
                for old in same[:-ATTEMPTS_KEPT]:
                    self._attempts.remove(old)
            return attempt

    def end_attempt(
        self, company: str, attempt: int, *, outcome: str, reason: str, at: dt.datetime
    ) -> None:
        """Record how the running attempt ``attempt`` ended."""
        with self._lock:
            self._attempts = [
                attrs.evolve(a, outcome=outcome, reason=reason, ended_at=at)
                if a.company == company and a.attempt == attempt and a.outcome == "running"
                else a
                for a in self._attempts
            ]

    def attempts(self, company: str, *, limit: int = 20) -> list[MirrorAttempt]:
        """The newest ``limit`` attempt rows of ``company``, newest first."""
        _company(company)
        with self._lock:
            return [a for a in reversed(self._attempts) if a.company == company][:limit]

    def close(self) -> None:
        """Nothing to release."""
