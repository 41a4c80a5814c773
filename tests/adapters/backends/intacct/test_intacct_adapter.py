"""The Intacct adapter against the local gateway: envelope, sessions, secrets, rules."""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal

import attrs
import httpx
import pytest
from intacct_support import SENDER_PASSWORD, USER_PASSWORD, Company, backend, credentials, seed

from syncstate.adapters.backends.intacct import IntacctBackend, IntacctCredentials, Secret
from syncstate.errors import (
    AuthenticationError,
    NotSent,
    RemoteNotFound,
    RemoteValidationError,
    SyncStateError,
    UnmappedReference,
)
from syncstate.ports import DocumentLine, RemoteRef
from syncstate.testing.backend_contract import sample_document
from syncstate.testing.intacct_server import IntacctServer

CO = "acme"


@pytest.fixture(scope="module")
def server() -> Iterator[IntacctServer]:
    with IntacctServer() as running:
        yield running


@attrs.define
class Setup:
    server: IntacctServer
    company: Company
    backend: IntacctBackend


@pytest.fixture
def setup(server: IntacctServer) -> Iterator[Setup]:
    server.faults = type(server.faults)()
    server.keep_requests = False
    server.requests_seen.clear()
    company = seed(server)
    with httpx.Client(timeout=5.0) as client:
        yield Setup(
            server, company, backend(server, client, {CO: company.company_id}, company.mapping)
        )


def test_a_write_is_sent_with_uniqueid_and_a_control_id_derived_from_the_key(
    setup: Setup,
) -> None:
    setup.server.keep_requests = True
    setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    writes = [ET.fromstring(b) for b in setup.server.requests_seen if b"<create>" in b]
    assert len(writes) == 1
    control = writes[0].find("control")
    assert control is not None
    assert control.findtext("uniqueid") == "true"
    assert control.findtext("dtdversion") == "3.0"
    assert writes[0].findtext("operation/authentication/sessionid")
    first_id = control.findtext("controlid")
    # the same key in another process gives the same control id; another key another one
    with httpx.Client(timeout=5.0) as client:
        other = backend(setup.server, client, {CO: setup.company.company_id}, setup.company.mapping)
        other.create(CO, sample_document(CO, 2), idempotency_key="key-0002")
        other.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    ids = [ET.fromstring(b).findtext("control/controlid") for b in setup.server.requests_seen
           if b"<create>" in b]  # fmt: skip
    assert ids[0] == first_id and ids[2] == first_id and ids[1] != first_id
    reads = [ET.fromstring(b) for b in setup.server.requests_seen if b"<readByQuery>" in b]
    assert reads and all(r.findtext("control/uniqueid") == "false" for r in reads)


def test_a_repeated_key_is_refused_by_the_gateway_and_resolved_by_query(setup: Setup) -> None:
    doc = sample_document(CO, 1)
    first = setup.backend.create(CO, doc, idempotency_key="key-0001")
    again = setup.backend.create(CO, doc, idempotency_key="key-0001")
    assert again.remote_id == first.remote_id
    assert setup.server.stats["duplicate_control_ids"] >= 1
    invoices = setup.server.records(setup.company.company_id, "ARINVOICE")
    assert [i.get("DOCNUMBER") for i in invoices].count("key-0001") == 1


def test_credentials_and_session_ids_never_reach_logs_reprs_or_errors(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="syncstate")
    setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    sessions = set(setup.server._sessions)
    setup.server.expire_sessions()
    setup.backend.create(CO, sample_document(CO, 2), idempotency_key="key-0002")
    sessions |= set(setup.server._sessions)
    setup.server.users = {(setup.company.company_id, "api-user"): "another password"}
    setup.server.expire_sessions()
    with pytest.raises(AuthenticationError) as refused:
        setup.backend.create(CO, sample_document(CO, 3), idempotency_key="key-0003")
    setup.server.users = None
    creds = credentials({CO: setup.company.company_id})
    shown = "\n".join(
        [
            caplog.text,
            repr(setup.backend),
            repr(creds),
            repr(creds.credentials(CO)),
            str(creds.credentials(CO)),
            str(refused.value),
            repr(refused.value.to_dict()),
        ]
    )
    assert sessions and "Intacct sign-in failed" in str(refused.value)
    for secret in (SENDER_PASSWORD, USER_PASSWORD, *sessions):
        assert secret not in shown
    assert repr(Secret("x")) == "Secret('***')" and Secret("x").reveal() == "x"


