"""The Beancount back end: documents become transactions in a plain-text ledger.

Each company gets its own ledger file ``<directory>/<company>.beancount``, a
real set of books a person can open with ``bean-check``, ``bean-query`` or
Fava. Documents are written as balanced transactions with accounts taken from
:class:`LedgerAccounts`:

=================  ======================================  =================================
kind               debit                                   credit
=================  ======================================  =================================
``invoice``        the customer's receivable account       income account of each line item
``sales_receipt``  the bank account                        income account of each line item
``payment``        the bank account                        the customer's receivable account
``time_activity``  the employee's labour expense account   the payroll liability account
=================  ======================================  =================================

Every transaction carries metadata (``syncstate-id``, ``-version``, ``-kind``,
``-key``, ``-source``, ...) so :meth:`BeancountBackend.lookup` finds a
document by its idempotency key by reading the ledger itself. Appends and
rewrites are crash-safe (see :mod:`~syncstate.adapters.backends.beancount.ledger`).

Writing needs nothing beyond the standard library; ``pip install
'syncstate[beancount]'`` brings Beancount for :meth:`BeancountBackend.check`
and for the tools that read the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.beancount import postings as beancount_postings
from syncstate.adapters.backends.beancount.ledger import BEGIN, END, LedgerFile, Unit, escape
from syncstate.adapters.backends.beancount.postings import (
    CURRENCY,
    KINDS,
    LedgerAccounts,
    read_mappings,
)
from syncstate.errors import (
    BackendError,
    ConfigurationError,
    InputError,
    RemoteNotFound,
    StaleVersionError,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Document, RemoteRef

__all__ = ["KINDS", "BeancountBackend", "LedgerAccounts", "open_ledger"]

_SAFE_COMPANY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class BeancountBackend:
    """An :class:`~syncstate.ports.AccountingBackend` writing Beancount ledgers.

    ``directory`` holds one ledger per company; ``currency`` is used for
    documents that name none; ``open_date`` dates the ``open`` directives.
    """

    name = "beancount"
    capabilities = frozenset(
        {
            Capability.CREATE,
            Capability.UPDATE,
            Capability.DELETE,
            Capability.BATCH,
            Capability.LOOKUP_BY_KEY,
            Capability.REPLAYS_KEY,
        }
    )
    max_batch = 500

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        accounts: LedgerAccounts | None = None,
        currency: str = "USD",
        open_date: dt.date = dt.date(1970, 1, 1),
    ) -> None:
        if not CURRENCY.match(currency):
            raise ConfigurationError(f"{currency!r} is not a Beancount currency")
        self.directory = Path(directory)
        self.accounts = accounts or LedgerAccounts()
        self.currency = currency
        self.open_date = open_date
        self._lock = threading.RLock()
        self._files: dict[str, LedgerFile] = {}

    def __repr__(self) -> str:
        return f"BeancountBackend({str(self.directory)!r})"

    # -- files -------------------------------------------------------------------

    def ledger_path(self, company: str) -> Path:
        """The ledger file of ``company``."""
        if not company or not company.strip():
            raise InputError("company must be a non-empty string")
        if _SAFE_COMPANY.match(company):
            return self.directory / f"{company}.beancount"
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", company).strip("-.")[:40] or "company"
        digest = hashlib.sha256(company.encode()).hexdigest()[:8]
        return self.directory / f"{slug}-{digest}.beancount"

    def _ledger(self, company: str) -> LedgerFile:
        ledger = self._files.get(company)
        if ledger is None:
            ledger = self._files[company] = LedgerFile(self.ledger_path(company))
        if not ledger.exists():
            ledger.create(self._header(company))
        return ledger

    def _header(self, company: str) -> str:
        lines = [
            f"; Books of {escape(company)}, written by syncstate. Check with: bean-check FILE",
            f'option "title" "{escape(company)}"',
            f'option "operating_currency" "{self.currency}"',
            "",
        ]
        lines += [f"{self.open_date.isoformat()} open {a}" for a in self.accounts.all_accounts()]
        return "\n".join(lines) + "\n"

    # -- rendering ---------------------------------------------------------------

    def _render(
        self, doc: Document, remote_id: str, version: int, meta: Mapping[str, str]
    ) -> tuple[str, list[str]]:
        record = str(doc.source)
        postings = beancount_postings.postings(doc, self.accounts, self.currency)
        title = f"{doc.kind.replace('_', ' ')} {doc.doc_number or doc.source.source_id}"
        if doc.memo:
            title += f": {doc.memo}"
        lines = [
            BEGIN + remote_id,
            f'{doc.date.isoformat()} * "{escape(doc.party)}" "{escape(title)}"',
            f'  syncstate-id: "{remote_id}"',
            f'  syncstate-version: "{version}"',
            f'  syncstate-kind: "{escape(doc.kind)}"',
            f'  syncstate-source: "{escape(record)}"',
        ]
        lines += [f'  syncstate-{name}: "{escape(value)}"' for name, value in meta.items() if value]
        if doc.doc_number:
            lines.append(f'  syncstate-doc-number: "{escape(doc.doc_number)}"')
        if doc.fields.get("applies_to"):
            lines.append(f'  syncstate-applies-to: "{escape(doc.fields["applies_to"])}"')
        width = max(len(account) for account, _, _ in postings) + 2
        lines += [f"  {a:<{width}}{v:>14} {c}" for a, v, c in postings]
        lines.append(END + remote_id)
        return "\n".join(lines) + "\n", [a for a, _, _ in postings]

    def _opens(self, ledger: LedgerFile, accounts: Sequence[str]) -> str:
        missing = sorted(set(accounts) - ledger.accounts())
        if not missing:
            return ""
        label = f"open-{hashlib.sha256(' '.join(missing).encode()).hexdigest()[:8]}"
        body = [f"{self.open_date.isoformat()} open {account}" for account in missing]
        return "\n".join([BEGIN + label, *body, END + label]) + "\n"

    # -- index -------------------------------------------------------------------

    @staticmethod
    def _ref(unit: Unit) -> RemoteRef:
        return RemoteRef(
            remote_id=unit.label,
            version=unit.get("version"),
            kind=unit.get("kind"),
            doc_number=unit.get("doc-number") or None,
        )

    @staticmethod
    def _documents(ledger: LedgerFile) -> dict[str, Unit]:
        return {u.label: u for u in ledger.units() if u.get("id")}

    @staticmethod
    def _next_id(documents: Mapping[str, Unit], taken: int = 0) -> str:
        highest = max((int(label) for label in documents if label.isdigit()), default=0)
        return f"{highest + taken + 1:06d}"

    def _by_key(self, ledger: LedgerFile, kind: str | None, key: str) -> Unit | None:
        for unit in self._documents(ledger).values():
            if key in (unit.get("key"), unit.get("updated-by")) and (
                kind is None or unit.get("kind") == kind
            ):
                return unit
        return None

    # -- the AccountingBackend protocol ---------------------------------------------

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Append ``document`` as a transaction; a repeated key returns the first one."""
        [result] = self._create_many(company, [(document, idempotency_key)])
        if isinstance(result, BackendError):
            raise result
        return result

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Append every valid document with one write and one fsync."""
        if len(items) > self.max_batch:
            raise InputError(f"a batch holds at most {self.max_batch} documents, got {len(items)}")
        return self._create_many(company, items)

    def _create_many(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        self._check_company(company, [doc for doc, _ in items])
        with self._lock:
            ledger = self._ledger(company)
            with ledger.locked():
                documents = self._documents(ledger)
                results: list[RemoteRef | BackendError] = []
                texts: list[str] = []
                used: list[str] = []
                fresh: dict[str, RemoteRef] = {}
                for doc, key in items:
                    existing = self._by_key(ledger, doc.kind, key)
                    if existing is not None or key in fresh:
                        results.append(self._ref(existing) if existing else fresh[key])
                        continue
                    remote_id = self._next_id(documents, len(fresh))
                    try:
                        text, accounts = self._render(doc, remote_id, 1, {"key": key})
                    except BackendError as exc:
                        results.append(exc)
                        continue
                    texts.append(text)
                    used += accounts
                    ref = RemoteRef(
                        remote_id=remote_id, version="1", kind=doc.kind, doc_number=doc.doc_number
                    )
                    fresh[key] = ref
                    results.append(ref)
                if texts:
                    ledger.append("\n" + "\n".join([self._opens(ledger, used), *texts]).lstrip())
                return results

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Rewrite the transaction at ``ref`` in place; the version must be current."""
        self._check_company(company, [document])
        with self._lock:
            ledger = self._ledger(company)
            with ledger.locked():
                unit = self._documents(ledger).get(ref.remote_id)
                if unit is None:
                    raise RemoteNotFound(
                        f"no transaction {ref.remote_id} in {ledger.path}",
                        record=str(document.source),
                    )
                if unit.get("updated-by") == idempotency_key:  # a replayed update
                    return self._ref(unit)
                if ref.version != unit.get("version"):
                    raise StaleVersionError(
                        f"transaction {ref.remote_id} is at version {unit.get('version')}, "
                        f"not {ref.version}",
                        record=str(document.source),
                    )
                version = int(unit.get("version", "1")) + 1
                meta = {"key": unit.get("key"), "updated-by": idempotency_key}
                text, accounts = self._render(document, ref.remote_id, version, meta)
                opens = self._opens(ledger, accounts)
                if opens:
                    ledger.append("\n" + opens)
                    unit = self._documents(ledger)[ref.remote_id]
                ledger.replace_unit(unit, text)
                return RemoteRef(
                    remote_id=ref.remote_id,
                    version=str(version),
                    kind=document.kind,
                    doc_number=document.doc_number,
                )

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The transaction written with ``idempotency_key`` (on create or update), if any."""
        with self._lock:
            path = self.ledger_path(company)
            if not path.exists():
                return None
            ledger = self._ledger(company)
            with ledger.locked():
                unit = self._by_key(ledger, kind, idempotency_key)
                return None if unit is None else self._ref(unit)

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Remove the transaction from the ledger (atomic rewrite)."""
        with self._lock:
            ledger = self._ledger(company)
            with ledger.locked():
                unit = self._documents(ledger).get(ref.remote_id)
                if unit is None:
                    raise RemoteNotFound(f"no transaction {ref.remote_id} in {ledger.path}")
                ledger.replace_unit(unit, "")

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """Not supported: a ledger has no printable documents."""
        raise UnsupportedCapability("the Beancount back end has no PDF documents", code="pdf")

    # -- extras --------------------------------------------------------------------

    def check(self, company: str) -> list[str]:
        """Load the company's ledger with Beancount's own loader; its errors, as text."""
        try:
            from beancount import loader
        except ImportError as exc:
            raise ConfigurationError(
                "checking a ledger needs Beancount: pip install 'syncstate[beancount]'"
            ) from exc
        path = self.ledger_path(company)
        _entries, errors, _options = loader.load_file(str(path))
        return [f"{path}:{e.source.get('lineno', '?')}: {e.message}" for e in errors]

    @staticmethod
    def _check_company(company: str, documents: Sequence[Document]) -> None:
        for doc in documents:
            if doc.source.company != company:
                raise InputError(f"record {doc.source} does not belong to company {company!r}")


def open_ledger(
    path: str | os.PathLike[str],
    *,
    mappings: LedgerAccounts | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    currency: str = "USD",
    open_date: dt.date | str = dt.date(1970, 1, 1),
) -> BeancountBackend:
    """Entry-point factory: ``open_backend("beancount", path=..., mappings=...)``.

    ``path`` is the directory of the ledgers (one ``<company>.beancount`` each);
    ``mappings`` is a :class:`LedgerAccounts`, plain data for
    :meth:`LedgerAccounts.from_mapping`, or the path of a ``.toml`` or ``.json``
    file holding that data (handy from the command line:
    ``--backend-option mappings=books.toml``).
    """
    if mappings is None:
        accounts = LedgerAccounts()
    elif isinstance(mappings, LedgerAccounts):
        accounts = mappings
    elif isinstance(mappings, str | os.PathLike):
        accounts = LedgerAccounts.from_mapping(read_mappings(Path(mappings)))
    else:
        accounts = LedgerAccounts.from_mapping(mappings)
    if isinstance(open_date, str):
        open_date = dt.date.fromisoformat(open_date)
    return BeancountBackend(path, accounts=accounts, currency=currency, open_date=open_date)
