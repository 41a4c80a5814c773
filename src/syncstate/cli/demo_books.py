"""The books ``syncstate demo`` exports to: a local server per back end, or SIE files.

:func:`open_books` starts what the back end talks to (the local QuickBooks-,
Intacct- or Xero-like server of :mod:`syncstate.testing` on 127.0.0.1, or a folder
of SIE 4I files), seeds the demo company's employees, jobs and accounts, and opens
the back end on it. Time records become QuickBooks ``TimeActivity`` documents and
Intacct timesheets; Xero's Accounting API and SIE keep no timesheets, so there a
time record is exported as a labour-cost journal (hours times the employee's
hourly cost, against wages payable), rendered by the demo as a host would.
:class:`DemoBooks` also says what its back end cannot do, so the tour can skip a
step with one line naming the missing capability.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx

from syncstate.cli.demo_beancount import COST_RATES
from syncstate.domain.records import TimeEntry
from syncstate.errors import InputError
from syncstate.ports import AccountingBackend, Capability, Document, DocumentLine, StoredRecord
from syncstate.services.rendering import Renderer

__all__ = ["BACKENDS", "DemoBooks", "Tokens", "labour_journal", "open_books"]

#: the back ends the demo runs on (beancount has a tour of its own)
BACKENDS = ("quickbooks", "intacct", "xero", "sie")
#: what the bundling section of the tour sends: the document kinds it needs
BUNDLING_KINDS = ("sales_receipt", "invoice", "payment", "customer")
#: hourly payroll cost per employee; zoe is a subcontractor, not on payroll
PAYROLL_RATES = {e: rate for e, rate in COST_RATES.items() if e != "zoe"}


class Tokens:
    """The host's OAuth tokens; the demo's local servers accept any."""

    def access_token(self, company: str) -> str:
        """A token the local server accepts."""
        return "demo-access-token"

    def refresh(self, company: str) -> str:
        """The same token again."""
        return "demo-access-token"


@attrs.define(kw_only=True)
class DemoBooks:
    """One back end of the demo and what the tour says about it."""

    #: ``quickbooks``, ``intacct``, ``xero`` or ``sie``
    key: str
    #: how the tour names it (``QuickBooks``, ``Sage Intacct``, ...)
    title: str
    backend: AccountingBackend
    #: where it runs (a local server's URL, or the folder of the files)
    where: str
    #: the time documents it holds now, without the removed, voided or reversed ones
    count: Callable[[], int]
    #: ``N <noun>`` phrase of :meth:`holds` (``TimeActivity documents``, ``vouchers``)
    noun: str
    #: what a reverse export does there (``removed``, ``voided``, ...)
    reversal: str
    #: injects the faults of the first export; returns the sentence that tells them
    faults: Callable[[], str]
    #: document kinds the back end creates
    kinds: frozenset[str]
    renderers: Mapping[str, Renderer] = attrs.field(factory=dict)
    #: the local QuickBooks-like server and the HTTP client (the bundling section uses them)
    server: Any = None
    client: httpx.Client | None = None
    #: the folder of the SIE files (SIE only)
    folder: Path | None = None

    def holds(self, documents: int) -> str:
        """``QuickBooks holds 60 TimeActivity documents`` (``The SIE files hold ...``)."""
        if self.key == "sie":
            return f"The SIE files hold {documents} {self.noun}"
        return f"{self.title} holds {documents} {self.noun}"

    def lacks(self, capability: Capability) -> bool:
        """True when the back end does not declare ``capability``."""
        return capability not in self.backend.capabilities

    def bundling_gap(self) -> str:
        """Why the bundling section cannot run here ("" when it can)."""
        missing = [k.replace("_", " ") + "s" for k in BUNDLING_KINDS if k not in self.kinds]
        gaps = [f"creates no {', '.join(missing)}"] if missing else []
        if self.lacks(Capability.UPDATE):
            gaps.append("cannot update an exported document (it lacks the 'update' capability)")
        if not gaps and self.key != "quickbooks":
            gaps.append("has no local server for the coworking company in this demo")
        return f"the {self.title} back end {' and '.join(gaps)}" if gaps else ""


def labour_journal(stored: StoredRecord) -> Document:
    """A time record as a balanced labour-cost journal: debit its cost code, credit payroll.

    The amount is the hours times the employee's hourly cost; an employee without one
    (zoe, a subcontractor) is refused, and the record fails with that reason.
    """
    entry = TimeEntry.from_record(stored.record)
    rate = PAYROLL_RATES.get(entry.employee)
    if rate is None:
        raise InputError(f"employee {entry.employee!r} has no hourly cost; record {stored.key}")
    cost = (Decimal(entry.hours) * Decimal(rate)).quantize(Decimal("0.01"))
    text = f"{entry.employee} {entry.hours} h, {entry.job} {entry.cost_code}"
    return Document(
        kind="manual_journal",
        source=stored.key,
        date=entry.date,
        party=entry.employee,
        fields={"hours": str(entry.hours)},
        lines=(
            DocumentLine(item=entry.cost_code, description=text, amount=cost),
            DocumentLine(item="payroll", description=text, amount=-cost),
        ),
        memo=f"Labour {text}",
    )


def _network_faults(server: Any, sentence: str) -> Callable[[], str]:
    """The first export's faults at a local server: every answer 20 ms late, one dropped
    connection, one failure after the commit; the returned callable injects them and
    answers ``sentence``, which tells them."""

    def faults() -> str:
        server.faults.latency = 0.02
        server.reset_next(1)
        server.commit_then_fail(1)
        return sentence

    return faults


@contextlib.contextmanager
def open_books(
    name: str, company: str, folder: Path, mapping: Mapping[str, Mapping[str, str]]
) -> Iterator[DemoBooks]:
    """Start the books of back end ``name`` and open the back end on them.

    ``mapping`` holds the demo company's ``employees`` (without zoe), ``jobs`` and
    ``cost_codes`` (id → display name).
    """
    opener = {"quickbooks": _quickbooks, "intacct": _intacct, "xero": _xero, "sie": _sie}[name]
    with contextlib.ExitStack() as stack:
        yield opener(stack, company, folder, mapping)


def _quickbooks(
    stack: contextlib.ExitStack, company: str, _folder: Path, names: Mapping[str, Mapping[str, str]]
) -> DemoBooks:
    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.payloads import ENTITIES, QboMapping
    from syncstate.testing.qbo_server import QboServer

    server = stack.enter_context(QboServer())
    client = stack.enter_context(httpx.Client(timeout=10.0))
    realm = "9130355377"
    mapping = QboMapping(
        employees={e: server.add(realm, "Employee", {"DisplayName": n})
                   for e, n in names["employees"].items()},
        customers={j: server.add(realm, "Customer", {"DisplayName": n})
                   for j, n in names["jobs"].items()},
        items={c: server.add(realm, "Item", {"Name": n}) for c, n in names["cost_codes"].items()},
    )  # fmt: skip
    backend = QuickBooksBackend(
        tokens=Tokens(),
        mapping=mapping,
        client=client,
        config=QuickBooksConfig(base_url=server.base_url, realms={company: realm}),
    )

    network = _network_faults(
        server,
        "The server is slow (20 ms), throttles once (429), drops one connection, and "
        "fails once AFTER committing.",
    )

    def faults() -> str:
        server.fail_next("ThrottleExceeded", "Too many requests", status=429)
        return network()

    return DemoBooks(
        key="quickbooks",
        title="QuickBooks",
        backend=backend,
        where=f"local QuickBooks-like server at {server.base_url} (realm {realm})",
        count=lambda: server.count(realm, "TimeActivity"),
        noun="TimeActivity documents",
        reversal="QuickBooks documents removed",
        faults=faults,
        kinds=frozenset(ENTITIES),
        server=server,
        client=client,
    )


def _intacct(
    stack: contextlib.ExitStack, company: str, _folder: Path, names: Mapping[str, Mapping[str, str]]
) -> DemoBooks:
    from syncstate.adapters.backends.intacct import (
        IntacctBackend,
        IntacctConfig,
        IntacctCredentials,
        IntacctMapping,
        StaticCredentials,
    )
    from syncstate.adapters.backends.intacct.payloads import OBJECTS
    from syncstate.testing.intacct_server import IntacctServer

    server = stack.enter_context(IntacctServer())
    client = stack.enter_context(httpx.Client(timeout=10.0))
    company_id = "ACME-BUILDERS"
    for e, n in names["employees"].items():
        server.add(company_id, "EMPLOYEE", {"EMPLOYEEID": f"E-{e.upper()}", "NAME": n})
    for j, n in names["jobs"].items():
        server.add(company_id, "CUSTOMER", {"CUSTOMERID": j, "NAME": n})
    for c, n in names["cost_codes"].items():
        server.add(company_id, "ITEM", {"ITEMID": c.upper(), "NAME": n})
    login = IntacctCredentials(
        sender_id="syncstate-demo", sender_password="demo", user_id="demo",
        user_password="demo", company_id=company_id,
    )  # fmt: skip
    backend = IntacctBackend(
        credentials=StaticCredentials({company: login}),
        mapping=IntacctMapping(
            employees={e: f"E-{e.upper()}" for e in names["employees"]},
            customers={j: j for j in names["jobs"]},
            items={c: c.upper() for c in names["cost_codes"]},
        ),
        config=IntacctConfig(endpoint_url=server.endpoint_url),
        client=client,
    )

    faults = _network_faults(
        server,
        "The gateway is slow (20 ms), drops one connection, and fails once AFTER "
        "committing (Intacct refuses a resent request, so the lost answer is found by key).",
    )

    return DemoBooks(
        key="intacct",
        title="Sage Intacct",
        backend=backend,
        where=f"local Sage-Intacct-like gateway at {server.endpoint_url} (company {company_id})",
        count=lambda: server.count(company_id, "TIMESHEET"),
        noun="timesheets",
        reversal="Intacct timesheets deleted",
        faults=faults,
        kinds=frozenset(OBJECTS),
        client=client,
    )


def _journal_accounts(names: Mapping[str, Mapping[str, str]], expense: str) -> dict[str, str]:
    return {code: expense for code in names["cost_codes"]}


def _xero(
    stack: contextlib.ExitStack, company: str, _folder: Path, names: Mapping[str, Mapping[str, str]]
) -> DemoBooks:
    from syncstate.adapters.backends.xero import XeroBackend, XeroConfig, XeroMapping
    from syncstate.adapters.backends.xero.payloads import ENTITIES
    from syncstate.testing.xero_server import XeroServer

    server = stack.enter_context(XeroServer())
    server.faults.minute_limit = None  # the demo does not wait a minute for Xero's limit
    client = stack.enter_context(httpx.Client(timeout=10.0))
    tenant = "a3b1c2d4-0000-4000-8000-acmebuilders"
    server.add(tenant, "Accounts", {"Code": "477", "Name": "Wages and Salaries", "Type": "EXPENSE"})
    server.add(tenant, "Accounts", {"Code": "814", "Name": "Wages Payable", "Type": "LIABILITY"})
    accounts = {**_journal_accounts(names, "477"), "payroll": "814"}
    backend = XeroBackend(
        tokens=Tokens(),
        mapping=XeroMapping(accounts=accounts),
        config=XeroConfig(base_url=server.base_url, tenants={company: tenant}),
        client=client,
    )

    faults = _network_faults(
        server,
        "The server is slow (20 ms), drops one connection, and fails once AFTER "
        "committing. Xero's accounting API keeps no timesheets: each record becomes a "
        "labour-cost manual journal.",
    )

    def live() -> int:
        rows = server.documents(tenant, "ManualJournals")
        return sum(1 for r in rows if r.get("Status") not in ("VOIDED", "DELETED"))

    return DemoBooks(
        key="xero",
        title="Xero",
        backend=backend,
        where=f"local Xero-like server at {server.base_url} (organisation {tenant[:8]}...)",
        count=live,
        noun="posted manual journals",
        reversal="Xero manual journals voided",
        faults=faults,
        kinds=frozenset(ENTITIES),
        renderers={TimeEntry.KIND: labour_journal},
        client=client,
    )


def _sie(
    _stack: contextlib.ExitStack, company: str, folder: Path, names: Mapping[str, Mapping[str, str]]
) -> DemoBooks:
    from syncstate.adapters.backends.sie.export_backend import SieExportBackend
    from syncstate.adapters.backends.sie.export_vouchers import KINDS, SieExportMapping

    files = folder / "sie"
    for old in (*(files / company).glob("*.si"), files / company / ".lock"):
        old.unlink(missing_ok=True)  # the files of an earlier run: every run starts afresh
    mapping = SieExportMapping(
        accounts={**_journal_accounts(names, "7010"), "payroll": "2820"},
        names={
            "7010": "Löner till kollektivanställda",
            "2820": "Kortfristiga skulder till anställda",
        },
    )
    backend = SieExportBackend(
        files, mapping=mapping, company_names={company: "Acme Builders"}, max_batch=25
    )

    def faults() -> str:
        return (
            "Each export writes one SIE 4I file of vouchers, whole or not at all; a time "
            "record becomes a labour-cost voucher."
        )

    return DemoBooks(
        key="sie",
        title="SIE",
        backend=backend,
        where=f"SIE 4I files in {files / company}",
        count=lambda: live_vouchers(files / company),
        noun="vouchers in force",
        reversal="SIE vouchers reversed by a reversal voucher each",
        faults=faults,
        kinds=frozenset(KINDS),
        renderers={TimeEntry.KIND: labour_journal},
        folder=files / company,
    )


def live_vouchers(folder: Path) -> int:
    """Vouchers of the files in ``folder`` that carry a key and are not reversed."""
    from syncstate.adapters.backends.sie.export_vouchers import key_in_text, reversed_in_text
    from syncstate.adapters.backends.sie.parser import read_sie

    keyed: set[str] = set()
    reversed_ids: set[str] = set()
    for path in sorted(folder.glob("*.si")):
        for voucher in read_sie(path).document.vouchers:
            original = reversed_in_text(voucher.text)
            if original is not None:
                reversed_ids.add(original)
            elif key_in_text(voucher.text) is not None:
                keyed.add(f"{voucher.series}-{voucher.number}")
    return len(keyed - reversed_ids)
