"""The Xero adapter through real HTTP against the local Xero-like server."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import attrs
import pytest

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    RemoteValidationError,
    ThrottledError,
    UnmappedReference,
)
from syncstate.ports import Document, DocumentLine, RemoteRef
from syncstate.testing.backend_contract import sample_document
from xero_helpers import SECRET, Org


def invoice(n: int = 1, *, amount: str = "100.00", item: str = "consulting") -> Document:
    return sample_document("acme", n, amount=amount, item=item)


def payment(invoice_id: str, amount: str, n: int = 50) -> Document:
    doc = sample_document("acme", n, kind="payment", amount=amount)
    return attrs.evolve(doc, fields={"applies_to": invoice_id, "amount": amount})


def test_every_request_names_the_tenant_and_every_write_carries_its_key(org: Org) -> None:
    ref = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    org.backend.lookup("acme", "invoice", "key-0001")
    org.backend.fetch_ref("acme", "invoice", ref.remote_id)
    seen = [s for s in org.server.seen if s[2].get("xero-tenant-id") == org.tenant]
    assert [method for method, _path, _h in seen] == ["PUT", "GET", "GET"]
    assert seen[0][2]["idempotency-key"] == "key-0001"
    assert all("idempotency-key" not in headers for _m, _p, headers in seen[1:])
    (stored,) = org.documents()
    assert stored["Reference"] == "[syncstate:key-0001]" and stored["Total"] == Decimal("100.00")


def test_a_repeated_key_replays_the_first_answer_and_a_changed_request_is_ambiguous(
    org: Org,
) -> None:
    first = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    again = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    assert again == first and org.server.stats["replays"] >= 1
    with pytest.raises(AmbiguousOutcome) as caught:
        org.backend.create("acme", invoice(amount="5.00"), idempotency_key="key-0001")
    assert caught.value.code == "IdempotencyKeyReused"
    assert len(org.documents()) == 1


def test_past_the_replay_window_only_the_lookup_by_reference_prevents_a_duplicate(
    org: Org,
) -> None:
    org.server.faults.idempotency_window = 0.0  # six minutes have passed
    first = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    assert org.backend.lookup("acme", "invoice", "key-0001") == first
    with pytest.raises(RemoteValidationError, match="must be unique"):
        org.backend.create("acme", invoice(), idempotency_key="key-0001")  # same number


def test_a_key_xero_cannot_take_is_refused_before_anything_is_sent(org: Org) -> None:
    before = org.server.stats["requests"]
    for bad in ("k" * 129, "", 'has"quote'):
        with pytest.raises(RemoteValidationError):
            org.backend.create("acme", invoice(), idempotency_key=bad)
    with pytest.raises(UnmappedReference):
        org.backend.create("acme", invoice(item="unmapped"), idempotency_key="key-0002")
    assert org.server.stats["requests"] == before


def test_a_batch_answers_each_element_with_its_own_validation_error(org: Org) -> None:
    items = [(invoice(n, item="ghost" if n == 2 else "consulting"), f"b-{n}") for n in (1, 2, 3)]
    results = org.backend.create_batch("acme", items)
    assert isinstance(results[0], RemoteRef) and isinstance(results[2], RemoteRef)
    assert isinstance(results[1], RemoteValidationError)
    assert "Item code 'NO-SUCH-CODE' is not valid" in str(results[1])
    assert org.backend.lookup("acme", "invoice", "b-2") is None
    assert len(org.documents()) == 2


def test_a_paid_invoice_cannot_be_voided_and_the_error_says_why(org: Org) -> None:
    ref = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    paid = org.backend.create("acme", payment(ref.remote_id, "100.00"), idempotency_key="pay-1")
    with pytest.raises(RemoteValidationError, match="payments or credits applied") as caught:
        org.backend.delete("acme", ref)
    assert "remove them in Xero first" in str(caught.value)
    org.backend.delete("acme", paid)  # the payment is deleted: the invoice is unpaid again
    org.backend.delete("acme", ref)
    assert [d["Status"] for d in org.documents()] == ["VOIDED"]


def test_a_draft_invoice_is_deleted_and_no_longer_found_by_its_key(org: Org) -> None:
    draft = attrs.evolve(invoice(), fields={"status": "DRAFT"})
    ref = org.backend.create("acme", draft, idempotency_key="key-0001")
    org.backend.delete("acme", ref)
    org.backend.delete("acme", ref)  # already deleted: nothing more to do
    assert [d["Status"] for d in org.documents()] == ["DELETED"]
    assert org.backend.lookup("acme", "invoice", "key-0001") is None


def test_an_update_keeps_the_original_key_and_checks_the_version(org: Org) -> None:
    ref = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    updated = org.backend.update("acme", ref, invoice(amount="250.00"), idempotency_key="key-0002")
    assert updated.remote_id == ref.remote_id and updated.version != ref.version
    (stored,) = org.documents()
    assert stored["Total"] == Decimal("250.00") and stored["Reference"] == "[syncstate:key-0001]"
    assert org.backend.lookup("acme", "invoice", "key-0001") == updated


@pytest.mark.parametrize("problem", ["minute", "concurrent"])
def test_throttling_says_which_limit_and_how_long_to_wait(org: Org, problem: str) -> None:
    if problem == "minute":
        org.server.faults.minute_limit = 1
        org.backend.lookup("acme", "invoice", "key-0001")
    else:
        org.server.faults.concurrent_limit = 0
    with pytest.raises(ThrottledError) as caught:
        org.backend.create("acme", invoice(), idempotency_key="key-0001")
    assert caught.value.code == problem and caught.value.status == 429
    if problem == "minute":
        assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 60
    assert org.documents() == []


def test_a_throttled_write_is_not_kept_under_its_key_so_the_retry_creates_it(org: Org) -> None:
    """Xero's rate limiter answers 429 before the idempotency layer: the retry with the
    same key is processed, not answered with the 429 again."""
    org.server.fail_next(429, {})
    with pytest.raises(ThrottledError):
        org.backend.create("acme", invoice(), idempotency_key="key-0001")
    ref = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    (stored,) = org.documents()
    assert stored["InvoiceID"] == ref.remote_id


def test_remaining_limits_are_read_from_every_answer(org: Org) -> None:
    org.backend.lookup("acme", "invoice", "key-0001")
    org.backend.lookup("acme", "invoice", "key-0002")
    assert org.backend.remaining["acme"] == {"minute": 58, "day": 4998}


def test_an_expired_token_is_refreshed_once(org: Org) -> None:
    org.server.valid_tokens = {SECRET + "-fresh"}
    assert org.backend.create("acme", invoice(), idempotency_key="key-0001").remote_id
    assert org.tokens.refreshes == 1


def test_tokens_never_reach_logs_reprs_or_errors(
    org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    org.server.valid_tokens = {"something-else"}
    with pytest.raises(AuthenticationError) as caught:
        org.backend.create("acme", invoice(), idempotency_key="key-0001")
    assert caught.value.status == 401 and org.tokens.refreshes == 1

    class Failing:
        def access_token(self, company: str) -> str:
            raise RuntimeError(f"vault said no for {SECRET}")

        def refresh(self, company: str) -> str:
            raise RuntimeError(SECRET)

    broken = attrs.evolve(
        org,
        backend=type(org.backend)(
            tokens=Failing(), mapping=org.backend._mapping, config=org.backend.config
        ),
    )
    with pytest.raises(AuthenticationError) as failed:
        broken.backend.create("acme", invoice(), idempotency_key="key-0002")
    texts = [
        str(caught.value),
        repr(caught.value),
        str(caught.value.to_dict()),
        str(failed.value),
        repr(org.backend),
        repr(org.backend.config),
        caplog.text,
        *(str(s) for s in org.server.seen),
    ]
    assert all(SECRET not in text for text in texts)
    assert any(r.levelno == logging.DEBUG and "Xero PUT" in r.getMessage() for r in caplog.records)


def test_a_payment_and_a_journal_are_found_by_their_keys(org: Org) -> None:
    ref = org.backend.create("acme", invoice(), idempotency_key="key-0001")
    pay = org.backend.create("acme", payment(ref.remote_id, "40.00"), idempotency_key="pay-1")
    lines = (
        DocumentLine(item="bank", amount=Decimal("40.00")),
        DocumentLine(item="sales", amount=Decimal("-40.00")),
    )
    journal = attrs.evolve(sample_document("acme", 7, kind="manual_journal"), lines=lines)
    posted = org.backend.create("acme", journal, idempotency_key="mj-1")
    assert org.backend.lookup_many("acme", "payment", ["pay-1", "nope"]) == {"pay-1": pay}
    assert org.backend.lookup("acme", "manual_journal", "mj-1") == posted
    (stored,) = org.documents()
    assert (stored["AmountPaid"], stored["AmountDue"]) == (Decimal("40.00"), Decimal("60.00"))


def test_lookup_many_asks_twenty_keys_a_query_and_honours_the_lookup_window(org: Org) -> None:
    items = [(invoice(n), f"b-{n:02d}") for n in range(1, 46)]
    refs = org.backend.create_batch("acme", items)
    before = org.server.stats["queries"]
    found = org.backend.lookup_many("acme", "invoice", [key for _doc, key in items])
    assert org.server.stats["queries"] - before == 3  # 45 keys: 20 + 20 + 5
    assert [found[key] for _doc, key in items] == refs

    class Later:
        def now(self) -> dt.datetime:
            return dt.datetime.now(dt.UTC) + dt.timedelta(days=2)

    config = attrs.evolve(org.backend.config, lookup_window=dt.timedelta(days=1))
    mapping = org.backend._mapping
    with (
        XeroBackend(tokens=org.tokens, mapping=mapping, config=config, clock=Later()) as later,
        XeroBackend(tokens=org.tokens, mapping=mapping, config=config) as now,
    ):
        assert later.lookup("acme", "invoice", "b-01") is None  # older than the window
        assert now.lookup("acme", "invoice", "b-01") == refs[0]
    seen = [h for _m, _p, h in org.server.seen if "if-modified-since" in h]
    assert len(seen) == 2
