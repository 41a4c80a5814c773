"""Diagnostics: compare stored balances with recomputed ones, and plan repairs.

:func:`diagnose_receivables` and :func:`diagnose_wip` return one
:class:`~syncstate.domain.repost.findings.Finding` per field that differs,
with the stable code of that field and the expected (recomputed) and actual
(stored) values. :func:`plan_receivables` turns recomputed rows into a
:class:`RepostPlan` the caller inspects before anything is written (dry run
first, apply second). :func:`drill_down_scope` says what a finding's
drill-down reposts, with which calculator (:class:`DrillTarget`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from syncstate.domain.repost.findings import Calculator, Code, DrillDown, Finding, Scope
from syncstate.domain.repost.receivables import (
    PAYMENT_TYPES,
    BalanceRow,
    from_cents,
)
from syncstate.domain.repost.wip import WipBalance, WipEntry
from syncstate.notebook import Tabular

__all__ = [
    "RECEIVABLE_FIELDS",
    "Change",
    "DrillTarget",
    "RepostPlan",
    "diagnose_receivables",
    "diagnose_wip",
    "drill_down_scope",
    "plan_receivables",
]

#: balance-row fields, their position in a row, and the code a difference gets
RECEIVABLE_FIELDS: tuple[tuple[str, int, Code], ...] = (
    ("outstanding", 1, Code.AR_OUTSTANDING),
    ("clear_date", 2, Code.AR_CLEAR_DATE),
    ("clear_flag", 3, Code.AR_CLEAR_FLAG),
    ("payment_type", 4, Code.AR_PAYMENT_TYPE),
    ("gl.bank", 5, Code.AR_GL),
    ("gl.receivables", 6, Code.AR_GL),
)


def _show(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if name in ("outstanding", "gl.bank", "gl.receivables") and isinstance(value, int):
        return str(from_cents(value))
    if name == "clear_date" and isinstance(value, int):
        return dt.date.fromordinal(value).isoformat()
    if name == "payment_type" and isinstance(value, int):
        return None if value < 0 else PAYMENT_TYPES[value].value
    return str(value)


@attrs.frozen(kw_only=True)
class Change:
    """One field of one document that a repost would change."""

    document: str
    client: str | None
    field: str
    before: str | None
    after: str | None


@attrs.frozen(kw_only=True)
class RepostPlan(Tabular):
    """What a repost would write, for the caller to inspect before applying.

    :meth:`to_records` gives one row per changed field; in Jupyter the plan
    shows as that table.
    """

    company: str
    calculator: str
    scope: str
    rows: tuple[BalanceRow, ...]
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]

    @property
    def is_empty(self) -> bool:
        """True when applying the plan would change nothing."""
        return not self.changes

    def changed_rows(self) -> tuple[BalanceRow, ...]:
        """Only the rows whose stored balances differ."""
        ids = {c.document for c in self.changes}
        return tuple(row for row in self.rows if row[0] in ids)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per changed field: document, client, field, before, after."""
        return [attrs.asdict(c) for c in self.changes]

    def _html_caption(self) -> str:
        return (
            f"{self.calculator} repost of {self.scope} ({self.company}): "
            f"{len(self.changes)} changes, {len(self.findings)} findings"
        )


def diagnose_receivables(
    company: str,
    stored: Mapping[str, BalanceRow],
    computed: Iterable[BalanceRow],
    clients: Mapping[str, str | None],
) -> list[Finding]:
    """One finding per stored field that differs from the recomputed row."""
    findings: list[Finding] = []
    for row in computed:
        doc_id = row[0]
        scope = Scope(company=company, client=clients.get(doc_id), document=doc_id)
        old = stored.get(doc_id)
        if old is None:
            findings.append(
                Finding(
                    code=Code.AR_MISSING_BALANCE,
                    scope=scope,
                    message=f"document {doc_id} has no stored balance",
                )
            )
            continue
        for name, pos, code in RECEIVABLE_FIELDS:
            if old[pos] != row[pos]:
                findings.append(
                    Finding(
                        code=code,
                        scope=scope,
                        message=f"document {doc_id}: stored {name} is wrong",
                        expected=_show(name, row[pos]),
                        actual=_show(name, old[pos]),
                    )
                )
    return findings


