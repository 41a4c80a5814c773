"""Shared by the web panel tests: two companies' records, the host's users, form helpers.

``acme`` and ``globex`` each hold time entries in every state a page shows:
exported (with a remote id), failed (with the back end's message), not exported,
and, in acme, a record whose id, subject and message are HTML and script.
The host authenticates by the ``x-user`` header (as behind a signing-in proxy).
Needs the web extra (``starlette``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.testclient import TestClient

from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event
from syncstate.ports import StateStore
from syncstate.web import Viewer

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOSTILE_ID = "<script>alert('id')</script>"
HOSTILE_SUBJECT = "<img src=x onerror=alert(1)>"
HOSTILE_MESSAGE = "Customer <b>ACME</b> missing <script>alert('msg')</script>"

USERS = {
    "alice": Viewer(user="alice", companies={"acme"}, may_act=True),
    "bob": Viewer(user="bob", companies={"globex"}, may_act=True),
    "carol": Viewer(user="carol", companies={"acme"}, may_act=True),
    "reader": Viewer(user="reader", companies={"acme"}, may_act=False),
}


def authorize(request: Request) -> Viewer | None:
    """The host's rule: the signed-in user from the proxy's header."""
    return USERS.get(request.headers.get("x-user", ""))


def record(company: str, source_id: str, employee: str, day: int, **fields: str) -> SourceRecord:
    return SourceRecord(
        key=RecordKey(company, "time_entry", source_id),
        on=dt.date(2026, 3, day),
        subject=employee,
        fields={"hours": "8", "job": "J1", **fields},
    )


def seed(store: StateStore, company: str, prefix: str) -> None:
    """Records of ``company``: 4 exported, 2 failed, 2 not exported (ids ``PREFIX-n``)."""
    rows = [
        record(company, f"{prefix}-{n}", "emp-a" if n % 2 else "emp-b", n, doc_number=f"D{n}")
        for n in range(1, 9)
    ]
    if company == "acme":
        rows.append(record(company, HOSTILE_ID, HOSTILE_SUBJECT, 9, doc_number="<i>D9</i>"))
    store.ingest(company, rows, at=AT, actor="host")
    claim = Event.claim(worker="seed", lease_until=AT + dt.timedelta(hours=1))
    keys = [r.key for r in rows]
    store.apply(company, [(k, claim) for k in keys[:6]], at=AT, actor="seed")
    done = [(k, Event.succeed(f"R-{k.source_id}", "0")) for k in keys[:4]]
    failed = [(k, Event.fail(f"Customer {k.source_id} is not mapped")) for k in keys[4:6]]
    store.apply(company, done + failed, at=AT, actor="seed")
    if company == "acme":
        store.apply(company, [(keys[-1], claim)], at=AT, actor="seed")
        store.apply(company, [(keys[-1], Event.fail(HOSTILE_MESSAGE))], at=AT, actor="seed")


def client_for(app: object, user: str | None) -> TestClient:
    headers = {"x-user": user} if user else {}
    return TestClient(app, headers=headers, follow_redirects=False)  # type: ignore[arg-type]


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def state_of(store: StateStore, company: str, source_id: str) -> str:
    return store.get(RecordKey(company, "time_entry", source_id)).state.value


def receivables_ledger(path: object, company: str = "acme") -> object:
    """A repost ledger of ``company``: reposted, then a credit note the host forgot to repost.

    Diagnosing it finds stale balances of INV-1 (outstanding amount, clear flag, ...).
    """
    from decimal import Decimal

    from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
    from syncstate.domain.repost.receivables import Allocation, DocKind, ReceivableDocument
    from syncstate.services.repost import apply_plan, import_receivables, plan_receivables_repost

    def doc(ident: str, kind: DocKind, day: str, amount: str, pays: str = "") -> ReceivableDocument:
        on = dt.date.fromisoformat(day)
        paid = (Allocation(to=pays, amount=-Decimal(amount), date=on),) if pays else ()
        return ReceivableDocument(
            id=ident,
            kind=kind,
            client="CLIENT<1>",
            date=on,
            amount=Decimal(amount),
            allocations=paid,
        )

    start = dt.date(2026, 3, 1)
    ledger = SQLiteLedgerStore(str(path))
    documents = [
        doc("INV-1", DocKind.INVOICE, "2026-01-10", "1000.00"),
        doc("INV-2", DocKind.INVOICE, "2026-02-05", "500.00"),
    ]
    import_receivables(ledger, company, documents, period_start=start)
    apply_plan(ledger, plan_receivables_repost(ledger, company))
    late = doc("CN-1", DocKind.CREDIT_NOTE, "2026-02-20", "-400.00", pays="INV-1")
    import_receivables(ledger, company, [late], period_start=start)
    return ledger


def seed_bookings(store: StateStore, company: str) -> None:
    """Usage and payments of clients ``ann`` (pays at the desk) and ``bo`` (on account)."""
    from syncstate import Payment, UsageLog

    def use(sid: str, client: str, day: int, qty: str) -> UsageLog:
        return UsageLog(
            source_id=sid,
            client=client,
            date=dt.date(2026, 3, day),
            resource="meeting-room",
            quantity=qty,
            unit_price="40.00",
            currency="USD",
        )

    rows = [
        use("u1", "ann", 2, "2"),
        Payment(source_id="p1", client="ann", date=dt.date(2026, 3, 2), amount="80.00",
                currency="USD", method="card"),
        use("u2", "bo", 2, "3"),
        use("u3", "bo", 3, "1"),
        use("u4", "<b>eve</b>", 4, "1"),
    ]  # fmt: skip
    store.ingest(company, [r.to_record(company) for r in rows], at=AT, actor="host")


def events(client: TestClient, url: str) -> list[dict[str, Any]]:
    """Every progress event of a job, read until the stream ends (the job finished)."""
    found: list[dict[str, Any]] = []
    with client.stream("GET", url) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[len("data: ") :]))
    return found


def write_sie(path: Any, company: str, year: int, vouchers: int) -> Any:
    """An SIE 4E export of one calendar fiscal year with ``vouchers`` rent vouchers."""
    lines = [
        "#FLAGGA 0",
        "#FORMAT PC8",
        "#SIETYP 4",
        f'#FNAMN "{company}"',
        "#ORGNR 556677-8899",
        f"#RAR 0 {year}0101 {year}1231",
        '#KONTO 1930 "Bank"',
        '#KONTO 5010 "Rent"',
    ]
    for n in range(1, vouchers + 1):
        lines += [f'#VER A {n} {year}01{n:02d} "Rent {n}"', "{"]
        lines += ["   #TRANS 5010 {} 100.00", "   #TRANS 1930 {} -100.00", "}"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp437"))
    return path
