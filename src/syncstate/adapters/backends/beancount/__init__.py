"""Beancount back end: documents posted into a real plain-text ledger.

- :mod:`.backend`: :class:`BeancountBackend` and :func:`open_ledger`;
- :mod:`.ledger`: the ledger file (atomic appends, syncstate's own section);
- :mod:`.postings`: documents turned into balanced postings.
"""

from syncstate.adapters.backends.beancount.backend import (
    KINDS,
    BeancountBackend,
    LedgerAccounts,
    open_ledger,
)

__all__ = ["KINDS", "BeancountBackend", "LedgerAccounts", "open_ledger"]
