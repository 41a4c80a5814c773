"""The end of ``syncstate demo --backend sie``: where the files are, and their check.

The export wrote SIE 4I files; the demo says where they are, how to check them
again, and checks every one as ``syncstate sie check`` does (same checker, same
verdicts). An invalid file makes the demo exit with 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from syncstate.cli.demo_text import ROWS, Say, and_more

__all__ = ["sie_check"]


def sie_check(folder: Path, say: Say) -> tuple[dict[str, Any], int]:
    """Check the SIE files of ``folder``; print the verdict; (summary, exit status)."""
    from syncstate.adapters.backends.sie.check import check_sie

    files = sorted(folder.glob("*.si"))
    checks = [check_sie(path) for path in files]
    invalid = [c for c in checks if not c.valid]
    vouchers = sum(c.vouchers for c in checks)
    transactions = sum(c.transactions for c in checks)
    say(f"\nThe SIE 4I files are in {folder}; check them again with")
    say(f"  syncstate sie check {folder}/*.si")
    if not invalid:
        say(
            f"  sie check: {len(files)} files, all valid: {vouchers} vouchers, "
            f"{transactions} transactions"
        )
    else:
        say(f"  sie check: {len(invalid)} of {len(files)} files INVALID:")
        for c in invalid[:ROWS]:
            first = c.problems[0] if c.problems else None
            what = f"line {first.line}: {first.message}" if first else "invalid"
            say(f"    {Path(c.file).name}: {what}")
        more = and_more(min(len(invalid), ROWS), len(invalid))
        if more:
            say(f"    {more}")
    summary = {
        "folder": str(folder),
        "files": len(files),
        "valid": not invalid,
        "vouchers": vouchers,
        "transactions": transactions,
        "invalid": [c.file for c in invalid],
    }
    return summary, 0 if not invalid else 1
