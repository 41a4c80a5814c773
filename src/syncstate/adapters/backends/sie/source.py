"""SIE files as a :class:`~syncstate.ports.Source` for the inbound mirror, and back.

:class:`SieSource` reads one or more SIE files (one per fiscal year, in any
order, as many as you like) and hands their current year (``#RAR 0``) to the
mirror: chart of accounts, opening (``#IB``), closing (``#UB``) and result
(``#RES``) balances, period balances (``#PSALDO``, and ``#PBUDGET`` as budget)
and vouchers. Every file is parsed before anything is returned, so one bad file
changes nothing. With ``org_number`` set, a file for another company is refused.

:func:`snapshot_to_sie` writes a mirrored year back as an SIE 4E (or 4I) document.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from syncstate.adapters.backends.sie.model import (
    SieAccount,
    SieBalance,
    SieDocument,
    SieFiscalYear,
    SiePeriodBalance,
    SieTrans,
    SieVoucher,
)
from syncstate.adapters.backends.sie.parser import parse_sie
from syncstate.domain.mirror import (
    MirrorAccount,
    MirrorBalance,
    MirrorPeriodBalance,
    MirrorSnapshot,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
)
from syncstate.errors import InputError
from syncstate.periods import FiscalYear, Period

__all__ = ["SieSource", "document_to_snapshot", "snapshot_to_sie"]

_KIND = {"IB": "opening", "UB": "closing", "RES": "result"}
_SIE_KIND = {v: k for k, v in _KIND.items()}


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _fiscal_years(document: SieDocument) -> list[tuple[int, FiscalYear]]:
    """The years of the file; without ``#RAR``, the calendar years its vouchers fall in."""
    if document.fiscal_years:
        return [(y.index, FiscalYear(y.start, y.end)) for y in document.fiscal_years]
    years = sorted({v.date.year for v in document.vouchers})
    return [
        (index, FiscalYear(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        for index, year in enumerate(years)
    ]


def document_to_snapshot(
    document: SieDocument, company: str, *, source: str = "sie"
) -> MirrorSnapshot:
    """The current year of an SIE document (all years for files without ``#RAR``)."""
    years = _fiscal_years(document)
    wanted = [(i, y) for i, y in years if i == 0] if document.fiscal_years else years
    out = []
    for index, year in wanted:
        balances = tuple(
            MirrorBalance(kind=_KIND[b.kind], account=b.account, amount=b.amount)
            for b in document.balances
            if b.year == index and b.kind in _KIND and not b.objects
        )
        periods = tuple(
            MirrorPeriodBalance(
                period=Period(int(p.period[:4]), int(p.period[4:])),
                account=p.account,
                amount=p.amount,
                objects=p.objects,
                budget=p.kind == "PBUDGET",
            )
            for p in document.period_balances
            if p.year == index
        )
        vouchers = tuple(
            MirrorVoucher(
                series=v.series,
                number=v.number,
                date=v.date,
                text=v.text,
                transactions=tuple(
                    MirrorTransaction(
                        account=r.account,
                        amount=r.amount,
                        objects=r.objects,
                        date=r.date,
                        text=r.text,
                    )
                    for r in v.rows
                    if r.kind == "TRANS"
                ),
            )
            for v in document.vouchers
            if v.date in year
        )
        out.append(
            MirrorYear(year=year, balances=balances, period_balances=periods, vouchers=vouchers)
        )
    accounts = tuple(
        MirrorAccount(number=a.number, name=a.name, type=a.type) for a in document.accounts
    )
    return MirrorSnapshot(company=company, accounts=accounts, years=tuple(out), source=source)


class SieSource:
    """Read-only :class:`~syncstate.ports.Source` over SIE files (one per fiscal year)."""

    name = "sie"

    def __init__(
        self,
        files: Sequence[str | os.PathLike[str]],
        *,
        org_number: str | None = None,
        allow_unbalanced: bool = False,
    ) -> None:
        if not files:
            raise InputError("SieSource needs at least one SIE file")
        self.files = tuple(Path(f) for f in files)
        self.org_number = org_number
        self.allow_unbalanced = allow_unbalanced

    def __repr__(self) -> str:
        return f"SieSource({[str(f) for f in self.files]!r})"

    def snapshot(self, company: str, years: Iterable[FiscalYear] | None = None) -> MirrorSnapshot:
        """Parse every file (all or nothing) and merge their current years."""
        documents = [
            (path, parse_sie(path, allow_unbalanced=self.allow_unbalanced)) for path in self.files
        ]
        accounts: dict[str, MirrorAccount] = {}
        merged: dict[FiscalYear, MirrorYear] = {}
        for path, document in documents:
            if self.org_number is not None and _digits(document.org_number) != _digits(
                self.org_number
            ):
                raise InputError(
                    f"{path}: the file is for org number {document.org_number or '(none)'},"
                    f" not {self.org_number}: wrong company?"
                )
            snap = document_to_snapshot(document, company, source=f"sie:{path.name}")
            for account in snap.accounts:
                accounts[account.number] = account
            for year in snap.years:
                if year.year in merged:
                    raise InputError(f"{path}: fiscal year {year.year} is in two of the files")
                merged[year.year] = year
        chosen = set(years) if years is not None else None
        picked = tuple(
            merged[y]
            for y in sorted(merged, key=lambda y: y.start)
            if chosen is None or y in chosen
        )
        if chosen is not None:
            missing = chosen - {y.year for y in picked}
            if missing:
                shown = ", ".join(str(y) for y in sorted(missing, key=lambda y: y.start))
                raise InputError(f"the SIE files hold no fiscal year {shown}")
        names = ",".join(p.name for p in self.files)
        return MirrorSnapshot(
            company=company,
            accounts=tuple(accounts[n] for n in sorted(accounts)),
            years=picked,
            source=f"sie:{names}",
        )


def snapshot_to_sie(
    snapshot: MirrorSnapshot,
    *,
    company_name: str = "",
    org_number: str = "",
    program: tuple[str, ...] = ("syncstate", "1"),
    generated: dt.date | None = None,
) -> SieDocument:
    """A mirrored year as an SIE 4 document (write it with ``write_sie``); one year only."""
    if len(snapshot.years) != 1:
        raise InputError("an SIE file holds one current fiscal year: pass a snapshot of one year")
    year = snapshot.years[0]
    return SieDocument(
        sie_type=4,
        program=program,
        generated=generated,
        company_id=snapshot.company,
        org_number=org_number,
        company_name=company_name,
        fiscal_years=(SieFiscalYear(0, year.year.start, year.year.end),),
        accounts=tuple(
            SieAccount(number=a.number, name=a.name, type=a.type) for a in snapshot.accounts
        ),
        balances=tuple(
            SieBalance(kind=_SIE_KIND[b.kind], year=0, account=b.account, amount=b.amount)
            for b in year.balances
        ),
        period_balances=tuple(
            SiePeriodBalance(
                kind="PBUDGET" if p.budget else "PSALDO",
                year=0,
                period=f"{p.period.year:04d}{p.period.month:02d}",
                account=p.account,
                amount=p.amount,
                objects=p.objects,
            )
            for p in year.period_balances
        ),
        vouchers=tuple(
            SieVoucher(
                series=v.series,
                number=v.number,
                date=v.date,
                text=v.text,
                rows=tuple(
                    SieTrans("TRANS", t.account, t.objects, t.amount, t.date, t.text)
                    for t in v.transactions
                ),
            )
            for v in year.vouchers
        ),
    )