def test_an_expired_session_signs_in_once_more_and_the_write_goes_through(
    setup: Setup,
) -> None:
    setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    logins = setup.server.stats["logins"]
    setup.server.expire_sessions()
    ref = setup.backend.create(CO, sample_document(CO, 2), idempotency_key="key-0002")
    assert ref.remote_id and setup.server.stats["logins"] == logins + 1
    assert setup.server.count(setup.company.company_id, "ARINVOICE") == 3  # seeded + 2


def test_a_wrong_sender_is_an_authentication_error_naming_no_secret(setup: Setup) -> None:
    setup.server.senders = {"syncstate-test": "not the password"}
    try:
        with pytest.raises(AuthenticationError) as refused:
            setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    finally:
        setup.server.senders = None
    assert refused.value.code == "XL03000006" and SENDER_PASSWORD not in str(refused.value)


def test_a_batch_answers_every_function_by_its_control_id(setup: Setup) -> None:
    credit_line = attrs.evolve(
        sample_document(CO, 2), lines=(DocumentLine(item="consulting", amount=Decimal("-1")),)
    )
    unknown_customer = attrs.evolve(sample_document(CO, 3), party="client-9")
    items = [
        (sample_document(CO, 1), "key-0001"),
        (attrs.evolve(sample_document(CO, 4), party="client-1"), "bad key with spaces"),
        (unknown_customer, "key-0003"),
        (sample_document(CO, 5), "key-0005"),
        (credit_line, "key-0002"),
    ]
    results = setup.backend.create_batch(CO, items)
    assert isinstance(results[0], RemoteRef) and isinstance(results[3], RemoteRef)
    assert isinstance(results[1], RemoteValidationError) and "idempotency key" in str(results[1])
    assert isinstance(results[2], UnmappedReference)
    assert isinstance(results[4], RemoteRef)  # a credit line is still a valid invoice line
    assert setup.server.stats["writes"] >= 1


def test_a_function_failure_keeps_every_intacct_field(setup: Setup) -> None:
    doc = attrs.evolve(
        sample_document(CO, 1), lines=(DocumentLine(item="nowhere", amount=Decimal(5)),)
    )
    mapping = attrs.evolve(setup.company.mapping, accounts={"nowhere": "9999"})
    with httpx.Client(timeout=5.0) as client:
        other = backend(setup.server, client, {CO: setup.company.company_id}, mapping)
        with pytest.raises(RemoteValidationError) as refused:
            other.create(CO, doc, idempotency_key="key-0001")
    error = refused.value
    assert error.code == "BL01001973"
    assert "GL account on line 1" in error.message
    assert error.errors and error.errors[0]["code"] == "BL01001973"
    assert "\n" not in str(error)


def test_payments_apply_to_invoices_and_a_paid_invoice_cannot_be_deleted(setup: Setup) -> None:
    invoice = setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    payment = attrs.evolve(
        sample_document(CO, 2, kind="payment"),
        fields={"amount": "60.00", "invoice": invoice.remote_id},
    )
    paid = setup.backend.create(CO, payment, idempotency_key="key-0002")
    too_much = attrs.evolve(payment, fields={"amount": "60.00", "invoice": invoice.remote_id})
    with pytest.raises(RemoteValidationError, match="exceeds the amount due"):
        setup.backend.create(CO, too_much, idempotency_key="key-0003")
    with pytest.raises(RemoteValidationError, match="already paid"):
        setup.backend.delete(CO, invoice)
    setup.backend.delete(CO, paid)  # the payment goes first; then the invoice may
    setup.backend.delete(CO, invoice)
    with pytest.raises(RemoteNotFound):
        setup.backend.fetch_ref(CO, "invoice", invoice.remote_id)


