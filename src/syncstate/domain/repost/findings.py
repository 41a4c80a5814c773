"""Findings: inconsistencies a repost or a diagnostic run reports, as data.

A :class:`Finding` carries a stable :class:`Code` (hosts switch on it; the
values never change once released), the :class:`Scope` it concerns (company,
client, document, staff, project) and the expected and actual values as
strings. Findings are returned, never raised: a repost reports everything it
saw in one pass (beancount's "errors as data").

Each code names the calculator that produced it and that repairs it
(:data:`CALCULATOR`: receivables, WIP, staff or projects), and how a
drill-down repairs it (:data:`DRILL_DOWN`): per invoice, per client, per WIP
entry, or not at all (staff and project reposts are never run from a
drill-down, as the product documents say; run a scoped staff or project
repost instead).

:class:`Findings` is a list of findings that shows as a table in Jupyter and
converts to plain rows (``to_records()``) or a DataFrame.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Any, Literal

import attrs

from syncstate.notebook import Tabular, compact_repr

__all__ = [
    "CALCULATOR",
    "CALCULATORS",
    "DRILL_DOWN",
    "Calculator",
    "Code",
    "DrillDown",
    "Finding",
    "Findings",
    "Scope",
]


class Code(enum.Enum):
    """Stable error codes, one per kind of inconsistency."""

    # receivables
    AR_OUTSTANDING = "AR-OUTSTANDING"
    AR_CLEAR_DATE = "AR-CLEAR-DATE"
    AR_CLEAR_FLAG = "AR-CLEAR-FLAG"
    AR_PAYMENT_TYPE = "AR-PAYMENT-TYPE"
    AR_GL = "AR-GL"
    AR_OVER_APPLIED = "AR-OVER-APPLIED"
    AR_MISSING_DOCUMENT = "AR-MISSING-DOCUMENT"
    AR_BAD_LINK = "AR-BAD-LINK"
    AR_CROSS_CLIENT = "AR-CROSS-CLIENT"
    AR_REVERSAL_AMOUNT = "AR-REVERSAL-AMOUNT"
    AR_DUPLICATE_ID = "AR-DUPLICATE-ID"
    AR_MISSING_BALANCE = "AR-MISSING-BALANCE"
    # work in progress
    WIP_BLANK_TYPE = "WIP-BLANK-TYPE"
    WIP_BLANK_ENTRY = "WIP-BLANK-ENTRY"
    WIP_ORPHAN_BILLED = "WIP-ORPHAN-BILLED"
    WIP_CLEAR_FLAG = "WIP-CLEAR-FLAG"
    WIP_CLEAR_DATE = "WIP-CLEAR-DATE"
    WIP_WRITE_UPDOWN = "WIP-WRITE-UPDOWN"
    WIP_BILLING_STATUS = "WIP-BILLING-STATUS"
    # staff
    STAFF_NO_RATE = "STAFF-NO-RATE"
    STAFF_UNKNOWN = "STAFF-UNKNOWN"
    STAFF_BALANCE = "STAFF-BALANCE"
    # projects
    PROJECT_BUDGET = "PROJECT-BUDGET"
    PROJECT_MISSING_PARENT = "PROJECT-MISSING-PARENT"
    PROJECT_NESTING = "PROJECT-NESTING"


#: the four repost calculators
Calculator = Literal["receivables", "wip", "staff", "projects"]
CALCULATORS: tuple[Calculator, ...] = ("receivables", "wip", "staff", "projects")


class DrillDown(enum.Enum):
    """What a drill-down repost recomputes for a finding's code.

    ``INVOICE``: a receivable document alone, or the WIP entries billed on one
    invoice; ``CLIENT``: one client's documents or WIP entries; ``ENTRY``: one
    WIP entry alone; ``NONE``: no drill-down (a full or scoped repost repairs it).
    """

    INVOICE = "invoice"
    CLIENT = "client"
    ENTRY = "entry"
    NONE = "none"


#: the repost each code's drill-down runs (an "error code -> repost function" table)
DRILL_DOWN: dict[Code, DrillDown] = {
    Code.AR_OUTSTANDING: DrillDown.INVOICE,
    Code.AR_CLEAR_DATE: DrillDown.INVOICE,
    Code.AR_CLEAR_FLAG: DrillDown.INVOICE,
    Code.AR_PAYMENT_TYPE: DrillDown.INVOICE,
    Code.AR_GL: DrillDown.INVOICE,
    Code.AR_MISSING_BALANCE: DrillDown.INVOICE,
    Code.AR_OVER_APPLIED: DrillDown.CLIENT,
    Code.AR_MISSING_DOCUMENT: DrillDown.CLIENT,
    Code.AR_BAD_LINK: DrillDown.CLIENT,
    Code.AR_CROSS_CLIENT: DrillDown.CLIENT,
    Code.AR_REVERSAL_AMOUNT: DrillDown.CLIENT,
    Code.AR_DUPLICATE_ID: DrillDown.NONE,
    Code.WIP_BLANK_TYPE: DrillDown.ENTRY,
    Code.WIP_BLANK_ENTRY: DrillDown.ENTRY,
    Code.WIP_ORPHAN_BILLED: DrillDown.CLIENT,
    Code.WIP_CLEAR_FLAG: DrillDown.INVOICE,
    Code.WIP_CLEAR_DATE: DrillDown.INVOICE,
    Code.WIP_WRITE_UPDOWN: DrillDown.INVOICE,
    Code.WIP_BILLING_STATUS: DrillDown.INVOICE,
    Code.STAFF_NO_RATE: DrillDown.NONE,
    Code.STAFF_UNKNOWN: DrillDown.NONE,
    Code.STAFF_BALANCE: DrillDown.NONE,
    Code.PROJECT_BUDGET: DrillDown.NONE,
    Code.PROJECT_MISSING_PARENT: DrillDown.NONE,
    Code.PROJECT_NESTING: DrillDown.NONE,
}


#: the calculator that produces each code, and whose repost repairs it
CALCULATOR: dict[Code, Calculator] = {
    code: (
        "receivables"
        if code.value.startswith("AR-")
        else "wip"
        if code.value.startswith("WIP-")
        else "staff"
        if code.value.startswith("STAFF-")
        else "projects"
    )
    for code in Code
}


@attrs.frozen(kw_only=True)
class Scope:
    """What a finding concerns; unset parts are ``None``.

    ``document`` is a receivable document or a WIP entry; ``invoice`` the
    invoice a WIP entry is billed on.
    """

    company: str | None = None
    client: str | None = None
    document: str | None = None
    staff: str | None = None
    project: str | None = None
    invoice: str | None = None

    def to_dict(self) -> dict[str, str]:
        """The set parts only, for JSON output."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.frozen(kw_only=True)
