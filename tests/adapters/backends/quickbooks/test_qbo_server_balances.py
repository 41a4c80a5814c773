"""The local QuickBooks-like server moves invoice balances as QuickBooks does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from syncstate.testing.qbo_server import QboServer


@pytest.fixture
def api() -> Iterator[tuple[QboServer, httpx.Client, str]]:
    with QboServer() as server, httpx.Client(headers={"Authorization": "Bearer t"}) as client:
        yield server, client, f"bal-{uuid.uuid4().hex[:8]}"


def post(api: tuple[QboServer, httpx.Client, str], path: str, body: Any, **params: str) -> Any:
    server, client, realm = api
    answer = client.post(f"{server.base_url}/v3/company/{realm}/{path}", json=body, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def balance(api: tuple[QboServer, httpx.Client, str], invoice: str) -> Decimal:
    server, _client, realm = api
    (found,) = [d for d in server.documents(realm, "Invoice") if d["Id"] == invoice]
    return Decimal(str(found["Balance"]))


def test_payments_lower_the_invoice_balance_and_voids_give_it_back(
    api: tuple[QboServer, httpx.Client, str],
) -> None:
    server, _client, realm = api
    customer = server.add(realm, "Customer", {"DisplayName": "Kim"})
    item = server.add(realm, "Item", {"Name": "Desk"})
    detail = {"ItemRef": {"value": item}, "Qty": 3, "UnitPrice": "100.00"}
    line = {"Amount": "300.00", "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    invoice = post(api, "invoice", {"CustomerRef": {"value": customer}, "Line": [line]})
    ident = invoice["Invoice"]["Id"]
    assert balance(api, ident) == Decimal("300.00")

    def pay(amount: str) -> Any:
        link = [{"Amount": amount, "LinkedTxn": [{"TxnId": ident, "TxnType": "Invoice"}]}]
        body = {"CustomerRef": {"value": customer}, "TotalAmt": amount, "Line": link}
        return post(api, "payment", body)["Payment"]

    first = pay("120.00")
    assert balance(api, ident) == Decimal("180.00")
    pay("180.00")
    assert balance(api, ident) == Decimal("0.00")
    voided = {"Id": first["Id"], "SyncToken": first["SyncToken"]}
    post(api, "payment", voided, operation="update", include="void")
    assert balance(api, ident) == Decimal("120.00")
