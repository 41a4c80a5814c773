"""Drill-downs run the calculator their finding's code names, and change nothing
outside the finding's scope: the whole ledger is compared before and after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syncstate.adapters.storage.memory.ledger import MemoryRepostLedger
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.domain.repost.findings import CALCULATOR, Code, DrillDown, Finding, Scope
from syncstate.errors import InputError
from syncstate.ports.ledger import RepostLedger
from syncstate.services import repost as service
from syncstate.services.repost_wip import WipPlan
from syncstate.testing.ledger_samples import ledger_snapshot, load_messy_ledger

Factory = Callable[[], RepostLedger]


@pytest.fixture(params=["memory", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    counter = iter(range(10_000))

    def build() -> RepostLedger:
        ledger: RepostLedger
        if request.param == "memory":
            ledger = MemoryRepostLedger()
        else:
            ledger = SQLiteLedgerStore(tmp_path / f"l{next(counter)}.db")
        load_messy_ledger(ledger)
        return ledger

    return build


def _findings(make: Factory) -> list[Finding]:
    return list(service.diagnose_ledger(make(), "acme"))


def _allowed(before: dict[tuple[str, str, str], Any], finding: Finding) -> set[tuple[str, str]]:
    """The (table, id) pairs a drill-down of ``finding`` may change, from its scope."""
    scope = finding.scope
    if finding.calculator == "wip":
        entries = {k[2]: v for k, v in before.items() if k[:2] == ("acme", "wip")}
        if finding.drill_down is DrillDown.CLIENT and scope.client is not None:
            ids = {i for i, e in entries.items() if e.client == scope.client}
        elif finding.drill_down is DrillDown.INVOICE and scope.invoice is not None:
            ids = {i for i, e in entries.items() if e.invoice == scope.invoice}
        else:
            ids = {scope.document or ""}
        return {("wip", i) for i in ids}
    docs = {k[2]: v for k, v in before.items() if k[:2] == ("acme", "document")}
    if finding.drill_down is DrillDown.CLIENT and scope.client is not None:
        ids = {i for i, row in docs.items() if row[2] == scope.client}
    else:
        ids = {scope.document or ""}
    return {("balance", i) for i in ids}


def test_the_sample_ledger_produces_every_code_a_stored_ledger_can_hold(make: Factory) -> None:
    codes = {f.code for f in _findings(make)}
    staff_projects = {c for c in Code if CALCULATOR[c] in ("staff", "projects")}
    assert codes == set(Code) - staff_projects - {Code.AR_DUPLICATE_ID}


def test_every_findings_drill_down_changes_nothing_outside_its_scope(make: Factory) -> None:
    findings = _findings(make)
    assert len(findings) > 20
    for n, finding in enumerate(findings):
        ledger = make()
        before = ledger_snapshot(ledger)
        plan = service.drill_down(ledger, "acme", finding)
        assert isinstance(plan, WipPlan) == (finding.calculator == "wip"), finding
        assert ledger_snapshot(ledger) == before, "a plan must not write"
        service.apply_plan(ledger, plan)
        after = ledger_snapshot(ledger)
        changed = {
            (k[1], k[2]) for k in before.keys() | after.keys() if before.get(k) != after.get(k)
        }
        changed_elsewhere = {
            k
            for k in before.keys() | after.keys()
            if before.get(k) != after.get(k) and k[0] != "acme"
        }
        assert not changed_elsewhere, (n, finding)
        assert changed <= _allowed(before, finding), (n, str(finding), changed)
        # the finding's own field (or entry) is repaired where a repost can repair it
        if finding.code not in _STRUCTURAL:
            left = [str(f) for f in service.diagnose_ledger(ledger, "acme")]
            assert str(finding) not in left, (n, str(finding))


#: codes a repost reports but cannot repair (the documents themselves are wrong)
_STRUCTURAL = {
    Code.AR_OVER_APPLIED,
    Code.AR_MISSING_DOCUMENT,
    Code.AR_BAD_LINK,
    Code.AR_CROSS_CLIENT,
    Code.AR_REVERSAL_AMOUNT,
}


def test_wip_findings_from_the_issue_repair_their_own_scope_only(make: Factory) -> None:
    findings = _findings(make)
    ledger = make()
    by = {(f.code, f.scope.document): f for f in findings}

    clear = service.drill_down(ledger, "acme", by[Code.WIP_CLEAR_FLAG, "W1"])
    assert isinstance(clear, WipPlan) and clear.scope == "invoice B1"
    assert [e.id for e in clear.updates] == ["W1"]  # W2 on the same invoice is right already

    orphan = service.drill_down(ledger, "acme", by[Code.WIP_ORPHAN_BILLED, "W6"])
    assert isinstance(orphan, WipPlan) and orphan.scope == "client BETA"

    blank = service.drill_down(ledger, "acme", by[Code.WIP_BLANK_TYPE, "W4"])  # no client
    assert isinstance(blank, WipPlan) and blank.scope == "entry W4"
    assert [d.id for d in blank.result.deletions] == ["W4"]

    misc = service.drill_down(ledger, "acme", by[Code.AR_MISSING_DOCUMENT, "MR-1"])  # no client
    assert not isinstance(misc, WipPlan) and misc.scope == "document MR-1"
    assert {row[0] for row in misc.rows} <= {"MR-1"}


_NO_DRILL_DOWN = [
    c for c in Code if c is Code.AR_DUPLICATE_ID or CALCULATOR[c] in ("staff", "projects")
]


@pytest.mark.parametrize("code", _NO_DRILL_DOWN, ids=lambda c: c.value)
def test_codes_without_a_drill_down_are_refused_and_write_nothing(
    code: Code, make: Factory
) -> None:
    ledger = make()
    before = ledger_snapshot(ledger)
    finding = Finding(
        code=code,
        scope=Scope(company="acme", client="ACME", document="INV-1", staff="S1", project="P1"),
        message="m",
    )
    with pytest.raises(InputError, match="drill-down"):
        service.drill_down(ledger, "acme", finding)
    assert ledger_snapshot(ledger) == before
