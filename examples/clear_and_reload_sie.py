"""Clear a company's mirrored bookkeeping for one fiscal year and reload it from SIE.

A reporting host mirrors each client company's books from SIE 4 files, one file
per fiscal year. The accountant deleted a voucher in the accounting system and
nobody was told, so the mirror no longer matches. The fix: plan the clear of
that one year for that one company (the plan says what goes and carries a
token), confirm with the token, and reload from a fresh export of the year. The
new year is staged beside the old one and swapped in atomically; the other year,
the other company and the host's own documents are never touched.

Run it: ``python examples/clear_and_reload_sie.py`` (well under a second).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from syncstate import (
    ConfirmationError,
    FiscalYear,
    MirrorService,
    SieSource,
    SQLiteMirrorStore,
    check_sie,
)

Y2024 = FiscalYear(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
Y2025 = FiscalYear(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

# (series, number, date, text, [(account, amount)]): every voucher balances
VOUCHERS = {
    Y2024: [
        ("A", 1, "20240312", "Faktura 1001", [("1510", "12500.00"), ("3010", "-10000.00"),
                                              ("2610", "-2500.00")]),
        ("A", 2, "20240410", "Betalning 1001", [("1930", "12500.00"), ("1510", "-12500.00")]),
    ],
    Y2025: [
        ("A", 1, "20250131", "Hyra januari", [("5010", "8000.00"), ("1930", "-8000.00")]),
        ("A", 2, "20250215", "Kontorsmaterial", [("6110", "1200.00"), ("1930", "-1200.00")]),
        ("A", 3, "20250228", "Hyra februari", [("5010", "8000.00"), ("1930", "-8000.00")]),
    ],
}  # fmt: skip


def write_sie(
    path: Path, company: str, org_number: str, year: FiscalYear, *, skip: int = 0
) -> Path:
    """Write an SIE 4E export of ``year`` as an accounting system would (CP437, CRLF)."""
    lines = [
        "#FLAGGA 0",
        '#PROGRAM "Bokföring" 7.1',
        "#FORMAT PC8",
        "#GEN 20260301",
        "#SIETYP 4",
        f'#FNAMN "{company}"',
        f"#ORGNR {org_number}",
        f"#RAR 0 {year.start:%Y%m%d} {year.end:%Y%m%d}",
        '#KONTO 1510 "Kundfordringar"',
        '#KONTO 1930 "Företagskonto"',
        '#KONTO 2610 "Utgående moms 25%"',
        '#KONTO 3010 "Försäljning"',
        '#KONTO 5010 "Lokalhyra"',
        '#KONTO 6110 "Kontorsmateriel"',
        "#IB 0 1930 50000.00",
    ]
    for series, number, day, text, rows in VOUCHERS[year]:
        if number == skip:
            continue
        lines += [f'#VER {series} {number} {day} "{text}"', "{"]
        lines += [f"   #TRANS {account} {{}} {amount}" for account, amount in rows]
        lines.append("}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp437"))
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = SQLiteMirrorStore(folder / "books.db")
        mirror = MirrorService(store)

        # Two companies, two fiscal years each, loaded from SIE files.
        for company, org in (("nordbygg", "556677-8899"), ("sjobod", "556100-2233")):
            files = [
                write_sie(folder / f"{company}-{y.start.year}.se", company, org, y)
                for y in (Y2024, Y2025)
            ]
            loaded = mirror.load(company, SieSource(files, org_number=org))
            print(f"loaded {company}: {loaded.vouchers} vouchers in {len(loaded.years)} years")

        # The accountant deletes voucher A 2 of 2025 in the accounting system.
        fresh = write_sie(folder / "nordbygg-2025-new.se", "nordbygg", "556677-8899", Y2025, skip=2)
        check = check_sie(fresh)
        print(f"fresh export {fresh.name}: valid={check.valid}, {check.vouchers} vouchers")

        try:  # picking the wrong company by accident is refused
            mirror.clear("nordbygg", [Y2025], confirm="sjobod")
        except ConfirmationError as error:
            print(f"refused: {error}")

        plan = mirror.plan_clear("nordbygg", [Y2025])
        print(f"plan: clear {plan.vouchers} vouchers, {plan.transactions} transactions of {Y2025}")
        run = mirror.clear("nordbygg", [Y2025], confirm=plan.token, reload_from=SieSource([fresh]))
        assert run.load is not None
        print(f"cleared and reloaded {Y2025}: ok={run.ok}, {run.load.vouchers} vouchers live")

        for company in ("nordbygg", "sjobod"):
            years = ", ".join(
                f"{y.year.start.year}: {y.vouchers} vouchers" for y in store.loaded_years(company)
            )
            print(f"  {company} now has {years}")
        store.close()


if __name__ == "__main__":
    main()
