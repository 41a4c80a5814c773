"""Documents rendered as QuickBooks JSON; real QuickBooks entities read back."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.quickbooks.payloads import (
    QboMapping,
    dumps,
    find_tag,
    loads,
    ref_from_entity,
    render,
    tag_for,
)
from syncstate.domain.records import RecordKey
from syncstate.errors import RemoteValidationError, UnmappedReference
from syncstate.ports import Document, DocumentLine

MAPPING = QboMapping(customers={"c1": "58"}, items={"svc": "3"}, employees={"e1": "7"})
KEY = "0b5a8c9e-7f1d-5e7a-9c1b-2d3e4f5a6b7c"


def invoice(**changes: object) -> Document:
    base: dict[str, object] = {
        "kind": "invoice",
        "source": RecordKey("acme", "bundle", "b-1"),
        "date": dt.date(2026, 3, 2),
        "party": "c1",
        "lines": (DocumentLine(item="svc", quantity=Decimal("1.5"), unit_price=Decimal("80.00")),),
        "memo": "March work",
        "doc_number": "INV-7",
    }
    base.update(changes)
    return Document(**base)  # type: ignore[arg-type]


def test_invoice_renders_refs_lines_and_the_lookup_tag() -> None:
    body = render(invoice(), MAPPING, KEY)
    assert body["CustomerRef"] == {"value": "58"}
    assert body["DocNumber"] == "INV-7" and body["TxnDate"] == "2026-03-02"
    (line,) = body["Line"]
    assert line["Amount"] == Decimal("120.00")
    assert line["SalesItemLineDetail"]["ItemRef"] == {"value": "3"}
    assert body["PrivateNote"] == f"March work {tag_for(KEY)}"
    assert find_tag(body["PrivateNote"]) == KEY


def test_an_unmapped_customer_is_refused_before_sending_naming_the_record() -> None:
    with pytest.raises(UnmappedReference) as caught:
        render(invoice(party="nobody"), MAPPING, KEY)
    assert caught.value.what == "customer" and caught.value.host_id == "nobody"
    assert "acme/bundle/b-1" in str(caught.value)
    assert isinstance(caught.value, RemoteValidationError)


def test_an_unmapped_item_is_refused() -> None:
    doc = invoice(lines=(DocumentLine(item="mystery", amount=Decimal(5)),))
    with pytest.raises(UnmappedReference, match="mystery"):
        render(doc, MAPPING, KEY)


def test_time_activity_splits_decimal_hours_into_hours_and_minutes() -> None:
    doc = Document(
        kind="time_activity",
        source=RecordKey("acme", "time_entry", "t-1"),
        date=dt.date(2026, 3, 2),
        party="e1",
        fields={"hours": "7.75", "customer": "c1", "billable": "true"},
    )
    body = render(doc, MAPPING, KEY)
    assert (body["Hours"], body["Minutes"]) == (7, 45)
    assert body["EmployeeRef"] == {"value": "7"} and body["NameOf"] == "Employee"
    assert body["BillableStatus"] == "Billable"
    assert find_tag(body["Description"]) == KEY


def test_payment_applied_to_an_invoice_links_it() -> None:
    doc = Document(
        kind="payment",
        source=RecordKey("acme", "payment", "p-1"),
        date=dt.date(2026, 3, 3),
        party="c1",
        fields={"amount": "120.00", "applies_to": "239"},
    )
    body = render(doc, MAPPING, KEY)
    assert body["TotalAmt"] == Decimal("120.00")
    assert body["Line"][0]["LinkedTxn"] == [{"TxnId": "239", "TxnType": "Invoice"}]


def test_payment_spread_over_several_invoices_links_each_with_its_amount() -> None:
    doc = Document(
        kind="payment",
        source=RecordKey("acme", "payment", "p-2"),
        date=dt.date(2026, 3, 9),
        party="c1",
        fields={"amount": "150.00", "applications": "239=100.00;241=50"},
    )
    body = render(doc, MAPPING, KEY)
    assert body["TotalAmt"] == Decimal("150.00")
    assert [(line["LinkedTxn"][0]["TxnId"], line["Amount"]) for line in body["Line"]] == [
        ("239", Decimal("100.00")),
        ("241", Decimal("50.00")),
    ]


def test_unknown_kind_is_a_validation_error() -> None:
    with pytest.raises(RemoteValidationError, match="paycheck"):
        render(invoice(kind="paycheck"), MAPPING, KEY)


def test_retagging_replaces_the_old_tag_instead_of_piling_up() -> None:
    first = render(invoice(), MAPPING, "k1")["PrivateNote"]
    again = render(invoice(memo=first), MAPPING, "k2")["PrivateNote"]
    assert again.count("[syncstate:") == 1 and find_tag(again) == "k2"


def test_dumps_writes_decimals_exactly_and_refuses_floats() -> None:
    text = dumps({"Amount": Decimal("0.10"), "Qty": Decimal("3"), "Name": "Båt"})
    assert text == '{"Amount":0.10,"Qty":3,"Name":"Båt"}'.encode()
    assert loads(text)["Amount"] == Decimal("0.10")
    with pytest.raises(TypeError):
        dumps({"Amount": 0.1})


def test_mapping_is_read_only() -> None:
    with pytest.raises(TypeError):
        MAPPING.customers["c2"] = "1"  # type: ignore[index]


def test_real_entities_give_id_sync_token_and_number(shared_dir: Path) -> None:
    folder = shared_dir / "fixtures" / "qbo"
    created = loads((folder / "exquickbooks__sales_receipt_create_sales_receipt.json").read_bytes())
    voided = loads((folder / "exquickbooks__sales_receipt_void_sales_receipt.json").read_bytes())
    before = ref_from_entity("sales_receipt", created["SalesReceipt"])
    after = ref_from_entity("sales_receipt", voided["SalesReceipt"])
    assert (before.remote_id, before.version, before.doc_number) == ("6", "0", "1005")
    assert (after.remote_id, after.version) == ("6", "1")  # a void bumps the SyncToken
    module = (folder / "pipedream__new-invoice-updated_test-event.mjs").read_text()
    entity = json.loads(module.split("export default", 1)[1], parse_float=Decimal)
    ref = ref_from_entity("invoice", entity)
    assert (ref.remote_id, ref.version, ref.doc_number) == ("239", "0", "1070")
    assert entity["TotalAmt"] == Decimal("150.0")