class Finding:
    """One inconsistency: its code, scope, a readable message, expected vs actual."""

    code: Code
    scope: Scope
    message: str
    expected: str | None = None
    actual: str | None = None

    @property
    def drill_down(self) -> DrillDown:
        """The repost a drill-down runs for this finding."""
        return DRILL_DOWN[self.code]

    @property
    def calculator(self) -> Calculator:
        """The calculator that produced this finding and whose repost repairs it."""
        return CALCULATOR[self.code]

    def in_company(self, company: str) -> Finding:
        """The same finding with its scope's company set."""
        return attrs.evolve(self, scope=attrs.evolve(self.scope, company=company))

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON output (the interchange format's ``findings`` items)."""
        return {
            "code": self.code.value,
            "scope": self.scope.to_dict(),
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "calculator": self.calculator,
            "drill_down": self.drill_down.value,
        }

    @property
    def where(self) -> str:
        """The scope as text: ``"company acme, client ACME, document INV-1"``."""
        return ", ".join(f"{k} {v}" for k, v in self.scope.to_dict().items())

    def to_record(self) -> dict[str, Any]:
        """One flat table row: :meth:`to_dict` with the scope as text."""
        return {
            "code": self.code.value,
            "scope": self.where,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "drill_down": self.drill_down.value,
        }

    def __repr__(self) -> str:
        return compact_repr(
            self,
            code=self.code,
            where=self.where,
            expected=self.expected,
            actual=self.actual,
        )

    def __str__(self) -> str:
        text = f"{self.code.value} [{self.where}] {self.message}"
        if self.expected is not None or self.actual is not None:
            text += f" (expected {self.expected}, actual {self.actual})"
        return text


class Findings(Tabular, list[Finding]):
    """A list of findings that reads as a table in Jupyter.

    It is a plain ``list`` in every other way (indexing, ``len``, ``== []``,
    ``append``), so code written for a list of findings keeps working.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        codes = Counter(f.code.value for f in self)
        return compact_repr(self, findings=len(self), codes=dict(sorted(codes.items())))

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per finding (:meth:`Finding.to_record`), in the list's order."""
        return [f.to_record() for f in self]

    def _html_caption(self) -> str:
        return f"{len(self)} findings" if self else "no findings"
