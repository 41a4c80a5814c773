"""Inbound mirror use cases: load, clear, reload and drift, one company at a time.

* :meth:`MirrorService.load` reads a :class:`~syncstate.ports.Source` and puts its
  fiscal years in the mirror: each year is staged beside the live one and all are
  swapped in at once, so readers never see a gap or half a year.
* :meth:`MirrorService.plan_clear` says what a clear would remove and returns a
  confirmation token; :meth:`MirrorService.clear` needs that token or the company
  id typed a second time. With ``reload_from`` the fresh years replace the old
  ones atomically (no gap with no data); a failed reload keeps the old data and
  says so, and can simply be run again.
* :meth:`MirrorService.drift` compares the mirror with a fresh source read and
  :meth:`MirrorService.apply_drift` applies only the differences.

Every run holds the company's lock (other companies stay usable) and reports
progress through :class:`~syncstate.ports.Progress`. The source is only read.

Every run that changes the mirror leaves a trace: an attempt per fiscal year with
its outcome and reason (``ok``, ``failed``, ``refused`` when the company was busy,
``interrupted`` when it was killed), listed by :meth:`MirrorService.attempts`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from syncstate.domain.mirror import LoadedYear, MirrorSnapshot, YearDrift, compute_drift
from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT, MirrorAttempt, settle
from syncstate.errors import CompanyBusy, ConfirmationError, EmptySelectionError, SyncStateError
from syncstate.notebook import Tabular
from syncstate.periods import FiscalYear
from syncstate.ports import Clock, MirrorStore, Progress, Source, SystemClock

__all__ = ["ClearPlan", "LoadReport", "MirrorRun", "MirrorService"]

log = logging.getLogger(__name__)


def _years(years: Iterable[FiscalYear]) -> str:
    return ", ".join(str(y) for y in years)


@attrs.frozen(kw_only=True)
class ClearPlan(Tabular):
    """What clearing ``years`` of ``company`` would remove; ``token`` confirms it.

    Its rows are the loaded years the clear would remove.
    """

    company: str
    years: tuple[FiscalYear, ...]
    loaded: tuple[LoadedYear, ...]
    token: str

    @property
    def vouchers(self) -> int:
        """Vouchers that would be removed."""
        return sum(y.vouchers for y in self.loaded)

    @property
    def transactions(self) -> int:
        """Transactions that would be removed."""
        return sum(y.transactions for y in self.loaded)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per loaded year to remove (``loaded_at`` a ``datetime``)."""
        return [
            {
                "year": str(y.year),
                "generation": y.generation,
                "loaded_at": y.loaded_at,
                "source": y.source,
                "vouchers": y.vouchers,
                "transactions": y.transactions,
            }
            for y in self.loaded
        ]

    def _html_caption(self) -> str:
        return (
            f"clearing {_years(self.years)} of {self.company} removes {self.vouchers} vouchers "
            f"and {self.transactions} transactions; confirm with token {self.token}"
        )