def test_an_update_keeps_the_key_it_was_created_with(setup: Setup) -> None:
    ref = setup.backend.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    changed = sample_document(CO, 1, amount="250.00")
    setup.backend.update(CO, ref, changed, idempotency_key="key-0001-r1")
    (record,) = [
        r
        for r in setup.server.records(setup.company.company_id, "ARINVOICE")
        if r["RECORDNO"] == ref.remote_id
    ]
    assert record["DOCNUMBER"] == "key-0001" and Decimal(record["TOTALDUE"]) == Decimal(250)
    found = setup.backend.lookup(CO, "invoice", "key-0001")
    assert found is not None and found.remote_id == ref.remote_id


def test_an_unsupported_kind_is_refused_before_anything_is_sent(setup: Setup) -> None:
    requests = setup.server.stats["requests"]
    with pytest.raises(RemoteValidationError, match="does not create 'sales_receipt'"):
        setup.backend.create(
            CO, sample_document(CO, 1, kind="sales_receipt"), idempotency_key="key-0001"
        )
    assert setup.server.stats["requests"] == requests


def test_changes_since_reads_every_page_of_what_changed_remotely() -> None:
    now = [dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)]
    with IntacctServer(clock=lambda: now[0]) as server, httpx.Client(timeout=5.0) as client:
        company = seed(server)
        intacct = backend(server, client, {CO: company.company_id}, company.mapping, page_size=2)
        refs = [
            intacct.create(CO, sample_document(CO, n), idempotency_key=f"key-{n:04d}")
            for n in range(1, 6)
        ]
        since = now[0] + dt.timedelta(hours=1)
        now[0] = since + dt.timedelta(minutes=5)
        for ref in refs[:3]:
            server.edit(company.company_id, "ARINVOICE", ref.remote_id, DESCRIPTION="edited")
        intacct.update(CO, refs[3], sample_document(CO, 4, amount="9.00"), idempotency_key="u-4")
        queries = server.stats["queries"]
        changes = intacct.changes_since(CO, "invoice", since)
        assert server.stats["queries"] - queries == 2  # readByQuery, then readMore
        everything = intacct.changes_since(CO, "invoice", since, include_own=True)
    assert sorted(c.remote_id for c in changes) == sorted(r.remote_id for r in refs[:3])
    assert all(c.operation == "update" and c.company == CO for c in changes)
    assert {c.version for c in changes} == {"20260301100500"}
    assert all(c.at == now[0] for c in changes)
    assert all("modified by jane.ui" in c.detail for c in changes)
    assert {c.detail.split(",")[0] for c in changes} == {f"DOCNUMBER key-000{n}" for n in (1, 2, 3)}
    # with include_own, syncstate's own update shows too
    assert refs[3].remote_id in {c.remote_id for c in everything}


def test_deleted_finds_the_linked_records_intacct_no_longer_holds(setup: Setup) -> None:
    refs = [
        setup.backend.create(CO, sample_document(CO, n), idempotency_key=f"key-{n:04d}")
        for n in range(1, 4)
    ]
    setup.server.remove(setup.company.company_id, "ARINVOICE", refs[1].remote_id)
    gone = setup.backend.deleted(CO, "invoice", [r.remote_id for r in refs])
    assert [(c.remote_id, c.operation) for c in gone] == [(refs[1].remote_id, "delete")]


def test_errors_are_syncstate_errors_never_httpx(setup: Setup) -> None:
    with httpx.Client(timeout=5.0) as client:
        gone = IntacctBackend(
            credentials=credentials({CO: setup.company.company_id}),
            mapping=setup.company.mapping,
            client=client,
            config=attrs.evolve(
                setup.backend.config, endpoint_url="http://127.0.0.1:9/ia/xml/xmlgw.phtml"
            ),
        )
        with pytest.raises(SyncStateError) as caught:
            gone.create(CO, sample_document(CO, 1), idempotency_key="key-0001")
    assert isinstance(caught.value, NotSent)


def test_credentials_hide_their_passwords() -> None:
    creds = IntacctCredentials(
        sender_id="s", sender_password="pw-1", user_id="u", user_password="pw-2", company_id="C"
    )
    assert "pw-1" not in repr(creds) and "pw-2" not in repr(creds)
    assert creds.sender_password.reveal() == "pw-1"
