"""The back-end conformance kit against the Beancount ledger back end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.backends.beancount.backend import BeancountBackend, LedgerAccounts
from syncstate.testing.backend_contract import BackendContract

ACCOUNTS = LedgerAccounts(
    customers={"client-1": "Assets:Receivable:Client1"},
    items={"consulting": "Income:Consulting"},
)


class TestBeancountBackend(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[BeancountBackend]:
        yield BeancountBackend(tmp_path / "books", accounts=ACCOUNTS)
