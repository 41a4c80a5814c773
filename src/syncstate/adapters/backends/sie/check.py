"""Validate and summarise SIE files, as the public SIE validator does.

:func:`check_sie` never raises for bad content: it reads the file, collects every
problem (file, line, what is wrong) and summarises what the file holds, in the
shape ``syncstate sie check --json`` prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from syncstate.adapters.backends.sie.model import SieDocument, SieProblem
from syncstate.adapters.backends.sie.parser import read_sie
from syncstate.notebook import Tabular

__all__ = ["SieCheck", "check_sie", "undeclared_accounts"]


@attrs.frozen(kw_only=True)
class SieCheck(Tabular):
    """What :func:`check_sie` found in one file.

    Its rows (:meth:`to_records`) are the problems, one per line; the caption
    of its Jupyter table summarises the file.
    """

    file: str
    valid: bool
    sie_type: str | None
    program: str
    company: str
    org_number: str
    fiscal_years: tuple[tuple[int, str, str], ...]
    accounts: int
    vouchers: int
    transactions: int
    unbalanced_vouchers: tuple[dict[str, Any], ...]
    undeclared_accounts: tuple[str, ...]
    ksumma: str
    encoding: str
    problems: tuple[SieProblem, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``syncstate sie check --json`` (one entry of ``files``)."""
        return {
            "file": self.file,
            "valid": self.valid,
            "sie_type": self.sie_type,
            "program": self.program,
            "company": self.company,
            "org_number": self.org_number,
            "fiscal_years": [
                {"index": index, "start": start, "end": end}
                for index, start, end in self.fiscal_years
            ],
            "accounts": self.accounts,
            "vouchers": self.vouchers,
            "transactions": self.transactions,
            "unbalanced_vouchers": [dict(v) for v in self.unbalanced_vouchers],
            "undeclared_accounts": list(self.undeclared_accounts),
            "ksumma": self.ksumma,
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per problem: file, line, severity, message."""
        return [{"file": self.file, **p.to_dict()} for p in self.problems]

    def _html_caption(self) -> str:
        verdict = "valid" if self.valid else "NOT valid"
        kind = "unknown type" if self.sie_type is None else f"SIE type {self.sie_type}"
        return (
            f"{self.file}: {verdict}, {kind}, {self.company or 'no company'}; "
            f"{self.accounts} accounts, {self.vouchers} vouchers, "
            f"{self.transactions} transactions, {len(self.problems)} problems"
        )


def undeclared_accounts(document: SieDocument) -> tuple[str, ...]:
    """Accounts used by vouchers or balances but missing from ``#KONTO``, sorted."""
    declared = {a.number for a in document.accounts}
    used = {r.account for v in document.vouchers for r in v.rows}
    used.update(b.account for b in document.balances)
    used.update(b.account for b in document.period_balances)
    return tuple(sorted(used - declared))


def check_sie(path: str | os.PathLike[str]) -> SieCheck:
    """Validate the SIE file at ``path`` and summarise it."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        problem = SieProblem(0, "error", f"cannot read file: {exc.strerror}")
        return _empty(name, problem)
    result = read_sie(data, file=name)
    problems = list(result.problems)
    if any(p.severity == "error" and "not an SIE file" in p.message for p in problems):
        return _empty(name, *problems)
    doc = result.document
    missing = undeclared_accounts(doc)
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        problems.append(
            SieProblem(0, "warning", f"{len(missing)} account(s) used but not declared: {shown}")
        )
    unbalanced = tuple(
        {
            "series": v.series,
            "number": v.number,
            "date": v.date.isoformat(),
            "line": v.line,
            "sum": str(v.total),
        }
        for v in doc.vouchers
        if v.total
    )
    if doc.ksumma is None:
        ksumma = "absent"
    elif any(p.severity == "error" and "#KSUMMA" in p.message for p in problems):
        ksumma = "invalid"
    else:
        ksumma = "valid"
    problems.sort(key=lambda p: p.line)
    return SieCheck(
        file=name,
        valid=not any(p.severity == "error" for p in problems),
        sie_type=doc.variant,
        program=" ".join(doc.program),
        company=doc.company_name,
        org_number=doc.org_number,
        fiscal_years=tuple(
            (y.index, y.start.isoformat(), y.end.isoformat()) for y in doc.fiscal_years
        ),
        accounts=len(doc.accounts),
        vouchers=len(doc.vouchers),
        transactions=doc.transaction_count,
        unbalanced_vouchers=unbalanced,
        undeclared_accounts=missing,
        ksumma=ksumma,
        encoding=result.encoding,
        problems=tuple(problems),
    )


def _empty(name: str, *problems: SieProblem) -> SieCheck:
    return SieCheck(
        file=name,
        valid=False,
        sie_type=None,
        program="",
        company="",
        org_number="",
        fiscal_years=(),
        accounts=0,
        vouchers=0,
        transactions=0,
        unbalanced_vouchers=(),
        undeclared_accounts=(),
        ksumma="absent",
        encoding="",
        problems=problems,
    )