def plan_receivables(
    company: str,
    scope: str,
    stored: Mapping[str, BalanceRow],
    computed: Iterable[BalanceRow],
    clients: Mapping[str, str | None],
    findings: Iterable[Finding] = (),
) -> RepostPlan:
    """The plan that writes ``computed`` rows over ``stored`` ones."""
    rows = tuple(computed)
    changes: list[Change] = []
    for row in rows:
        old = stored.get(row[0])
        for name, pos, _code in RECEIVABLE_FIELDS:
            before = None if old is None else old[pos]
            if old is None or before != row[pos]:
                changes.append(
                    Change(
                        document=row[0],
                        client=clients.get(row[0]),
                        field=name,
                        before=_show(name, before),
                        after=_show(name, row[pos]),
                    )
                )
    return RepostPlan(
        company=company,
        calculator="receivables",
        scope=scope,
        rows=rows,
        changes=tuple(changes),
        findings=tuple(f.in_company(company) for f in findings),
    )


_WIP_FIELDS: tuple[tuple[str, Code], ...] = (
    ("clear_flag", Code.WIP_CLEAR_FLAG),
    ("clear_date", Code.WIP_CLEAR_DATE),
    ("write_updown", Code.WIP_WRITE_UPDOWN),
    ("write_date", Code.WIP_WRITE_UPDOWN),
    ("billing_status", Code.WIP_BILLING_STATUS),
    ("hide", Code.WIP_BILLING_STATUS),
)


def diagnose_wip(
    company: str, entries: Iterable[WipEntry], balances: Iterable[WipBalance]
) -> list[Finding]:
    """One finding per stored WIP field that differs from the restored value."""
    by_id = {entry.id: entry for entry in entries}
    findings: list[Finding] = []
    for balance in balances:
        entry = by_id[balance.id]
        scope = Scope(
            company=company, client=entry.client, document=entry.id, invoice=entry.invoice
        )
        for name, code in _WIP_FIELDS:
            want, have = getattr(balance, name), getattr(entry, name)
            if want != have:
                findings.append(
                    Finding(
                        code=code,
                        scope=scope,
                        message=f"WIP {entry.id}: stored {name} is wrong",
                        expected=_show(name, want),
                        actual=_show(name, have),
                    )
                )
    return findings


@attrs.frozen(kw_only=True)
class DrillTarget:
    """What a drill-down reposts: a calculator and one scope within the company.

    ``kind`` is :attr:`DrillDown.INVOICE` (a receivable document alone, or the
    WIP entries billed on ``key``), :attr:`DrillDown.CLIENT` (client ``key``'s
    documents or WIP entries), :attr:`DrillDown.ENTRY` (WIP entry ``key`` alone)
    or :attr:`DrillDown.NONE` (no drill-down: ``reason`` says why).
    """

    calculator: Calculator
    kind: DrillDown
    key: str | None = None
    reason: str | None = None

    @property
    def label(self) -> str:
        """The scope as a plan names it: ``"invoice INV-1"``, ``"client C1"``."""
        names = {
            ("receivables", DrillDown.INVOICE): "document",
            ("wip", DrillDown.INVOICE): "invoice",
        }
        return f"{names.get((self.calculator, self.kind), self.kind.value)} {self.key}"


def drill_down_scope(finding: Finding) -> DrillTarget:
    """What a drill-down for ``finding`` reposts, never more than its scope.

    The code names the calculator (:attr:`Finding.calculator`) and the kind of
    scope (:attr:`Finding.drill_down`). A client drill-down of a finding with
    no client narrows to the finding's document or entry alone: documents
    without a client (deposits, miscellaneous receipts) are never reposted as
    a group. Staff and project findings have no drill-down.
    """
    calc, kind, scope = finding.calculator, finding.drill_down, finding.scope
    if kind is DrillDown.NONE:
        why = (
            f"{calc} reposts are not run from a diagnostic drill-down"
            if calc in ("staff", "projects")
            else f"{finding.code.value} is not repaired by a drill-down"
        )
        return DrillTarget(calculator=calc, kind=DrillDown.NONE, reason=why)
    narrow = DrillDown.ENTRY if calc == "wip" else DrillDown.INVOICE
    if kind is DrillDown.CLIENT and scope.client is not None:
        return DrillTarget(calculator=calc, kind=kind, key=scope.client)
    if calc == "wip" and kind is DrillDown.INVOICE and scope.invoice is not None:
        return DrillTarget(calculator=calc, kind=kind, key=scope.invoice)
    if scope.document is not None:
        return DrillTarget(calculator=calc, kind=narrow, key=scope.document)
    return DrillTarget(
        calculator=calc,
        kind=DrillDown.NONE,
        reason=f"{finding.code.value} names no client, invoice or document to repost",
    )
