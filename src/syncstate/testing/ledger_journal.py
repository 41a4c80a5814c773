"""The staff and project repost journal part of the ledger conformance kit.

:class:`JournalContract` is mixed into
:class:`~syncstate.testing.ledger_contract.WorkLedgerContract`: on a
:class:`~syncstate.ports.repost_journal.JournaledWorkLedger` it checks that an
applied staff or project repost journals each value it changes (row, field,
before, after, actor, time), that a repost changing nothing journals nothing,
and that a failed write stores no journal entry; on a WorkLedger without a
journal it skips.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest

from syncstate.domain.repost.journal import RepostJournalEntry
from syncstate.domain.repost.projects import ProjectBudget
from syncstate.errors import EmptySelectionError
from syncstate.money import format_amount
from syncstate.ports.ledger import WorkLedger
from syncstate.ports.repost_journal import JournaledWorkLedger
from syncstate.services import repost_work as work
from syncstate.testing.ledger_samples import Boom, load_work, then_fail

__all__ = ["AT", "JournalContract"]

#: when the kit's reposts are applied
AT = dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC)


class JournalContract:
    """Journal checks of a WorkLedger (skipped when it keeps no journal)."""

    def _journaled(self, ledger: WorkLedger) -> JournaledWorkLedger:
        if not isinstance(ledger, JournaledWorkLedger):
            pytest.skip("this WorkLedger keeps no repost journal")
        return ledger

    def test_an_applied_staff_repost_journals_each_changed_value(self, ledger: WorkLedger) -> None:
        store = self._journaled(ledger)
        load_work(store)
        work.apply_work_plan(store, work.plan_staff_repost(store, "acme"), actor="ann", at=AT)
        first = work.work_journal(store, "acme")
        periods = store.staff_periods("acme")
        assert {e.target for e in first if e.field == "hours_worked"} == {
            f"staff {p.staff} period {p.period}" for p in periods
        }
        assert {e.target for e in first if e.field == "hours"} == {
            f"work {w.project}" + (f"/{w.subproject}" if w.subproject else "")
            for w in store.project_work("acme")
        }
        assert all((e.calculator, e.scope, e.actor, e.at) == ("staff", "company", "ann", AT)
                   for e in first)  # fmt: skip
        assert all(e.before is None for e in first)  # nothing was stored before
        assert work.work_journal(store, "other") == []
        # a tampered period: the next repost of S1 journals that one value only
        bad = next(p for p in periods if p.staff == "S1")
        tampered = attrs.evolve(bad, hours_worked=bad.hours_worked + 1)
        rest = [p for p in periods if p.staff == "S1" and p != bad]
        store.write_staff("acme", staff=["S1"], periods=[tampered, *rest], projects=[], work=[])
        plan = work.plan_staff_repost(store, "acme", staff="S1")
        work.apply_work_plan(store, plan, actor="bob", at=AT)
        assert work.work_journal(store, "acme")[len(first) :] == [
            RepostJournalEntry(
                company="acme", calculator="staff", scope="staff S1",
                target=f"staff S1 period {bad.period}", field="hours_worked",
                before=format_amount(bad.hours_worked + 1), after=format_amount(bad.hours_worked),
                actor="bob", at=AT,
            )
        ]  # fmt: skip
        # an apply that changes nothing journals nothing
        count = len(work.work_journal(store, "acme"))
        work.apply_work_plan(store, work.plan_staff_repost(store, "acme"), actor="ann", at=AT)
        assert len(work.work_journal(store, "acme")) == count

    def test_an_applied_project_repost_journals_budgets_before_and_after(
        self, ledger: WorkLedger
    ) -> None:
        store = self._journaled(ledger)
        load_work(store)
        before = {p.id: p for p in store.projects("acme")}
        plan = work.plan_projects_repost(store, "acme", project="P1")
        work.apply_work_plan(store, plan, actor="ann", at=AT)
        after = {p.id: p for p in store.projects("acme")}
        expected = {
            (f"project {i}", field, format_amount(getattr(before[i], field)),
             format_amount(getattr(after[i], field)))
            for i in ("P1", "P1A")
            for field in ("budget_hours", "budget_amount")
            if format_amount(getattr(before[i], field)) != format_amount(getattr(after[i], field))
        }  # fmt: skip
        journal = work.work_journal(store, "acme")
        assert {(e.target, e.field, e.before, e.after) for e in journal} == expected
        assert len(expected) == 4 and len(journal) == 4
        assert {(e.calculator, e.scope, e.actor) for e in journal} == {
            ("projects", "project P1", "ann")
        }

    def test_a_failed_write_stores_no_journal_entry(self, ledger: WorkLedger) -> None:
        store = self._journaled(ledger)
        load_work(store)
        entry = RepostJournalEntry(
            company="acme", calculator="staff", scope="company", target="staff S1 period x",
            field="hours_worked", before=None, after="1", actor="ann", at=AT,
        )  # fmt: skip
        periods = work.plan_staff_repost(store, "acme").periods
        with pytest.raises(Boom):
            store.write_staff(
                "acme", staff=["S1"], periods=then_fail(list(periods[:2])), projects=[],
                work=[], journal=[entry],
            )  # fmt: skip
        nope = ProjectBudget(id="NOPE", budget_hours=Decimal(0), budget_amount=Decimal(0),
                             changed=True)  # fmt: skip
        with pytest.raises(EmptySelectionError):
            store.write_budgets(
                "acme", [nope], journal=[attrs.evolve(entry, calculator="projects")]
            )
        assert store.repost_journal("acme") == [] and store.staff_periods("acme") == []
