"""QuickBooks answers read from files: the project's own, and the real captured ones.

Each case runs over a payload file this project wrote (``tests/fixtures/qbo/``, shaped as
QuickBooks documents its answers) and, when ``../shared/fixtures/qbo/`` is present, over
the real captured payload of the same case: the suite is complete without the real
files, and they are a second layer when they are there.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from syncstate import RemoteValidationError, StaleVersionError
from syncstate.adapters.backends.quickbooks.faults import error_from_response, parse_fault
from syncstate.adapters.backends.quickbooks.payloads import loads, ref_from_entity
from syncstate.testing.qbo_server import QboServer

OWN = Path(__file__).resolve().parents[3] / "fixtures" / "qbo"
#: the real captured payloads (``../shared`` beside the clone; SYNCSTATE_SHARED overrides)
REAL = (
    Path(os.environ.get("SYNCSTATE_SHARED", Path(__file__).resolve().parents[5] / "shared"))
    / "fixtures"
    / "qbo"
)
#: case -> (our file, the real file's name in ../shared/fixtures/qbo)
CASES = {
    "stale": ("fault_stale_object.json", "exquickbooks__item_update_item_error.json"),
    "required": ("fault_required_param.json", "exquickbooks__item_create_item_error.json"),
    "parser": ("fault_query_parser.json", "exquickbooks__api_query_error.json"),
    "item": ("item_read.json", "exquickbooks__item_read_item.json"),
    "receipt": (
        "sales_receipt_create.json",
        "exquickbooks__sales_receipt_create_sales_receipt.json",
    ),
    "void": ("sales_receipt_void.json", "exquickbooks__sales_receipt_void_sales_receipt.json"),
}


@pytest.fixture(params=["own", "real"] if REAL.is_dir() else ["own"])
def payload(request: pytest.FixtureRequest) -> Iterator[object]:
    """A function reading a case's payload from the chosen layer (the real one if present)."""
    if request.param == "own":
        yield lambda case: (OWN / CASES[case][0]).read_bytes()
    else:
        yield lambda case: (REAL / CASES[case][1]).read_bytes()


def test_a_stale_object_fault_with_non_ascii_detail(payload: object) -> None:
    error = error_from_response(400, payload("stale"))  # type: ignore[operator]
    assert isinstance(error, StaleVersionError)
    assert error.code == "5010" and error.message == "Stale Object Error"
    assert error.detail is not None and not error.detail.isascii()
    assert "\n" not in str(error)


def test_a_required_parameter_fault_names_the_element(payload: object) -> None:
    error = error_from_response(400, payload("required"))  # type: ignore[operator]
    assert isinstance(error, RemoteValidationError) and error.code == "2020"
    assert error.detail is not None and "Name" in error.detail
    assert error.errors[0]["code"] == "2020"


def test_a_query_parser_fault_keeps_its_multi_line_detail_but_prints_one_line(
    payload: object,
) -> None:
    body = payload("parser")  # type: ignore[operator]
    parsed = parse_fault(body)
    assert parsed is not None and parsed.first.code == "4000" and parsed.first.element == ""
    error = error_from_response(400, body)
    assert type(error) is RemoteValidationError
    assert "\n" in (error.detail or "") and "\n" not in str(error)


def test_a_success_body_is_not_a_fault(payload: object) -> None:
    assert parse_fault(payload("item")) is None  # type: ignore[operator]


def test_a_void_keeps_the_id_and_bumps_the_sync_token(payload: object) -> None:
    created = loads(payload("receipt"))["SalesReceipt"]  # type: ignore[operator]
    voided = loads(payload("void"))["SalesReceipt"]  # type: ignore[operator]
    before = ref_from_entity("sales_receipt", created)
    after = ref_from_entity("sales_receipt", voided)
    assert before.remote_id == after.remote_id and before.doc_number is not None
    assert int(after.version or 0) == int(before.version or 0) + 1
    assert Decimal(str(voided["TotalAmt"])) == 0  # a voided receipt keeps no amount


def test_an_entity_gives_id_sync_token_and_number() -> None:
    entity = json.loads((OWN / "invoice_entity.json").read_text(), parse_float=Decimal)
    ref = ref_from_entity("invoice", entity)
    assert (ref.remote_id, ref.version, ref.doc_number) == ("317", "0", "1188")
    assert entity["TotalAmt"] == Decimal("375.5")


def test_the_local_server_answers_in_the_same_shape(payload: object) -> None:
    receipt = loads(payload("receipt"))["SalesReceipt"]  # type: ignore[operator]
    fault = json.loads(payload("stale"))  # type: ignore[operator]
    realm = f"shape-{uuid.uuid4().hex[:8]}"
    with QboServer() as server, httpx.Client(headers={"Authorization": "Bearer x"}) as client:
        customer = server.add(realm, "Customer", {"DisplayName": "Kim"})
        item = server.add(realm, "Item", {"Name": "Desk"})
        body = {
            "CustomerRef": {"value": customer},
            "TxnDate": "2026-03-04",
            "Line": [
                {"Amount": "250.00", "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1,
                                         "UnitPrice": "250.00"}},
            ],
        }  # fmt: skip
        created = client.post(f"{server.base_url}/v3/company/{realm}/salesreceipt", json=body)
        ours = created.json()["SalesReceipt"]
        for field in ("Id", "SyncToken", "TxnDate", "TotalAmt", "Line", "MetaData"):
            assert field in receipt and field in ours
        assert isinstance(ours["Id"], str) and isinstance(ours["SyncToken"], str)
        missing = client.get(f"{server.base_url}/v3/company/{realm}/item/999")
        assert missing.status_code == 400
        assert set(missing.json()) == set(fault)
        assert set(missing.json()["Fault"]["Error"][0]) >= {"Message", "Detail", "code"}
