"""The repost ledger conformance kit: every :class:`~syncstate.ports.ledger.RepostLedger`
passes it unchanged (memory, SQLite, PostgreSQL, and a host's own).

Subclass :class:`LedgerContract` (or :class:`WorkLedgerContract` for a
:class:`~syncstate.ports.ledger.WorkLedger`) in a test module and provide a
``ledger`` fixture that yields a fresh, empty ledger::

    class TestMyLedger(LedgerContract):
        @pytest.fixture
        def ledger(self, tmp_path):
            yield MyLedger(tmp_path / "db")

The kit checks what the port promises (sorted answers, one company at a time,
every write whole or not at all) and that the repost services give the same
findings and balances on it as on the in-memory ledger. It needs pytest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from syncstate.domain.repost.projects import ProjectBudget
from syncstate.domain.repost.receivables import to_rows
from syncstate.errors import EmptySelectionError
from syncstate.periods import FiscalCalendar
from syncstate.ports.ledger import RepostLedger, WorkLedger
from syncstate.services import repost as service
from syncstate.services import repost_work as work
from syncstate.services.repost_io import receivables_from_json
from syncstate.testing.ledger_journal import JournalContract
from syncstate.testing.ledger_samples import (
    CALENDAR,
    DAY,
    MESSY_RECEIVABLES,
    PROJECTS,
    STAFF,
    Boom,
    ledger_snapshot,
    load_messy_ledger,
    load_work,
    messy_wip,
    then_fail,
)

__all__ = ["CALENDAR", "LedgerContract", "WorkLedgerContract", "load_work"]


def _receivables() -> tuple[list[Any], list[Any]]:
    _, docs = receivables_from_json(MESSY_RECEIVABLES, source="kit")
    return to_rows(docs)


class LedgerContract:
    """Behaviour every repost ledger must show. Provide a ``ledger`` fixture."""

    @pytest.fixture
    def ledger(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `ledger` fixture yielding an empty ledger")

    # -- empty and isolated ----------------------------------------------------

    def test_a_new_ledger_holds_nothing(self, ledger: RepostLedger) -> None:
        assert ledger.companies() == []
        assert ledger.period_start("acme", "receivables") is None
        assert ledger.period_start("acme", "wip") is None
        assert ledger.clients("acme") == [] and ledger.wip_clients("acme") == []
        assert ledger.balances("acme", ["INV-1"]) == {}
        assert isinstance(ledger.location, str) and ledger.location

    def test_companies_never_see_each_other(self, ledger: RepostLedger) -> None:
        docs, allocs = _receivables()
        entries, invoices = messy_wip()
        ledger.load_receivables("a", docs, allocs, period_start=DAY)
        ledger.load_wip("a", entries, invoices, period_start=DAY)
        ledger.load_receivables("b", docs[:2], [], period_start=dt.date(2025, 1, 1))
        assert ledger.companies() == ["a", "b"]
        assert sorted(ledger.index("b").documents([d[0] for d in docs])) == sorted(docs[:2])
        assert ledger.wip_by_client("b", [None, "ACME", "BETA"]) == []
        assert ledger.period_start("b", "receivables") == dt.date(2025, 1, 1)
        before = {k: v for k, v in ledger_snapshot(ledger).items() if k[0] == "b"}
        ledger.write_wip("a", [], [e.id for e in entries])
        ledger.load_receivables("a", [], [], deletes=[d[0] for d in docs])
        assert {k: v for k, v in ledger_snapshot(ledger).items() if k[0] == "b"} == before

    # -- receivables -----------------------------------------------------------

    def test_receivables_read_back_exactly_and_sorted(self, ledger: RepostLedger) -> None:
        docs, allocs = _receivables()
        assert ledger.load_receivables("acme", docs, allocs, period_start=DAY) == len(docs)
        assert ledger.period_start("acme", "receivables") == DAY
        index = ledger.index("acme")
        ids = [d[0] for d in docs]
        assert sorted(index.documents(ids)) == sorted(docs)
        assert index.documents(["NOPE"]) == []
        assert sorted(index.allocations_from(ids)) == sorted(allocs)
        assert sorted(index.allocations_to(["INV-1"])) == sorted(
            a for a in allocs if a[1] == "INV-1"
        )
        assert sorted(r[0] for r in index.linked_to(["DEP-1"])) == ["CR-1"]
        total, misc, last = index.deposit_totals(["DEP-1"])["DEP-1"]
        assert (total, misc) == (60000, 0) and last is not None
        assert ledger.clients("acme") == [None, "ACME", "BETA"]
        assert ledger.client_documents("acme", None) == ["DEP-1", "MR-1"]
        acme = ledger.client_documents("acme", "ACME")
        assert acme == sorted(acme) and "INV-1" in acme and "INV-9" not in acme

    def test_a_reload_replaces_a_documents_allocations_and_deletes_drop_balances(
        self, ledger: RepostLedger
    ) -> None:
        docs, allocs = _receivables()
        ledger.load_receivables("acme", docs, allocs, period_start=DAY)
        cr1 = next(d for d in docs if d[0] == "CR-1")
        ledger.write_balances("acme", [("INV-2", 1, None, False, 0, 0, 1)])
        ledger.load_receivables("acme", [cr1], [("CR-1", "INV-2", 100, cr1[3])], deletes=["INV-2"])
        index = ledger.index("acme")
        assert index.allocations_from(["CR-1"]) == [("CR-1", "INV-2", 100, cr1[3])]
        assert ledger.balances("acme", ["INV-2"]) == {}
        assert "INV-2" not in ledger.client_documents("acme", "ACME")
        assert ledger.period_start("acme", "receivables") == DAY  # kept when not given

    def test_balances_are_written_and_read_by_id(self, ledger: RepostLedger) -> None:
        docs, allocs = _receivables()
        ledger.load_receivables("acme", docs, allocs, period_start=DAY)
        rows = [
            ("INV-1", 0, DAY.toordinal(), True, 1, 0, 100000),
            ("INV-2", 5, None, False, 0, 0, 5),
        ]
        assert ledger.write_balances("acme", rows) == 2
        assert ledger.balances("acme", ["INV-1", "INV-2", "NOPE"]) == {r[0]: r for r in rows}
        assert ledger.balances("acme", ["INV-1"]) == {"INV-1": rows[0]}

    # -- WIP ---------------------------------------------------------------------

    def test_wip_entries_read_back_exactly_by_client_invoice_and_id(
        self, ledger: RepostLedger
    ) -> None:
        entries, invoices = messy_wip()
        assert ledger.load_wip("acme", entries, invoices, period_start=DAY) == len(entries)
        assert ledger.period_start("acme", "wip") == DAY
        everything = ledger.wip_by_client("acme", ledger.wip_clients("acme"))
        assert everything == sorted(entries, key=lambda e: e.id)
        assert ledger.wip_clients("acme") == [None, "ACME", "BETA"]
        assert [e.id for e in ledger.wip_by_client("acme", [None])] == ["W4", "W5"]
        assert [e.id for e in ledger.wip_by_invoice("acme", "B1")] == ["W1", "W2"]
        assert [e.id for e in ledger.wip_by_id("acme", ["W9", "W1", "NOPE"])] == ["W1", "W9"]
        assert ledger.wip_invoices("acme", ["B1", "GONE"]) == {"B1": invoices["B1"]}
        w2 = next(e for e in everything if e.id == "W2")
        assert w2.write_updown == Decimal("50.00") and str(w2.write_updown) == "50.00"

    def test_write_wip_replaces_and_deletes_only_what_it_names(self, ledger: RepostLedger) -> None:
        entries, invoices = messy_wip()
        ledger.load_wip("acme", entries, invoices, period_start=DAY)
        w1 = next(e for e in entries if e.id == "W1")
        fixed = attrs.evolve(w1, clear_flag=True, clear_date=dt.date(2024, 2, 20))
        assert ledger.write_wip("acme", [fixed], ["W3"]) == 2
        after = {e.id: e for e in ledger.wip_by_client("acme", ledger.wip_clients("acme"))}
        assert after["W1"] == fixed and "W3" not in after
        assert {i: e for i, e in after.items() if i != "W1"} == {
            e.id: e for e in entries if e.id not in ("W1", "W3")
        }

    # -- whole or nothing ----------------------------------------------------------

    def test_a_write_that_fails_half_way_leaves_the_ledger_as_it_was(
        self, ledger: RepostLedger
    ) -> None:
        docs, allocs = _receivables()
        entries, invoices = messy_wip()
        ledger.load_receivables("acme", docs[:5], [], period_start=DAY)
        ledger.load_wip("acme", entries[:2], invoices, period_start=DAY)
        before = ledger_snapshot(ledger)
        with pytest.raises(Boom):
            ledger.load_receivables(
                "acme", docs, then_fail(allocs), deletes=["INV-1"], period_start=DAY
            )
        with pytest.raises(Boom):
            ledger.write_balances("acme", then_fail([("INV-1", 0, None, False, 0, 0, 0)]))
        with pytest.raises(Boom):
            ledger.load_wip("acme", then_fail(entries), {"B9": DAY}, period_start=DAY)
        with pytest.raises(Boom):
            ledger.write_wip("acme", then_fail(entries[2:]), [entries[0].id])
        assert ledger_snapshot(ledger) == before

    # -- the services on this ledger -------------------------------------------------

    def test_services_find_and_repair_the_same_as_on_the_memory_ledger(
        self, ledger: RepostLedger
    ) -> None:
        from syncstate.adapters.storage.memory.ledger import MemoryRepostLedger

        reference = MemoryRepostLedger()
        for target in (reference, ledger):
            load_messy_ledger(target)
        found = sorted(str(f) for f in service.diagnose_ledger(ledger, "acme"))
        assert found == sorted(str(f) for f in service.diagnose_ledger(reference, "acme"))
        for target in (reference, ledger):
            service.apply_plan(target, service.plan_receivables_repost(target, "acme"))
            service.apply_plan(target, service.plan_wip_repost(target, "acme"))
        assert ledger_snapshot(ledger) == ledger_snapshot(reference)
        left = {f.code.value for f in service.diagnose_ledger(ledger, "acme")}
        assert left == {
            "AR-BAD-LINK",
            "AR-CROSS-CLIENT",
            "AR-MISSING-DOCUMENT",
            "AR-OVER-APPLIED",
            "AR-REVERSAL-AMOUNT",
        }

    def test_a_streamed_repost_writes_what_plan_and_apply_write(self, ledger: RepostLedger) -> None:
        from syncstate.adapters.storage.memory.ledger import MemoryRepostLedger

        reference = MemoryRepostLedger()
        for target in (reference, ledger):
            load_messy_ledger(target)
        plan = service.plan_receivables_repost(reference, "acme")
        assert service.apply_plan(reference, plan) == len(plan.rows) > 0
        written, findings = service.repost_receivables_streamed(ledger, "acme", batch=3)
        assert written == len(plan.rows)
        assert sorted(map(str, findings)) == sorted(map(str, plan.findings))
        assert ledger_snapshot(ledger) == ledger_snapshot(reference)
        assert service.repost_receivables_streamed(ledger, "acme")[0] == 0

    def test_an_incremental_repost_equals_a_full_one(self, ledger: RepostLedger) -> None:
        load_messy_ledger(ledger)
        service.apply_plan(ledger, service.plan_receivables_repost(ledger, "acme"))
        _, docs = receivables_from_json(MESSY_RECEIVABLES, source="kit")
        late = attrs.evolve(next(d for d in docs if d.id == "INV-2"), amount=Decimal("450.00"))
        plan = service.incremental_repost(ledger, "acme", upserts=[late], deletes=["CR-5"])
        service.apply_plan(ledger, plan)
        full = service.plan_receivables_repost(ledger, "acme")
        assert full.is_empty, full.changes

    def test_an_incremental_wip_repost_redoes_only_what_changed(self, ledger: RepostLedger) -> None:
        load_messy_ledger(ledger)
        service.apply_plan(ledger, service.plan_wip_repost(ledger, "acme"))
        entries, _ = messy_wip()
        w9 = next(e for e in entries if e.id == "W9")
        billed = attrs.evolve(w9, invoice="B1", billing_status="billed", billed_amount=Decimal(9))
        period = service.wip_period(ledger, "acme")
        ledger.load_wip("acme", [billed], {"B2": dt.date(2024, 2, 25)}, period_start=period)
        before = ledger_snapshot(ledger)
        plan = service.incremental_wip_repost(ledger, "acme", changed=["W9"], invoices=["B2"])
        assert {e.id for e in plan.updates} == {"W8", "W9"}  # W9 billed on B1; B2 moved
        assert ledger_snapshot(ledger) == before  # planning writes nothing
        service.apply_plan(ledger, plan)
        assert service.plan_wip_repost(ledger, "acme").is_empty  # equal to a full repost
        nothing = service.incremental_wip_repost(ledger, "acme", changed=["NOPE"])
        assert nothing.is_empty and nothing.result.balances == ()


class WorkLedgerContract(JournalContract, LedgerContract):
    """Staff and project ledgers: provide a ``ledger`` fixture yielding a WorkLedger."""

    def test_staff_projects_and_calendar_read_back_exactly(self, ledger: WorkLedger) -> None:
        assert ledger.fiscal_calendar("acme") == FiscalCalendar()
        load_work(ledger)
        assert ledger.fiscal_calendar("acme") == CALENDAR
        assert ledger.staff_members("acme") == STAFF
        assert ledger.projects("acme") == sorted(PROJECTS, key=lambda p: p.id)
        assert ledger.fiscal_calendar("other") == FiscalCalendar()
        assert ledger.staff_members("other") == [] and ledger.projects("other") == []

    def test_staff_repost_stores_fiscal_periods_and_finds_a_tampered_one(
        self, ledger: WorkLedger
    ) -> None:
        load_work(ledger)
        plan = work.plan_staff_repost(ledger, "acme")
        assert {f.code.value for f in plan.findings} >= {"STAFF-BALANCE"}
        work.apply_work_plan(ledger, plan)
        stored = ledger.staff_periods("acme")
        assert [str(p.period) for p in stored if p.staff == "S1"][:2] == ["2023-P01", "2023-P02"]
        assert all(p.period in CALENDAR.periods(p.period.year) for p in stored)
        left = {(f.code.value, f.scope.staff) for f in service.diagnose_ledger(ledger, "acme")}
        assert ("STAFF-NO-RATE", "S2") in left  # S2 has no rate table
        assert not any(code == "STAFF-BALANCE" for code, _ in left)
        bad = attrs.evolve(stored[0], hours_worked=stored[0].hours_worked + 1)
        ledger.write_staff("acme", staff=["S1"], periods=[bad, *stored[1:12]], projects=[], work=[])
        found = [f for f in service.diagnose_ledger(ledger, "acme") if f.calculator == "staff"]
        assert [(f.code.value, f.scope.staff, f.expected, f.actual) for f in found][1:] == [
            (
                "STAFF-BALANCE",
                "S1",
                str(stored[0].hours_worked),
                str(stored[0].hours_worked + 1),
            )
        ]

    def test_a_staff_members_repost_touches_only_their_rows(self, ledger: WorkLedger) -> None:
        load_work(ledger)
        work.apply_work_plan(ledger, work.plan_staff_repost(ledger, "acme"))
        rows = ledger.staff_periods("acme")
        broken = [attrs.evolve(p, cost_rate=Decimal("1")) for p in rows]
        ledger.write_staff("acme", staff=["S1", "S2"], periods=broken, projects=[], work=[])
        before = ledger.staff_periods("acme")
        work.apply_work_plan(ledger, work.plan_staff_repost(ledger, "acme", staff="S2"))
        after = ledger.staff_periods("acme")
        assert [p for p in after if p.staff == "S1"] == [p for p in before if p.staff == "S1"]
        assert [p for p in after if p.staff == "S2"] == [p for p in rows if p.staff == "S2"]

    def test_project_budgets_are_diagnosed_and_repaired_per_project(
        self, ledger: WorkLedger
    ) -> None:
        load_work(ledger)
        found = [f for f in service.diagnose_ledger(ledger, "acme") if f.calculator == "projects"]
        assert {(f.code.value, f.scope.project, f.expected, f.actual) for f in found} == {
            ("PROJECT-BUDGET", "P1", "10.00", "1.00"),
            ("PROJECT-BUDGET", "P1", "900.00", "2.00"),
            ("PROJECT-BUDGET", "P1A", "10.00", "0.00"),
            ("PROJECT-BUDGET", "P1A", "900.00", "0.00"),
        }
        plan = work.plan_projects_repost(ledger, "acme", project="P1")
        assert work.apply_work_plan(ledger, plan) == 2
        assert work.plan_projects_repost(ledger, "acme").is_empty
        p2 = next(p for p in ledger.projects("acme") if p.id == "P2")
        assert (p2.budget_hours, p2.budget_amount) == (Decimal("5"), Decimal("500.00"))

    def test_a_failing_staff_write_leaves_the_ledger_as_it_was(self, ledger: WorkLedger) -> None:
        load_work(ledger)
        work.apply_work_plan(ledger, work.plan_staff_repost(ledger, "acme"))
        before = (ledger.staff_periods("acme"), ledger.project_work("acme"))
        with pytest.raises(Boom):
            ledger.write_staff(
                "acme",
                staff=["S1", "S2"],
                periods=then_fail(before[0][:3]),
                projects=["P1"],
                work=[],
            )
        with pytest.raises(EmptySelectionError):
            ledger.write_budgets(
                "acme",
                [
                    ProjectBudget(
                        id="P2", budget_hours=Decimal(0), budget_amount=Decimal(0), changed=True
                    ),
                    ProjectBudget(
                        id="NOPE", budget_hours=Decimal(0), budget_amount=Decimal(0), changed=True
                    ),
                ],
            )
        assert (ledger.staff_periods("acme"), ledger.project_work("acme")) == before
        assert next(p for p in ledger.projects("acme") if p.id == "P2").budget_hours == 5
