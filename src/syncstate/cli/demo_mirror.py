"""The inbound-mirror part of ``syncstate demo``: SIE files, drift, clear and reload.

A Swedish subsidiary's bookkeeping arrives as an SIE 4 file and is mirrored per
fiscal year. Later the accountant deletes a voucher and corrects another at the
source without telling anyone: drift detection finds exactly that and applies
only those changes. Then the year is cleared and reloaded in one run, confirmed
with the plan's token; readers see the old year or the new one, never a gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.sie.source import SieSource
from syncstate.errors import ConfirmationError
from syncstate.periods import FiscalYear
from syncstate.ports import MirrorStore
from syncstate.services.mirror import MirrorService

__all__ = ["SUBSIDIARY", "mirror_tour", "write_demo_sie"]

SUBSIDIARY = "nordbygg-ab"
YEAR = FiscalYear(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

_HEAD = """#FLAGGA 0
#PROGRAM "syncstate demo" 1.0
#FORMAT PC8
#GEN 20260301
#SIETYP 4
#FNAMN "Nordbygg AB"
#ORGNR 556677-8899
#RAR 0 20250101 20251231
#KONTO 1510 "Kundfordringar"
#KONTO 1930 "Foretagskonto"
#KONTO 2610 "Utgaende moms 25%"
#KONTO 3010 "Forsaljning"
#KONTO 5010 "Lokalhyra"
#IB 0 1930 50000.00
"""

# (series, number, date, text, [(account, amount)])
_VOUCHERS = [
    ("A", 1, "20250115", "Faktura 1001", [("1510", "12500.00"), ("3010", "-10000.00"),
                                          ("2610", "-2500.00")]),
    ("A", 2, "20250131", "Hyra januari", [("5010", "8000.00"), ("1930", "-8000.00")]),
    ("A", 3, "20250210", "Betalning 1001", [("1930", "12500.00"), ("1510", "-12500.00")]),
    ("A", 4, "20250228", "Hyra februari", [("5010", "8000.00"), ("1930", "-8000.00")]),
]  # fmt: skip


def write_demo_sie(path: Path, *, drifted: bool = False) -> Path:
    """Write the subsidiary's SIE file; ``drifted`` deletes A 2 and corrects A 4."""
    lines = [_HEAD.rstrip("\n")]
    for series, number, day, text, rows in _VOUCHERS:
        if drifted and number == 2:
            continue
        if drifted and number == 4:
            rows = [("5010", "8500.00"), ("1930", "-8500.00")]
        lines.append(f'#VER {series} {number} {day} "{text}"')
        lines.append("{")
        lines += [f"   #TRANS {account} {{}} {amount}" for account, amount in rows]
        lines.append("}")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp437"))
    return path


def mirror_tour(store: MirrorStore, folder: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """Run the mirror section on the demo's mirror store; return its summary.

    The SIE files it reads are written into ``folder``; the caller closes ``store``.
    """
    service = MirrorService(store)
    first = write_demo_sie(folder / "nordbygg-2025.se")
    say(f"\n10. Inbound mirror: {SUBSIDIARY}'s books arrive as an SIE 4 file ({first.name}).")
    loaded = service.load(SUBSIDIARY, SieSource([first]))
    say(
        f"  loaded fiscal year {YEAR}: {loaded.vouchers} vouchers, "
        f"{loaded.transactions} transactions"
    )

    fixed = write_demo_sie(folder / "nordbygg-2025-new.se", drifted=True)
    drifts = service.drift(SUBSIDIARY, SieSource([fixed]))
    summary = {k: v for d in drifts for k, v in d.summary().items()}
    say("  the accountant deleted voucher A 2 and corrected A 4 at the source, silently.")
    deleted = ", ".join(f"{k[0]} {k[1]}" for d in drifts for k, _ in d.deleted)
    corrected = ", ".join(f"{k[0]} {k[1]}" for d in drifts for k, _, _ in d.changed)
    say(f"  drift found: deleted {deleted or '-'}; changed {corrected or '-'}; per period:")
    for diff in (x for d in drifts for x in d.account_differences):
        say(f"    account {diff.account} {diff.period}: mirror {diff.mirror}, source {diff.source}")
    changed = service.apply_drift(SUBSIDIARY, drifts)
    again = service.drift(SUBSIDIARY, SieSource([fixed]))
    say(
        f"  applied only those changes ({changed} year); drift now empty: "
        f"{all(d.is_empty for d in again)}"
    )

    try:
        service.clear(SUBSIDIARY, [YEAR], confirm="acme-builders")
    except ConfirmationError as exc:
        say(f"  clearing with the wrong company is refused: {exc}")
    plan = service.plan_clear(SUBSIDIARY, [YEAR])
    say(
        f"  clear + reload {YEAR}: the plan removes {plan.vouchers} vouchers and "
        f"{plan.transactions} transactions (documents, budgets and report templates "
        "stay); confirmed with its token"
    )
    run = service.clear(SUBSIDIARY, [YEAR], confirm=plan.token, reload_from=SieSource([fixed]))
    assert run.load is not None
    say(
        f"  reloaded beside the old year and swapped in atomically: ok={run.ok}, "
        f"{run.load.vouchers} vouchers live"
    )
    return {
        "loaded_vouchers": loaded.vouchers,
        "drift": summary,
        "drift_empty_after_apply": all(d.is_empty for d in again),
        "reloaded_vouchers": run.load.vouchers,
        "reload_ok": run.ok,
    }
