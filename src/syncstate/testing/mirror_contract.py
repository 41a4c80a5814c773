"""The mirror-store conformance kit: every :class:`~syncstate.ports.MirrorStore` passes it.

Subclass :class:`MirrorStoreContract` in a test module and provide a
``mirror`` fixture that yields a fresh, empty store::

    class TestMyMirrorStore(MirrorStoreContract):
        @pytest.fixture
        def mirror(self, tmp_path):
            s = MyMirrorStore(tmp_path / "db")
            yield s
            s.close()

A store whose locks die with their holder's session instead of expiring by
age sets ``locks_expire_by_age = False`` (and tests that release in its own
module, by ending the session).
The kit also checks the record of runs (``record_attempt``, ``end_attempt``,
``attempts``): one row per fiscal year, newest first, older running attempts marked
interrupted by a new one, and only the newest
:data:`~syncstate.domain.mirror_attempts.ATTEMPTS_KEPT` kept per company and year.
The data is built here (:func:`make_year`), so the kit needs no files; it
needs pytest installed.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from syncstate.domain.mirror import (
    MirrorAccount,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
    compute_drift,
)
from syncstate.domain.mirror_attempts import ATTEMPTS_KEPT
from syncstate.errors import InputError, StorageError
from syncstate.periods import FiscalYear, Period
from syncstate.ports import MirrorStore

__all__ = ["MirrorStoreContract", "make_year"]

CO = "acme"
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
Y2024 = FiscalYear(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
Y2025 = FiscalYear(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
CHART = (
    MirrorAccount(number="1930", name="Bank", type="T"),
    MirrorAccount(number="3001", name="Sales 25 %", type="I"),
    MirrorAccount(number="2611", name="Output VAT", type="S"),
)


def make_year(year: FiscalYear, vouchers: int = 5, *, tag: str = "") -> MirrorYear:
    """A fiscal year with ``vouchers`` balanced vouchers, balances, period balances and a
    budget; ``tag`` changes the texts (a different load of the same year)."""
    built = []
    for i in range(vouchers):
        amount = Decimal("1250.00") + Decimal(i) / 100
        vat = (amount * Decimal("0.20")).quantize(Decimal("0.01"))
        built.append(
            MirrorVoucher(
                series="A" if i % 3 else "B",
                number=str(i // 2 + 1),  # numbers repeat: equal keys stay distinct
                date=year.start + dt.timedelta(days=i * 7 % 360),
                text=f"Sale {i}{tag}",
                transactions=(
                    MirrorTransaction(account="1930", amount=amount, text="åäö bank"),
                    MirrorTransaction(
                        account="3001",
                        amount=-(amount - vat),
                        objects=(("1", "S1"), ("6", f"P{i}")),
                        date=year.start + dt.timedelta(days=i),
                    ),
                    MirrorTransaction(account="2611", amount=-vat),
                ),
            )
        )
    return MirrorYear(
        year=year,
        balances=(
            MirrorBalance(kind="opening", account="1930", amount=Decimal("100.10")),
            MirrorBalance(
                kind="closing", account="1930", amount=Decimal("-0.005"), objects=(("1", "S1"),)
            ),
            MirrorBalance(kind="result", account="3001", amount=Decimal("-99999999.99")),
        ),
        period_balances=(
            MirrorPeriodBalance(
                period=Period(year.start.year, 1), account="3001", amount=Decimal("-12.5")
            ),
            MirrorPeriodBalance(
                period=Period(year.start.year, 2),
                account="3001",
                amount=Decimal("-30"),
                budget=True,
                objects=(("6", "P1"),),
            ),
        ),
        vouchers=tuple(built),
    )


def _load(mirror: MirrorStore, company: str, *years: MirrorYear, source: str = "test") -> None:
    staged = {y.year: mirror.stage_year(company, y, source=source, at=T0) for y in years}
    mirror.swap_in(company, staged, CHART, at=T0)


class _Recorder:
    def __init__(self) -> None:
        self.started: list[int] = []
        self.advanced = 0
        self.finished = 0

    def start(self, total: int, label: str) -> None:
        self.started.append(total)

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        self.advanced += n

    def note(self, message: str) -> None:
        pass

    def finish(self) -> None:
        self.finished += 1


class MirrorStoreContract:
    """Behaviour every mirror store must show. Provide a ``mirror`` fixture."""

    #: False for stores whose company lock is released when the holder's session dies
    locks_expire_by_age: ClassVar[bool] = True

    @pytest.fixture
    def mirror(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `mirror` fixture yielding an empty mirror store")

    # -- staging and swapping ------------------------------------------------

    def test_a_loaded_year_reads_back_exactly(self, mirror: MirrorStore) -> None:
        year = make_year(Y2024, 7)
        _load(mirror, CO, year)
        assert mirror.read_year(CO, Y2024) == year
        assert mirror.accounts(CO) == sorted(CHART, key=lambda a: a.number)
        [loaded] = mirror.loaded_years(CO)
        assert (loaded.year, loaded.vouchers, loaded.transactions) == (Y2024, 7, 21)
        assert loaded.source == "test" and loaded.loaded_at == T0

    def test_a_staged_year_is_invisible_until_swapped_in(self, mirror: MirrorStore) -> None:
        old = make_year(Y2024, 3)
        _load(mirror, CO, old)
        new = make_year(Y2024, 6, tag=" (fresh)")
        generation = mirror.stage_year(CO, new, source="fresh", at=T0)
        assert mirror.read_year(CO, Y2024) == old
        assert [y.vouchers for y in mirror.loaded_years(CO)] == [3]
        mirror.swap_in(CO, {Y2024: generation}, CHART, at=T0 + dt.timedelta(hours=1))
        assert mirror.read_year(CO, Y2024) == new
        [loaded] = mirror.loaded_years(CO)
        assert (loaded.generation, loaded.source, loaded.vouchers) == (generation, "fresh", 6)

    def test_several_years_are_swapped_in_together(self, mirror: MirrorStore) -> None:
        _load(mirror, CO, make_year(Y2025, 2), make_year(Y2024, 4))
        assert [(y.year, y.vouchers) for y in mirror.loaded_years(CO)] == [(Y2024, 4), (Y2025, 2)]

    def test_a_failed_swap_changes_nothing(self, mirror: MirrorStore) -> None:
        old = make_year(Y2024, 3)
        _load(mirror, CO, old)
        good = mirror.stage_year(CO, make_year(Y2024, 5, tag="x"), source="s", at=T0)
        other = mirror.stage_year("globex", make_year(Y2025, 1), source="s", at=T0)
        with pytest.raises(StorageError, match="not a staged load"):
            mirror.swap_in(CO, {Y2024: good, Y2025: other}, CHART, at=T0)
        assert mirror.read_year(CO, Y2024) == old
        assert mirror.read_year(CO, Y2025) is None
        assert mirror.read_year("globex", Y2025) is None

    def test_a_discarded_generation_cannot_be_swapped_in(self, mirror: MirrorStore) -> None:
        old = make_year(Y2024, 3)
        _load(mirror, CO, old)
        generation = mirror.stage_year(CO, make_year(Y2024, 9, tag="x"), source="s", at=T0)
        mirror.discard(CO, generation)
        with pytest.raises(StorageError):
            mirror.swap_in(CO, {Y2024: generation}, CHART, at=T0)
        [live] = mirror.loaded_years(CO)
        mirror.discard(CO, live.generation)  # a live generation is never discarded
        mirror.discard("globex", live.generation)
        assert mirror.read_year(CO, Y2024) == old

    def test_progress_is_reported_per_voucher_while_staging(self, mirror: MirrorStore) -> None:
        recorder = _Recorder()
        mirror.stage_year(CO, make_year(Y2024, 8), source="s", at=T0, progress=recorder)
        assert recorder.started == [8] and recorder.advanced == 8 and recorder.finished == 1

    def test_a_year_with_another_end_is_not_the_loaded_year(self, mirror: MirrorStore) -> None:
        _load(mirror, CO, make_year(Y2024, 1))
        short = FiscalYear(Y2024.start, dt.date(2024, 6, 30))
        assert mirror.read_year(CO, short) is None
        assert mirror.read_year(CO, Y2025) is None

    # -- isolation -----------------------------------------------------------

    def test_companies_are_kept_apart(self, mirror: MirrorStore) -> None:
        _load(mirror, CO, make_year(Y2024, 2))
        _load(mirror, "globex", make_year(Y2024, 4, tag="g"))
        assert mirror.read_year(CO, Y2024) == make_year(Y2024, 2)
        assert mirror.clear_years("globex", [Y2024])["vouchers"] == 4
        assert mirror.read_year(CO, Y2024) == make_year(Y2024, 2)
        assert mirror.loaded_years("globex") == []

    def test_an_empty_company_id_is_refused(self, mirror: MirrorStore) -> None:
        with pytest.raises(InputError, match="company"):
            mirror.stage_year("", make_year(Y2024, 1), source="s", at=T0)
        with pytest.raises(InputError, match="company"):
            mirror.loaded_years(" ")

    def test_other_companies_stay_usable_while_a_load_is_staged(self, mirror: MirrorStore) -> None:
        _load(mirror, CO, make_year(Y2024, 2))
        staged = mirror.stage_year(CO, make_year(Y2024, 3, tag="x"), source="s", at=T0)
        errors: list[BaseException] = []

        def other_company() -> None:
            try:
                _load(mirror, "globex", make_year(Y2025, 2))
                assert mirror.read_year(CO, Y2024) == make_year(Y2024, 2)
            except BaseException as exc:  # reported below
                errors.append(exc)

        worker = threading.Thread(target=other_company)
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive() and errors == []
        mirror.swap_in(CO, {Y2024: staged}, CHART, at=T0)
        assert mirror.read_year("globex", Y2025) == make_year(Y2025, 2)

    # -- clearing ------------------------------------------------------------

    def test_clear_removes_only_the_chosen_years_and_keeps_the_chart(
        self, mirror: MirrorStore
    ) -> None:
        _load(mirror, CO, make_year(Y2024, 3), make_year(Y2025, 2))
        removed = mirror.clear_years(
            CO, [Y2024, FiscalYear(dt.date(2020, 1, 1), dt.date(2020, 12, 31))]
        )
        assert removed == {"years": 1, "vouchers": 3, "transactions": 9, "balances": 5}
        assert [y.year for y in mirror.loaded_years(CO)] == [Y2025]
        assert mirror.read_year(CO, Y2024) is None
        assert len(mirror.accounts(CO)) == len(CHART)
        assert mirror.clear_years(CO, [Y2024])["years"] == 0  # again: nothing left

    # -- drift ---------------------------------------------------------------

    def test_drift_is_applied_in_place_and_reads_back_as_the_source(
        self, mirror: MirrorStore
    ) -> None:
        old = make_year(Y2024, 6)
        _load(mirror, CO, old)
        [before] = mirror.loaded_years(CO)
        extra = MirrorVoucher(
            series="C",
            number="99",
            date=dt.date(2024, 12, 30),
            text="late",
            transactions=(
                MirrorTransaction(account="1930", amount=Decimal("1")),
                MirrorTransaction(account="3001", amount=Decimal("-1")),
            ),
        )
        edited = MirrorVoucher(
            series=old.vouchers[2].series,
            number=old.vouchers[2].number,
            date=old.vouchers[2].date,
            text="edited",
            transactions=old.vouchers[2].transactions,
        )
        vouchers = [*old.vouchers]
        vouchers[2] = edited
        del vouchers[4]
        source = MirrorYear(
            year=Y2024,
            balances=old.balances[:1],
            period_balances=old.period_balances,
            vouchers=(*vouchers, extra),
        )
        drift = compute_drift(old, source)
        assert drift.added and drift.deleted and drift.changed
        mirror.apply_drift(CO, drift, at=T0 + dt.timedelta(days=1))
        assert mirror.read_year(CO, Y2024) == source
        [after] = mirror.loaded_years(CO)
        assert after.generation == before.generation  # patched, not reloaded
        assert after.loaded_at == T0 + dt.timedelta(days=1)
        assert compute_drift(mirror.read_year(CO, Y2024), source).is_empty

    def test_drift_for_a_year_not_in_the_mirror_is_refused(self, mirror: MirrorStore) -> None:
        drift = compute_drift(None, make_year(Y2024, 1))
        with pytest.raises(StorageError, match="not in the mirror"):
            mirror.apply_drift(CO, drift, at=T0)
        _load(mirror, CO, make_year(Y2025, 1))
        stale = compute_drift(make_year(Y2024, 1), make_year(Y2024, 2))
        with pytest.raises(StorageError, match="not in the mirror"):
            mirror.apply_drift(CO, stale, at=T0)
        assert mirror.read_year(CO, Y2024) is None

    def test_drift_naming_vouchers_the_mirror_lacks_is_refused_whole(
        self, mirror: MirrorStore
    ) -> None:
        _load(mirror, CO, make_year(Y2024, 2))
        stale = compute_drift(make_year(Y2024, 4), make_year(Y2024, 1))  # made elsewhere
        with pytest.raises(StorageError, match="not in the mirror"):
            mirror.apply_drift(CO, stale, at=T0)
        assert mirror.read_year(CO, Y2024) == make_year(Y2024, 2)

    # -- the company lock ------------------------------------------------------

    def test_one_holder_per_company_at_a_time(self, mirror: MirrorStore) -> None:
        hour = dt.timedelta(hours=1)
        assert mirror.try_lock(CO, holder="a", at=T0, stale_after=hour)
        assert mirror.try_lock(CO, holder="a", at=T0, stale_after=hour)  # again: fine
        assert not mirror.try_lock(CO, holder="b", at=T0, stale_after=hour)
        assert mirror.try_lock("globex", holder="b", at=T0, stale_after=hour)
        mirror.unlock(CO, holder="b")  # not b's: nothing happens
        assert not mirror.try_lock(CO, holder="b", at=T0, stale_after=hour)
        mirror.unlock(CO, holder="a")
        assert mirror.try_lock(CO, holder="b", at=T0, stale_after=hour)
        mirror.unlock(CO, holder="b")
        mirror.unlock("globex", holder="b")

    def test_an_old_lock_is_taken_over_only_where_locks_expire_by_age(
        self, mirror: MirrorStore
    ) -> None:
        hour = dt.timedelta(hours=1)
        assert mirror.try_lock(CO, holder="slow", at=T0, stale_after=hour)
        assert not mirror.try_lock(CO, holder="b", at=T0 + hour / 2, stale_after=hour)
        # past stale_after: taken over where locks expire; where they live as long as the
        # holder's session (which is alive here), still refused
        taken = mirror.try_lock(CO, holder="b", at=T0 + 2 * hour, stale_after=hour)
        assert taken is self.locks_expire_by_age
        mirror.unlock(CO, holder="b")
        mirror.unlock(CO, holder="slow")
        assert mirror.try_lock(CO, holder="c", at=T0, stale_after=hour)
        mirror.unlock(CO, holder="c")

    # -- the record of runs -----------------------------------------------------

    def test_an_attempt_is_recorded_per_year_and_ended(self, mirror: MirrorStore) -> None:
        attempt = mirror.record_attempt(CO, [Y2024, Y2025], operation="reload", holder="h", at=T0)
        rows = mirror.attempts(CO)
        assert {(a.attempt, a.year, a.outcome, a.ended_at) for a in rows} == {
            (attempt, Y2024, "running", None),
            (attempt, Y2025, "running", None),
        }
        assert all(a.operation == "reload" and a.holder == "h" for a in rows)
        later = T0 + dt.timedelta(minutes=5)
        mirror.end_attempt(CO, attempt, outcome="failed", reason="bad file x.se", at=later)
        mirror.end_attempt("globex", attempt, outcome="ok", reason="", at=later)  # not globex's
        rows = mirror.attempts(CO)
        assert [(a.outcome, a.reason, a.started_at, a.ended_at) for a in rows] == [
            ("failed", "bad file x.se", T0, later)
        ] * 2
        assert mirror.attempts("globex") == []

    def test_attempts_are_listed_newest_first_and_all_years_is_none(
        self, mirror: MirrorStore
    ) -> None:
        first = mirror.record_attempt(CO, None, operation="load", holder="h", at=T0)
        mirror.end_attempt(CO, first, outcome="ok", reason="", at=T0)
        second = mirror.record_attempt(
            CO,
            [Y2024],
            operation="reload",
            holder="other",
            at=T0,
            outcome="refused",
            reason="company acme is busy",
        )
        rows = mirror.attempts(CO)
        assert [(a.attempt, a.year, a.outcome) for a in rows] == [
            (second, Y2024, "refused"),
            (first, None, "ok"),
        ]
        assert rows[0].ended_at == T0 and rows[0].reason == "company acme is busy"
        assert len(mirror.attempts(CO, limit=1)) == 1

    def test_a_new_running_attempt_marks_older_running_ones_interrupted(
        self, mirror: MirrorStore
    ) -> None:
        killed = mirror.record_attempt(CO, [Y2024], operation="reload", holder="a", at=T0)
        mirror.record_attempt("globex", [Y2024], operation="load", holder="g", at=T0)
        retry = mirror.record_attempt(CO, [Y2024], operation="reload", holder="b", at=T0)
        rows = {a.attempt: a for a in mirror.attempts(CO)}
        assert rows[killed].outcome == "interrupted" and rows[killed].reason
        assert rows[retry].outcome == "running"
        assert [a.outcome for a in mirror.attempts("globex")] == ["running"]
        mirror.end_attempt(CO, killed, outcome="ok", reason="", at=T0)  # too late: stays
        assert {a.attempt: a.outcome for a in mirror.attempts(CO)}[killed] == "interrupted"

    def test_only_the_newest_attempts_per_company_and_year_are_kept(
        self, mirror: MirrorStore
    ) -> None:
        oldest_2025 = mirror.record_attempt(
            CO, [Y2025], operation="load", holder="h", at=T0, outcome="failed", reason="x"
        )
        ids = [
            mirror.record_attempt(
                CO, [Y2024], operation="load", holder="h", at=T0, outcome="failed", reason=str(i)
            )
            for i in range(ATTEMPTS_KEPT + 5)
        ]
        rows = mirror.attempts(CO, limit=100)
        assert [a.attempt for a in rows if a.year == Y2024] == ids[::-1][:ATTEMPTS_KEPT]
        assert [a.attempt for a in rows if a.year == Y2025] == [oldest_2025]