@attrs.frozen(kw_only=True)
class LoadReport(Tabular):
    """What a load (or reload) put live; one table row."""

    company: str
    years: tuple[FiscalYear, ...]
    vouchers: int
    transactions: int
    source: str

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row: company, years (text), vouchers, transactions, source."""
        return [
            {
                "company": self.company,
                "years": _years(self.years),
                "vouchers": self.vouchers,
                "transactions": self.transactions,
                "source": self.source,
            }
        ]

    def _html_caption(self) -> str:
        return f"loaded {len(self.years)} fiscal years of {self.company}"


@attrs.frozen(kw_only=True)
class MirrorRun(Tabular):
    """The outcome of a clear (and reload): ``ok`` False means the old data was kept."""

    company: str
    years: tuple[FiscalYear, ...]
    cleared: bool
    reloaded: bool
    removed: dict[str, int] = attrs.field(factory=dict)
    load: LoadReport | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when everything asked for happened."""
        return not self.error

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row: what was cleared and reloaded, counts removed and loaded, error."""
        return [
            {
                "company": self.company,
                "years": _years(self.years),
                "cleared": self.cleared,
                "reloaded": self.reloaded,
                **{f"removed_{name}": n for name, n in sorted(self.removed.items())},
                "loaded_vouchers": None if self.load is None else self.load.vouchers,
                "loaded_transactions": None if self.load is None else self.load.transactions,
                "error": self.error,
            }
        ]

    def _html_caption(self) -> str:
        return self.error or f"mirror of {self.company}: {_years(self.years)} done"


@attrs.define
class _Outcome:
    """How a run ended when it returns normally (a failure it reports, not raises)."""

    outcome: str = "ok"
    reason: str = ""


def _plan_token(company: str, years: Sequence[FiscalYear], loaded: Sequence[LoadedYear]) -> str:
    text = "|".join(
        [company, *(str(y) for y in years), *(f"{y.year}:{y.generation}" for y in loaded)]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class MirrorService:
    """Load, clear, reload and compare the mirror of one company at a time."""

    def __init__(
        self,
        store: MirrorStore,
        *,
        clock: Clock | None = None,
        holder: str | None = None,
        stale_lock_after: dt.timedelta = dt.timedelta(hours=2),
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.stale_lock_after = stale_lock_after

    def attempts(self, company: str, *, limit: int = ATTEMPTS_KEPT) -> list[MirrorAttempt]:
        """The newest ``limit`` attempt rows of ``company`` (one per fiscal year of a run),
        newest first; a run that was killed shows as ``interrupted``. Only reads."""
        found = self.store.attempts(company, limit=limit)
        if not any(a.outcome == "running" for a in found):
            return found
        return settle(found, lock_held=self.store.lock_holder(company) is not None)

    @contextlib.contextmanager
    def _attempt(
        self, company: str, years: Sequence[FiscalYear] | None, operation: str
    ) -> Iterator[_Outcome]:
        """Hold the lock and record the run: its start now, its end when the block ends."""
        lock = self.locked(company)
        try:
            lock.__enter__()
        except CompanyBusy as exc:
            with contextlib.suppress(SyncStateError):
                self.store.record_attempt(
                    company,
                    years,
                    operation=operation,
                    holder=self.holder,
                    at=self.clock.now(),
                    outcome="refused",
                    reason=str(exc),
                )
            raise
        with contextlib.ExitStack() as stack:
            stack.push(lock)
            attempt = self.store.record_attempt(
                company, years, operation=operation, holder=self.holder, at=self.clock.now()
            )
            outcome = _Outcome()
            try:
                yield outcome
            except SyncStateError as exc:
                self._end(company, attempt, "failed", str(exc))
                raise
            except BaseException as exc:
                self._end(company, attempt, "interrupted", f"stopped by {type(exc).__name__}")
                raise
            self._end(company, attempt, outcome.outcome, outcome.reason)

    def _end(self, company: str, attempt: int, outcome: str, reason: str) -> None:
        try:
            self.store.end_attempt(
                company, attempt, outcome=outcome, reason=reason, at=self.clock.now()
            )
        except SyncStateError as exc:  # the run's own result matters more than its record
            log.warning("could not record the end of a mirror run: %s", exc)

    @contextlib.contextmanager
    def locked(self, company: str) -> Iterator[None]:
        """Hold ``company``'s lock for the block, or raise :class:`CompanyBusy`."""
        if not self.store.try_lock(
            company, holder=self.holder, at=self.clock.now(), stale_after=self.stale_lock_after
        ):
            holder = ""
            with contextlib.suppress(SyncStateError):
                holder = self.store.lock_holder(company) or ""
            raise CompanyBusy(company=company, holder=holder)
        try:
            # staging left by a crashed run of this company (we hold its lock now)
            discard = getattr(self.store, "discard_abandoned", None)
            if callable(discard):
                dropped = discard(company)
                if dropped:
                    log.info("dropped %d abandoned staged generation(s) of %s", dropped, company)
            yield
        finally:
            self.store.unlock(company, holder=self.holder)

    # ---------------------------------------------------------------- loading

    def load(
        self,
        company: str,
        source: Source,
        *,
        years: Iterable[FiscalYear] | None = None,
        progress: Progress | None = None,
    ) -> LoadReport:
        """Load ``years`` (all the source has when None) and swap them in together."""
        chosen = None if years is None else list(years)
        with self._attempt(company, chosen, "load"):
            return self._load(company, source, chosen, progress)

    def _load(
        self,
        company: str,
        source: Source,
        years: Iterable[FiscalYear] | None,
        progress: Progress | None,
    ) -> LoadReport:
        snapshot = source.snapshot(company, years)
        if progress is not None:
            progress.note(f"read {len(snapshot.years)} fiscal year(s) from {snapshot.source}")
        report = self._stage_and_swap(company, snapshot, progress)
        log.info(
            "mirror loaded %s from %s: %d vouchers, %d transactions",
            _years(report.years),
            report.source,
            report.vouchers,
            report.transactions,
            extra={"company": company, "records": report.vouchers},
        )
        return report

    def _stage_and_swap(
        self, company: str, snapshot: MirrorSnapshot, progress: Progress | None
    ) -> LoadReport:
        if snapshot.company != company:
            raise ConfirmationError(
                f"the source returned company {snapshot.company!r}, not {company!r}"
            )
        if not snapshot.years:
            raise EmptySelectionError(f"the source holds no fiscal year for company {company}")
        staged: dict[FiscalYear, int] = {}
        now = self.clock.now()
        try:
            for year in snapshot.years:
                staged[year.year] = self.store.stage_year(
                    company, year, source=snapshot.source, at=now, progress=progress
                )
            self.store.swap_in(company, staged, snapshot.accounts, at=self.clock.now())
        except BaseException:
            for generation in staged.values():
                with contextlib.suppress(SyncStateError):
                    self.store.discard(company, generation)
            raise
        return LoadReport(
            company=company,
            years=tuple(y.year for y in snapshot.years),
            vouchers=sum(len(y.vouchers) for y in snapshot.years),
            transactions=sum(y.transaction_count for y in snapshot.years),
            source=snapshot.source,
        )

    # --------------------------------------------------------------- clearing

    def plan_clear(self, company: str, years: Iterable[FiscalYear]) -> ClearPlan:
        """What clearing ``years`` would remove, with a token to confirm exactly that."""
        chosen = tuple(sorted(set(years), key=lambda y: y.start))
        if not chosen:
            raise EmptySelectionError("choose at least one fiscal year to clear")
        loaded = tuple(y for y in self.store.loaded_years(company) if y.year in chosen)
        plan = ClearPlan(
            company=company,
            years=chosen,
            loaded=loaded,
            token=_plan_token(company, chosen, loaded),
        )
        log.debug(
            "clear of %s planned: %d vouchers",
            _years(chosen),
            plan.vouchers,
            extra={"company": company, "records": plan.vouchers},
        )
        return plan

    def clear(
        self,
        company: str,
        years: Iterable[FiscalYear],
        *,
        confirm: str,
        reload_from: Source | None = None,
        progress: Progress | None = None,
    ) -> MirrorRun:
        """Clear the mirrored amounts of ``years`` of ``company``; optionally reload them.

        ``confirm`` must be the company id again, or the token of
        :meth:`plan_clear` for the same company, years and mirror state.
        Documents, budget versions and report templates stay; other years and
        companies stay; the source is never written to. With ``reload_from``
        the fresh years are loaded beside the old ones and swapped in; if that
        fails the old years stay live and the run says why.
        """
        plan = self.plan_clear(company, years)
        if confirm not in (company, plan.token):
            log.info(
                "clear of %s refused: not confirmed",
                _years(plan.years),
                extra={"company": company},
            )
            raise ConfirmationError(
                f"clearing company {company}: confirm with the company id or the plan token"
                f" (got {confirm!r}; the plan may be stale if the mirror changed since)"
            )
        with self._attempt(company, plan.years, "clear" if reload_from is None else "reload") as (
            outcome
        ):
            if reload_from is None:
                if progress is not None:
                    progress.start(len(plan.years), f"clearing {company}")
                try:
                    removed = self.store.clear_years(company, plan.years)
                    if progress is not None:
                        progress.advance(len(plan.years), outcome="cleared")
                finally:
                    if progress is not None:
                        progress.finish()
                log.info(
                    "mirror cleared %s: %s",
                    _years(plan.years),
                    removed,
                    extra={"company": company, "records": removed.get("vouchers", 0)},
                )
                return MirrorRun(
                    company=company, years=plan.years, cleared=True, reloaded=False, removed=removed
                )
            try:
                report = self._load(company, reload_from, plan.years, progress)
            except SyncStateError as exc:
                log.warning(
                    "reload of %s failed, old data kept: %s",
                    _years(plan.years),
                    type(exc).__name__,
                    extra={"company": company},
                )
                outcome.outcome, outcome.reason = "failed", str(exc)
                return MirrorRun(
                    company=company,
                    years=plan.years,
                    cleared=False,
                    reloaded=False,
                    error=f"reload failed, the old data of {company} is kept: {exc}",
                )
            removed = {
                "vouchers": plan.vouchers,
                "transactions": plan.transactions,
                "years": len(plan.loaded),
            }
            log.info(
                "mirror reloaded %s: %d vouchers replaced by %d",
                _years(plan.years),
                plan.vouchers,
                report.vouchers,
                extra={"company": company, "records": report.vouchers},
            )
            return MirrorRun(
                company=company,
                years=plan.years,
                cleared=True,
                reloaded=True,
                removed=removed,
                load=report,
            )

    # ------------------------------------------------------------------ drift

    def drift(
        self, company: str, source: Source, *, years: Iterable[FiscalYear] | None = None
    ) -> tuple[YearDrift, ...]:
        """Compare each year the source holds (or ``years``) with the mirror."""
        snapshot = source.snapshot(company, years)
        drifts = tuple(
            compute_drift(self.store.read_year(company, year.year), year) for year in snapshot.years
        )
        log.info(
            "drift of %s: %d of %d years differ",
            company,
            sum(not d.is_empty for d in drifts),
            len(drifts),
            extra={"company": company},
        )
        return drifts

    def apply_drift(
        self,
        company: str,
        drifts: Iterable[YearDrift],
        *,
        source: Source | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Apply only the differences; a year new to the mirror is loaded whole.

        Returns the number of years changed. New years need ``source``.
        """
        pending = [d for d in drifts if not d.is_empty]
        changed = 0
        with self._attempt(company, [d.year for d in pending], "drift"):
            if progress is not None:
                progress.start(len(pending), "applying drift")
            try:
                new_years = [d.year for d in pending if d.new_year]
                if new_years:
                    if source is None:
                        raise EmptySelectionError(
                            "the drift holds years not in the mirror: pass the source to load them"
                        )
                    self._load(company, source, new_years, None)
                    changed += len(new_years)
                    if progress is not None:
                        progress.advance(len(new_years), outcome="loaded")
                for drift in pending:
                    if drift.new_year:
                        continue
                    self.store.apply_drift(company, drift, at=self.clock.now())
                    changed += 1
                    if progress is not None:
                        progress.advance(outcome="applied")
            finally:
                if progress is not None:
                    progress.finish()
        log.info("drift applied: %d years changed", changed, extra={"company": company})
        return changed
